"""Tag composition, ACR's way (DESIGN §5.1).

`tag` with `${group}` substituted, then `-` + the push time (`yyyyMMdd` or `yyyyMMddHHmm`, in
UTC+8 unless the instance says otherwise), then `-` + the first `commitId` characters of the
commit. Every result must be a valid OCI tag, or the build fails with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from conveyor.chains.schema import BuildRule, TagTemplate
from conveyor.oci.reference import is_valid_tag

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TIME_FORMATS = {"yyyyMMdd": "%Y%m%d", "yyyyMMddHHmm": "%Y%m%d%H%M"}


class TagError(ValueError):
    pass


def push_time(pushed_at: datetime, pattern: str, utc_offset_hours: float) -> str:
    zone = timezone(timedelta(hours=utc_offset_hours))
    return pushed_at.astimezone(zone).strftime(_TIME_FORMATS[pattern])


def substitute(template: str, groups: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in groups:
            raise TagError(f"the tag {template!r} uses ${{{name}}}, which the ref has no group for")
        return groups[name]

    return _PLACEHOLDER.sub(value, template)


def compose_tag(
    template: TagTemplate,
    groups: Mapping[str, str],
    pushed_at: datetime,
    commit: str,
    utc_offset_hours: float,
) -> str:
    tag = substitute(template.tag, groups)
    if template.buildTime:
        tag += "-" + push_time(pushed_at, template.buildTime, utc_offset_hours)
    if template.commitId:
        tag += "-" + commit[: template.commitId]
    if not is_valid_tag(tag):
        raise TagError(
            f"the tag {tag[:200]!r} (from {template.tag!r}) is not a valid OCI tag: "
            f"1-128 of A-Z a-z 0-9 _ . -, not starting with . or -"
        )
    return tag


def compose_tags(
    rule: BuildRule,
    groups: Mapping[str, str],
    pushed_at: datetime,
    commit: str,
    utc_offset_hours: float,
) -> list[str]:
    """Every tag of the rule, in order, without repeats."""
    tags = [compose_tag(t, groups, pushed_at, commit, utc_offset_hours) for t in rule.tags]
    return list(dict.fromkeys(tags))
