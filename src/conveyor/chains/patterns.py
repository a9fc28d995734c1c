"""User regexes (refs, tag filters, triggers): `(?<name>...)` groups, whole-string matches and a
time limit, so a catastrophic pattern costs a bounded moment and then an error."""

from __future__ import annotations

from typing import Any

import regex

MATCH_TIMEOUT_SECONDS = 0.05
# Probes that make backtracking patterns blow up; a pattern that cannot finish on them in
# time is refused when the chain is saved.
_PROBES = ("a" * 4096 + "!", "0" * 4096 + "!", "-" * 4096 + "!", "x" * 2048 + "\n!")


class PatternError(ValueError):
    pass


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    if len(pattern) > 512:
        raise PatternError("pattern longer than 512 characters")
    try:
        compiled = regex.compile(pattern, regex.VERSION1)
    except regex.error as exc:
        raise PatternError(f"invalid regular expression: {exc}") from None
    for probe in _PROBES:
        try:
            compiled.fullmatch(probe, timeout=MATCH_TIMEOUT_SECONDS)
        except TimeoutError:
            raise PatternError("the pattern backtracks catastrophically") from None
    return compiled


def full_match(pattern: str, text: str) -> dict[str, Any] | None:
    """Named groups of a whole-string match, or None. Raises PatternError on a time-out."""
    compiled = compile_pattern(pattern)
    try:
        match = compiled.fullmatch(text, timeout=MATCH_TIMEOUT_SECONDS)
    except TimeoutError:
        raise PatternError(f"matching {pattern!r} took too long") from None
    return None if match is None else dict(match.groupdict())
