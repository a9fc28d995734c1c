"""Tag and repository filters: whole-name regexes with named groups and a time limit."""

from __future__ import annotations

import pytest

from conveyor.sync.tagfilter import FilterError, NameFilter


def test_whole_name_match() -> None:
    selected = NameFilter(r"v\d+")
    assert selected.matches("v1")
    assert not selected.matches("v1-rc")
    assert not selected.matches("xv1")
    assert NameFilter(".*").matches("anything")


def test_named_groups_in_both_spellings() -> None:
    assert NameFilter(r"release-(?<tag>\w+)").matches("release-v1")
    assert NameFilter(r"release-(?P<tag>\w+)").matches("release-v1")


def test_bad_pattern_is_refused() -> None:
    with pytest.raises(FilterError):
        NameFilter("v(")


@pytest.mark.timeout(10)
def test_catastrophic_pattern_times_out() -> None:
    slow = NameFilter(r"(a|a)*", timeout=0.05)
    with pytest.raises(TimeoutError):
        slow.matches("a" * 60 + "-")
