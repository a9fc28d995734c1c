"""Severity from CVSS vectors (v3.x, v4.0; v2 by NVD's bands) or a source's own word."""

from __future__ import annotations

from cvss import CVSS2, CVSS3, CVSS4  # type: ignore[import-untyped]
from cvss.exceptions import CVSSError  # type: ignore[import-untyped]

_WORDS = {
    "critical": "CRITICAL",
    "high": "HIGH",
    "important": "HIGH",
    "moderate": "MEDIUM",
    "medium": "MEDIUM",
    "low": "LOW",
    "unimportant": "LOW",
    "negligible": "LOW",
}
RANK = {"UNKNOWN": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}


def from_word(word: str | None) -> str:
    return _WORDS.get((word or "").strip().lower(), "UNKNOWN")


def from_vector(vector: str) -> str:
    vector = vector.strip()
    try:
        if vector.startswith("CVSS:4"):
            return from_word(CVSS4(vector).severity)
        if vector.startswith("CVSS:3"):
            return from_word(CVSS3(vector).severities()[0])
        if vector.startswith("AV:") or vector.startswith("(AV:"):
            return _v2_band(float(CVSS2(vector.strip("()")).base_score))
    except (CVSSError, ValueError, KeyError, IndexError):
        return "UNKNOWN"
    return "UNKNOWN"


def _v2_band(score: float) -> str:
    if score >= 7.0:
        return "HIGH"
    if score >= 4.0:
        return "MEDIUM"
    return "LOW" if score > 0 else "UNKNOWN"


def highest(*severities: str) -> str:
    return max(severities, key=lambda s: RANK.get(s, 0), default="UNKNOWN")
