"""Stanza files (dpkg status, apk installed db, os-release) as simple records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


def read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def rfc822_stanzas(text: str) -> Iterator[dict[str, str]]:
    """Paragraphs of `Field: value` lines; continuation lines start with a space or tab."""
    fields: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields, last = {}, ""
        elif line[0] in " \t":
            if last:
                fields[last] += "\n" + line.strip()
        else:
            name, colon, value = line.partition(":")
            if colon:
                last = name.strip()
                fields[last] = value.strip()
    if fields:
        yield fields


def apk_stanzas(text: str) -> Iterator[dict[str, str]]:
    """apk's installed db: `X:value` lines, packages separated by blank lines (first of each
    letter wins; file lists repeat letters)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields = {}
        elif len(line) > 1 and line[1] == ":":
            fields.setdefault(line[0], line[2:])
    if fields:
        yield fields


def shell_assignments(text: str) -> dict[str, str]:
    """os-release: KEY=value lines with optional shell quoting."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value.replace('\\"', '"').replace("\\$", "$").replace("\\\\", "\\")
    return values
