"""The gate's count rule, list rule and their logic (DESIGN §5.2)."""

from __future__ import annotations

import pytest

from conveyor.scan.policy import PolicyError, evaluate_policy

REPORT = {
    "findings": [
        {"id": "DSA-5343-1", "aliases": ["CVE-2023-0286"], "severity": "HIGH"},
        {"id": "GO-2023-1878", "aliases": ["CVE-2023-29406"], "severity": "MEDIUM"},
        {"id": "PYSEC-2018-28", "aliases": [], "severity": "UNKNOWN"},
        {"id": "CVE-2024-3094", "aliases": [], "severity": "CRITICAL"},
    ]
}


@pytest.mark.parametrize(
    ("deny", "denied"),
    [
        ({"level": "HIGH", "count": 1}, True),
        ({"level": "HIGH", "count": 2}, True),
        ({"level": "HIGH", "count": 3}, False),
        ({"level": "CRITICAL"}, True),  # count defaults to 1
        ({"level": "LOW", "count": 4}, False),  # UNKNOWN is below LOW
        ({"vulnerabilities": ["CVE-2023-0286"]}, True),  # an alias counts
        ({"vulnerabilities": ["cve-2024-3094"]}, True),
        ({"vulnerabilities": ["CVE-1999-0001"]}, False),
        ({"level": "HIGH", "count": 9, "vulnerabilities": ["GO-2023-1878"]}, True),  # OR
        ({"level": "HIGH", "count": 9, "vulnerabilities": ["GO-2023-1878"], "logic": "AND"}, False),
        (
            {"level": "MEDIUM", "count": 3, "vulnerabilities": ["GO-2023-1878"], "logic": "AND"},
            True,
        ),
        ({}, False),
    ],
)
def test_rules(deny: dict[str, object], denied: bool) -> None:
    result, reasons = evaluate_policy(REPORT, {"mode": "blocking", "deny": deny})
    assert result is denied
    assert bool(reasons) is denied


def test_reasons_name_what_was_found() -> None:
    denied, reasons = evaluate_policy(
        REPORT, {"level": "HIGH", "count": 2, "vulnerabilities": ["CVE-2023-0286"]}
    )
    assert denied
    assert reasons == [
        "2 finding(s) at HIGH or above (limit: fewer than 2)",
        "denied vulnerabilities found: CVE-2023-0286",
    ]


def test_a_clean_report_passes() -> None:
    assert evaluate_policy({"findings": []}, {"deny": {"level": "LOW"}}) == (False, [])


@pytest.mark.parametrize(
    "deny",
    [{"level": "SEVERE"}, {"level": "HIGH", "count": 0}, {"level": "HIGH", "logic": "XOR"}],
)
def test_bad_policies_are_refused(deny: dict[str, object]) -> None:
    with pytest.raises(PolicyError):
        evaluate_policy(REPORT, {"deny": deny})
