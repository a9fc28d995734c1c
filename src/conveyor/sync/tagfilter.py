"""Repository and tag filters: regexes matched against the whole name, within a time limit.

The `regex` package (not `re`) gives both `(?<name>...)` groups and a match timeout, so a
catastrophic pattern costs a bounded moment per name instead of a stuck sync.
"""

from __future__ import annotations

from typing import Final

import regex

MATCH_TIMEOUT_SECONDS: Final = 0.05


class FilterError(ValueError):
    """A pattern that does not compile."""


class NameFilter:
    def __init__(self, pattern: str, timeout: float = MATCH_TIMEOUT_SECONDS) -> None:
        try:
            self._compiled = regex.compile(pattern, regex.VERSION1)
        except regex.error as exc:
            raise FilterError(f"invalid regular expression {pattern!r}: {exc}") from None
        self.pattern = pattern
        self.timeout = timeout

    def matches(self, name: str) -> bool:
        """Whole-name match; raises TimeoutError when the pattern takes too long on `name`."""
        return self._compiled.fullmatch(name, timeout=self.timeout) is not None
