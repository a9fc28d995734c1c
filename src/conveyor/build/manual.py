"""Manual builds (`conveyor build run CHAIN --rule N [--ref REF]`): what may be built by hand."""

from __future__ import annotations

from conveyor.build.refs import GitRef, RefError
from conveyor.build.rules import manual_ref, system_only_reason
from conveyor.chains.schema import BuildRule, ChainDocument


class ManualBuildRefused(ValueError):
    """A manual build that cannot start; `field` names what was wrong."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def plan_manual_build(
    doc: ChainDocument, rule_number: int, ref: str | None
) -> tuple[BuildRule, GitRef]:
    """The rule (counting from 1) and the ref to build, or ManualBuildRefused with the reason."""
    name = doc.metadata.name
    if doc.spec.build is None:
        raise ManualBuildRefused(f"chain {name!r} has no build node", "chain")
    rules = doc.spec.build.rules
    if not 1 <= rule_number <= len(rules):
        raise ManualBuildRefused(
            f"chain {name!r} has rules 1 to {len(rules)}, not {rule_number}", "rule"
        )
    rule = rules[rule_number - 1]
    reason = system_only_reason(rule)
    if reason is not None:
        raise ManualBuildRefused(
            f"rule {rule_number} of chain {name!r} can only be built by the system: {reason}",
            "rule",
        )
    try:
        return rule, manual_ref(rule, ref)
    except RefError as exc:
        raise ManualBuildRefused(str(exc), "ref") from None
