"""The scan report document (DESIGN §4.4)."""

from __future__ import annotations

from typing import Any

from conveyor.scan.match.matcher import Finding
from conveyor.scan.model import Inventory
from conveyor.scan.vulndb.records import SEVERITIES
from conveyor.scan.vulndb.severity import RANK


def build_report(
    image: str, digest: str, inventory: Inventory, findings: list[Finding]
) -> dict[str, Any]:
    ordered = sorted(
        findings, key=lambda f: (-RANK.get(f.severity, 0), f.id, f.package.name, f.package.path)
    )
    summary = dict.fromkeys(SEVERITIES, 0)
    for finding in ordered:
        summary[finding.severity if finding.severity in summary else "UNKNOWN"] += 1
    return {
        "image": image,
        "digest": digest,
        "summary": summary,
        "findings": [f.to_json() for f in ordered],
        "packages": [
            {"name": p.name, "version": p.version, "type": p.type} for p in inventory.packages
        ],
    }
