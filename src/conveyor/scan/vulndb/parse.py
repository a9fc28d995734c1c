"""Route each data file to the importer its content calls for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml

from conveyor.scan.vulndb import alpine, debian, osv
from conveyor.scan.vulndb.files import DataFile
from conveyor.scan.vulndb.records import Advisory

try:
    _YAML_LOADER: Any = yaml.CBaseLoader
except AttributeError:  # PyYAML without libyaml
    _YAML_LOADER = yaml.BaseLoader


class Skipped(Exception):
    """A file that is not vulnerability data this importer knows."""


def advisories(file: DataFile) -> Iterator[Advisory]:
    data = file.read()
    if debian.looks_like_list(file.name, data[:200]):
        text = data.decode("utf-8", errors="replace")
        yield from debian.parse_list(text.splitlines())
        return
    doc = _load(file.name, data)
    yield from _from_document(doc, file.name)


def _load(name: str, data: bytes) -> Any:
    """YAML scalars stay strings (BaseLoader): a version `1.10` must not become 1.1."""
    try:
        if name.endswith(".json"):
            return json.loads(data)
        if name.endswith((".yaml", ".yml")):
            return yaml.load(data, Loader=_YAML_LOADER)  # BaseLoader: plain strings, no objects
    except (ValueError, yaml.YAMLError) as exc:
        raise Skipped(f"{name}: cannot be parsed ({str(exc)[:200]})") from None
    raise Skipped(f"{name}: not a data file")


def _from_document(doc: Any, name: str) -> Iterator[Advisory]:
    if isinstance(doc, list):
        for item in doc:
            if osv.looks_like_osv(item):
                advisory = osv.parse_osv(item)
                if advisory is not None:
                    yield advisory
        return
    if osv.looks_like_osv(doc):
        advisory = osv.parse_osv(doc)
        if advisory is not None:
            yield advisory
    elif alpine.looks_like_secdb(doc):
        yield from alpine.parse_secdb(doc)
    elif debian.looks_like_tracker_json(doc):
        yield from debian.parse_tracker_json(doc)
    else:
        raise Skipped(f"{name}: not OSV, Alpine secdb or Debian tracker data")
