"""Debian's version ordering, as dpkg implements it (lib/dpkg/version.c: verrevcmp).

`[epoch:]upstream[-revision]`: epochs compare as numbers; upstream and revision compare
alternately by non-digit runs (letters before non-letters, `~` before everything, even the end)
and digit runs (as numbers). A missing revision equals `0`.
"""

from __future__ import annotations


def compare(a: str, b: str) -> int:
    epoch_a, upstream_a, revision_a = split(a)
    epoch_b, upstream_b, revision_b = split(b)
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    return verrevcmp(upstream_a, upstream_b) or verrevcmp(revision_a, revision_b)


def split(version: str) -> tuple[int, str, str]:
    version = version.strip()
    epoch = 0
    head, colon, rest = version.partition(":")
    if colon and head.isdigit():
        epoch, version = int(head), rest
    upstream, dash, revision = version.rpartition("-")
    if not dash:
        return epoch, version, ""
    return epoch, upstream, revision


def _order(char: str) -> int:
    if not char or char.isdigit():
        return 0
    if char.isalpha() and char.isascii():
        return ord(char)
    if char == "~":
        return -1
    return ord(char) + 256


def verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return -1 if ac < bc else 1
            i, j = i + 1, j + 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        first_diff = 0
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i, j = i + 1, j + 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return -1 if first_diff < 0 else 1
    return 0
