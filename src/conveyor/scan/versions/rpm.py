"""RPM's version ordering: rpmvercmp (lib/rpmvercmp.c) over `[epoch:]version[-release]`."""

from __future__ import annotations


def _isalnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def rpmvercmp(a: str, b: str) -> int:
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        while i < len(a) and not _isalnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < len(b) and not _isalnum(b[j]) and b[j] not in "~^":
            j += 1
        ca, cb = a[i : i + 1], b[j : j + 1]
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i, j = i + 1, j + 1
            continue
        if ca == "^" or cb == "^":
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i, j = i + 1, j + 1
            continue
        if not (ca and cb):
            break
        numeric = ca.isdigit()
        test = str.isdigit if numeric else _isalpha
        ei, ej = i, j
        while ei < len(a) and test(a[ei]):
            ei += 1
        while ej < len(b) and test(b[ej]):
            ej += 1
        one, two = a[i:ei], b[j:ej]
        if not one:
            return -1
        if not two:
            return 1 if numeric else -1
        if numeric:
            one, two = one.lstrip("0"), two.lstrip("0")
            if len(one) != len(two):
                return 1 if len(one) > len(two) else -1
        if one != two:
            return -1 if one < two else 1
        i, j = ei, ej
    if i >= len(a) and j >= len(b):
        return 0
    return -1 if i >= len(a) else 1


def _isalpha(c: str) -> bool:
    return c.isascii() and c.isalpha()


def split_evr(evr: str) -> tuple[int, str, str]:
    epoch = 0
    head, colon, rest = evr.strip().partition(":")
    if colon and head.isdigit():
        epoch, evr = int(head), rest
    version, dash, release = evr.rpartition("-")
    return (epoch, version, release) if dash else (epoch, evr, "")


def compare_evr(a: str, b: str) -> int:
    epoch_a, version_a, release_a = split_evr(a)
    epoch_b, version_b, release_b = split_evr(b)
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    result = rpmvercmp(version_a, version_b)
    if result or not (release_a and release_b):
        return result
    return rpmvercmp(release_a, release_b)
