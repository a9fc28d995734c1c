"""The security gate's decision (DESIGN §5.2, ACR's DenyPolicy).

count rule: findings at `level` or above >= `count`; list rule: any finding whose id or alias is
in `vulnerabilities`; `logic` (AND | OR, default OR) combines them when both are set. A rule that
is not set takes no part; with neither set nothing is denied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from conveyor.scan.vulndb.severity import RANK

LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


class PolicyError(ValueError):
    pass


def evaluate_policy(report: Mapping[str, Any], policy: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """(denied, reasons). `policy` is the chain's `scan.policy` (with `deny`) or `deny` itself."""
    deny = policy.get("deny", policy)
    if not isinstance(deny, Mapping):
        raise PolicyError("policy.deny must be an object")
    findings: Sequence[Mapping[str, Any]] = report.get("findings") or []
    rules: list[tuple[bool, str]] = []
    if deny.get("level"):
        rules.append(_count_rule(findings, str(deny["level"]).upper(), _count(deny)))
    if deny.get("vulnerabilities"):
        rules.append(_list_rule(findings, [str(v) for v in deny["vulnerabilities"]]))
    if not rules:
        return False, []
    logic = str(deny.get("logic") or "OR").upper()
    if logic not in ("AND", "OR"):
        raise PolicyError(f"policy.deny.logic must be AND or OR, not {logic!r}")
    met = [ok for ok, _ in rules]
    denied = all(met) if logic == "AND" else any(met)
    return denied, [reason for ok, reason in rules if ok] if denied else []


def _count(deny: Mapping[str, Any]) -> int:
    count = deny.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise PolicyError("policy.deny.count must be a positive integer")
    return count


def _count_rule(findings: Sequence[Mapping[str, Any]], level: str, count: int) -> tuple[bool, str]:
    if level not in LEVELS:
        raise PolicyError(f"policy.deny.level must be one of {', '.join(LEVELS)}, not {level!r}")
    floor = RANK[level]
    hits = sum(1 for f in findings if RANK.get(str(f.get("severity", "UNKNOWN")), 0) >= floor)
    return hits >= count, f"{hits} finding(s) at {level} or above (limit: fewer than {count})"


def _list_rule(findings: Sequence[Mapping[str, Any]], listed: list[str]) -> tuple[bool, str]:
    wanted = {v.upper() for v in listed}
    found = sorted(
        {
            name
            for f in findings
            for name in [str(f.get("id", "")), *map(str, f.get("aliases") or [])]
            if name.upper() in wanted
        }
    )
    return bool(found), "denied vulnerabilities found: " + ", ".join(found)
