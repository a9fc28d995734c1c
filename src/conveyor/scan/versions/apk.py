"""Alpine's version ordering, after apk-tools 2.12+ (src/version.c).

`digits{.digits}...{letter}{_suffix{digits}}...{~hash}{-r#}`. The version is read as tokens
(initial digits, digits, letter, suffix, suffix number, commit hash, revision, end); tokens of
the same kind compare by value, and where the kinds first differ the version that goes on is
newer, unless it goes on with a pre-release suffix (`_alpha`, `_beta`, `_pre`, `_rc`), which
sorts before the bare version; post-release suffixes (`_cvs`, `_svn`, `_git`, `_hg`, `_p`) sort
after it. A dotted component with a leading zero compares as a string (a decimal fraction:
1.05 < 1.5); other numbers compare as numbers.
"""

from __future__ import annotations

import re
from functools import lru_cache

INITIAL, DIGIT, LETTER, SUFFIX, SUFFIX_NO, HASH, REVISION, END, INVALID = range(9)
_SUFFIXES = {"alpha": -4, "beta": -3, "pre": -2, "rc": -1, "cvs": 1, "svn": 2, "git": 3, "hg": 4}
_SUFFIXES["p"] = 5  # after "pre": apk matches the names in this order
_NEXT = re.compile(
    r"\.(?P<digit>\d+)|(?P<letter>[a-z])|_(?P<suffix>alpha|beta|pre|rc|cvs|svn|git|hg|p)"
    r"(?P<suffix_no>\d+)?|~(?P<hash>[0-9a-f]+)|-r(?P<revision>\d+)"
)
# Which token kinds may follow which (apk refuses a version that goes backwards).
_AFTER = {
    INITIAL: {DIGIT, LETTER, SUFFIX, HASH, REVISION},
    DIGIT: {DIGIT, LETTER, SUFFIX, HASH, REVISION},
    LETTER: {SUFFIX, HASH, REVISION},
    SUFFIX: {SUFFIX, HASH, REVISION},
    SUFFIX_NO: {SUFFIX, HASH, REVISION},
    HASH: {REVISION},
    REVISION: set(),
}

Token = tuple[int, str]


@lru_cache(maxsize=65536)
def tokens(version: str) -> tuple[Token, ...]:
    version = version.strip()
    first = re.match(r"\d+", version)
    if not first:
        return ((INVALID, version),)
    found: list[Token] = [(INITIAL, first.group())]
    at = first.end()
    while at < len(version):
        match = _NEXT.match(version, at)
        if match is None:
            return (*found, (INVALID, version[at:]))
        kind, value = _kind(match)
        if kind not in _AFTER[found[-1][0]]:
            return (*found, (INVALID, version[at:]))
        found.append((kind, value))
        if match.group("suffix_no") is not None:
            found.append((SUFFIX_NO, match.group("suffix_no")))
        at = match.end()
    return (*found, (END, ""))


def _kind(match: re.Match[str]) -> Token:
    for name, kind in (
        ("digit", DIGIT),
        ("letter", LETTER),
        ("suffix", SUFFIX),
        ("hash", HASH),
        ("revision", REVISION),
    ):
        value = match.group(name)
        if value is not None:
            return kind, value
    raise AssertionError("unreachable")


def _value_cmp(kind: int, a: str, b: str) -> int:
    if kind == SUFFIX:
        x, y = _SUFFIXES[a], _SUFFIXES[b]
        return (x > y) - (x < y)
    if kind in (LETTER, HASH) or (kind == DIGIT and (a[:1] == "0" or b[:1] == "0")):
        return (a > b) - (a < b)
    if kind in (INITIAL, DIGIT, SUFFIX_NO, REVISION):
        x, y = int(a), int(b)
        return (x > y) - (x < y)
    return 0


def compare(a: str, b: str) -> int:
    ta, tb = tokens(a), tokens(b)
    for (ka, va), (kb, vb) in zip(ta, tb, strict=False):
        if ka != kb:
            return _tail(ka, va, kb, vb)
        if ka in (END, INVALID):
            return 0
        result = _value_cmp(ka, va, vb)
        if result:
            return result
    return 0


def _tail(ka: int, va: str, kb: int, vb: str) -> int:
    """Equal so far: the version that goes on is newer, unless with a pre-release suffix."""
    if ka == SUFFIX and _SUFFIXES[va] < 0:
        return -1
    if kb == SUFFIX and _SUFFIXES[vb] < 0:
        return 1
    return -1 if ka > kb else 1


def valid(version: str) -> bool:
    return tokens(version)[-1][0] == END
