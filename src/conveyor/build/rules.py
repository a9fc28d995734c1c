"""Build rules (DESIGN §5.1): which refs a rule builds, and which rules a person may build."""

from __future__ import annotations

import re

from conveyor.build.refs import PREFIXES, GitRef, RefError, parse_ref, valid_ref_name
from conveyor.chains.patterns import full_match
from conveyor.chains.schema import BuildRule

# A ref made of these characters only is an exact name, compared as it is ('.' is a dot).
_EXACT = re.compile(r"[A-Za-z0-9._/-]+")


def is_exact(pattern: str) -> bool:
    return _EXACT.fullmatch(pattern) is not None


def match_rule(rule: BuildRule, ref: GitRef) -> dict[str, str] | None:
    """The named groups when `rule` builds `ref` (empty for an exact name), else None.

    A regex must match the whole ref name within the time limit; PatternError says it did not.
    """
    if rule.type != ref.type:
        return None
    if is_exact(rule.ref):
        return {} if ref.name == rule.ref else None
    groups = full_match(rule.ref, ref.name)
    if groups is None:
        return None
    return {name: value or "" for name, value in groups.items()}


def system_only_reason(rule: BuildRule) -> str | None:
    """Why only the system (a push) may build this rule, or None when a person may (ACR's rule)."""
    if not is_exact(rule.ref):
        return "its ref is a regular expression, so only a push names the ref to build"
    if any(t.buildTime for t in rule.tags):
        return "its tags carry the push time (buildTime), which only a push has"
    if any(t.commitId for t in rule.tags):
        return "its tags carry the commit id (commitId), which only a push names"
    return None


def manual_ref(rule: BuildRule, given: str | None) -> GitRef:
    """The ref a manual build of `rule` builds: the rule's own name, or `given` when it matches."""
    if given is None:
        if not valid_ref_name(rule.ref):
            raise RefError(f"the rule's ref {rule.ref!r} is not a valid git ref name")
        return GitRef(rule.type, rule.ref)
    ref = parse_ref(given if given.startswith("refs/") else PREFIXES[rule.type] + given)
    if match_rule(rule, ref) is None:
        raise RefError(f"{ref.full} is not built by this rule ({rule.type} {rule.ref!r})")
    return ref
