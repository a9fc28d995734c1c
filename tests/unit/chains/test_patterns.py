"""User regexes: both group syntaxes, whole-string matches, catastrophic patterns refused."""

from __future__ import annotations

import pytest

from conveyor.chains.patterns import PatternError, compile_pattern, full_match


def test_both_named_group_syntaxes() -> None:
    assert full_match(r"release-(?<imageTag>\w*)", "release-v1") == {"imageTag": "v1"}
    assert full_match(r"release-(?P<imageTag>\w*)", "release-v1") == {"imageTag": "v1"}


def test_matches_the_whole_string_only() -> None:
    assert full_match("v.*", "v1") == {}
    assert full_match("v1", "v10") is None
    assert full_match("release", "pre-release") is None


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|aa)+$", "(.*a){12}", "(x+x+)+y"])
def test_catastrophic_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(PatternError, match="catastroph"):
        compile_pattern(pattern)


def test_invalid_and_oversized_patterns() -> None:
    with pytest.raises(PatternError, match="invalid"):
        compile_pattern("(unclosed")
    with pytest.raises(PatternError, match="longer"):
        compile_pattern("a" * 600)
