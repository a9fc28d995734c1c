"""Rules: which refs they build (whole-name regexes, exact names, types), and manual builds."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.build.manual import ManualBuildRefused, plan_manual_build
from conveyor.build.refs import GitRef, RefError, parse_ref
from conveyor.build.rules import is_exact, match_rule, system_only_reason
from conveyor.chains.schema import BuildRule, ChainDocument


def rule(ref: str, type: str = "branch", **tag: Any) -> BuildRule:
    return BuildRule.model_validate({"type": type, "ref": ref, "tags": [{"tag": "t", **tag}]})


def chain(*rules: BuildRule) -> ChainDocument:
    return ChainDocument.model_validate(
        {
            "apiVersion": "conveyor/v1",
            "kind": "Chain",
            "metadata": {"name": "web"},
            "spec": {
                "scope": {"namespace": "shop", "repository": "web"},
                "build": {"rules": [r.model_dump(exclude_none=True) for r in rules]},
            },
        }
    )


def test_a_regex_matches_the_whole_ref_name_only() -> None:
    r = rule(r"release-(?<imageTag>\w*)")
    assert match_rule(r, GitRef("branch", "release-v1")) == {"imageTag": "v1"}
    assert match_rule(r, GitRef("branch", "hotfix/release-v1")) is None
    assert match_rule(r, GitRef("branch", "release-v1/x")) is None
    assert match_rule(r, GitRef("tag", "release-v1")) is None  # a branch rule


def test_python_style_groups_work_too() -> None:
    r = rule(r"v(?P<major>\d+)\.(?P<minor>\d+)", type="tag")
    assert match_rule(r, GitRef("tag", "v1.22")) == {"major": "1", "minor": "22"}


def test_an_exact_name_is_compared_as_written() -> None:
    r = rule("release-1.0")
    assert is_exact("release-1.0") and is_exact("feature/login") and not is_exact("v.*")
    assert match_rule(r, GitRef("branch", "release-1.0")) == {}
    assert match_rule(r, GitRef("branch", "release-1x0")) is None  # '.' is a dot here


def test_a_catastrophic_regex_is_refused_when_the_rule_is_read() -> None:
    with pytest.raises(ValueError, match="backtracks catastrophically"):
        rule(r"(a+)+$")


def test_refs_are_parsed_strictly() -> None:
    assert parse_ref("refs/heads/release-v1") == GitRef("branch", "release-v1")
    assert parse_ref("refs/tags/v1.0").full == "refs/tags/v1.0"
    for bad in [
        "main",
        "refs/remotes/x",
        "refs/heads/a..b",
        "refs/heads/x y",
        "refs/heads/x.lock",
        "refs/heads/",
        "refs/heads/a//b",
        "refs/heads/.hidden",
        "refs/heads/a@{1}",
    ]:
        with pytest.raises(RefError):
            parse_ref(bad)


def test_only_the_system_builds_regex_time_or_commit_rules() -> None:
    assert system_only_reason(rule("main")) is None
    assert "regular expression" in (system_only_reason(rule("release-.*")) or "")
    assert "buildTime" in (system_only_reason(rule("main", buildTime="yyyyMMdd")) or "")
    assert "commitId" in (system_only_reason(rule("main", commitId=6)) or "")


def test_manual_build_plans() -> None:
    doc = chain(rule("main"), rule("release-(?<v>.*)"), rule("v1", type="tag"))
    assert plan_manual_build(doc, 1, None)[1] == GitRef("branch", "main")
    assert plan_manual_build(doc, 1, "refs/heads/main")[1] == GitRef("branch", "main")
    assert plan_manual_build(doc, 3, "v1")[1] == GitRef("tag", "v1")
    with pytest.raises(ManualBuildRefused, match="only be built by the system: its ref is a reg"):
        plan_manual_build(doc, 2, "refs/heads/release-x")
    with pytest.raises(ManualBuildRefused, match="has rules 1 to 3, not 4") as info:
        plan_manual_build(doc, 4, None)
    assert info.value.field == "rule"
    with pytest.raises(ManualBuildRefused, match="not built by this rule") as info:
        plan_manual_build(doc, 1, "refs/heads/other")
    assert info.value.field == "ref"
