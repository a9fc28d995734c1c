"""Tag composition exactly as DESIGN §5.1 (ACR's rule), and the reasons a tag is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from conveyor.build.refs import GitRef
from conveyor.build.rules import match_rule
from conveyor.build.tagging import TagError, compose_tags, push_time
from conveyor.chains.schema import BuildRule

COMMIT = "d4ef3dc3b77a011a5779eec7efdd45e0a2f1b3c4"
# 2020-10-15 16:25 in UTC+8
PUSHED = datetime(2020, 10, 15, 8, 25, 31, tzinfo=UTC)


def rule(ref: str, *tags: dict[str, Any], type: str = "branch") -> BuildRule:
    return BuildRule.model_validate({"type": type, "ref": ref, "tags": list(tags)})


def test_the_design_example() -> None:
    r = rule(
        r"release-(?<imageTag>\w*)",
        {"tag": "${imageTag}", "buildTime": "yyyyMMddHHmm", "commitId": 30},
    )
    groups = match_rule(r, GitRef("branch", "release-v1"))
    assert groups == {"imageTag": "v1"}
    assert compose_tags(r, groups, PUSHED, COMMIT, 8) == [
        "v1-202010151625-d4ef3dc3b77a011a5779eec7efdd45"
    ]


def test_each_part_is_optional_and_up_to_three_tags() -> None:
    r = rule(
        r"release-(?P<major>\d+)\.(?P<minor>\d+)",
        {"tag": "${major}.${minor}"},
        {"tag": "v${major}", "buildTime": "yyyyMMdd"},
        {"tag": "latest", "commitId": 6},
    )
    groups = match_rule(r, GitRef("branch", "release-2.7"))
    assert groups is not None
    assert compose_tags(r, groups, PUSHED, COMMIT, 8) == ["2.7", "v2-20201015", "latest-d4ef3d"]


def test_push_time_is_utc_plus_8_unless_configured() -> None:
    late = datetime(2020, 10, 15, 20, 5, tzinfo=UTC)  # already the 16th in UTC+8
    assert push_time(late, "yyyyMMdd", 8) == "20201016"
    assert push_time(late, "yyyyMMddHHmm", 8) == "202010160405"
    assert push_time(late, "yyyyMMddHHmm", 0) == "202010152005"
    assert push_time(late, "yyyyMMddHHmm", -5.5) == "202010151435"


def test_repeated_tags_are_pushed_once() -> None:
    r = rule("main", {"tag": "latest"}, {"tag": "latest"})
    assert compose_tags(r, {}, PUSHED, COMMIT, 8) == ["latest"]


@pytest.mark.parametrize(
    ("ref", "name", "template", "reason"),
    [
        (r"(?<t>.*)", "-dash", {"tag": "${t}"}, "not a valid OCI tag"),
        (r"(?<t>.*)", "a" * 130, {"tag": "${t}"}, "not a valid OCI tag"),
        (r"rel-(?<t>.*)", "rel-", {"tag": "${t}", "commitId": 6}, "not a valid OCI tag"),
        (r"feature/(?<t>.*)", "feature/x+y", {"tag": "${t}"}, "not a valid OCI tag"),
        (r"release-(?<v>.*)", "release-1", {"tag": "${version}"}, "has no group for"),
    ],
)
def test_a_tag_that_is_not_valid_says_why(
    ref: str, name: str, template: dict[str, Any], reason: str
) -> None:
    r = rule(ref, template)
    groups = match_rule(r, GitRef("branch", name))
    assert groups is not None
    with pytest.raises(TagError, match=reason):
        compose_tags(r, groups, PUSHED, COMMIT, 8)


def test_an_unmatched_optional_group_is_empty() -> None:
    r = rule(r"v(?<major>\d+)(-(?<pre>\w+))?", {"tag": "v${major}${pre}"}, type="tag")
    groups = match_rule(r, GitRef("tag", "v3"))
    assert groups is not None
    assert compose_tags(r, groups, PUSHED, COMMIT, 8) == ["v3"]
