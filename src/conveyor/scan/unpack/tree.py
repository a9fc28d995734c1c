"""The merged file tree of an image, as far as inventory needs it.

Only wanted files are kept, each as a private copy named by a counter inside one temporary
directory (never by its member name), and symlinks are kept as data and resolved here,
lexically and inside the image root. Nothing from a layer ever becomes a link on disk.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from conveyor.scan.unpack.paths import parent, resolve_link, under

MAX_LINK_HOPS = 40


@dataclass(slots=True)
class Entry:
    layer: str
    local: Path | None = None  # the private copy of a regular file
    link: str | None = None  # a symlink's target, as written in the layer

    @property
    def is_link(self) -> bool:
        return self.link is not None


@dataclass(slots=True)
class Snapshot:
    """One layer's version of a package database file."""

    path: str
    layer: str
    local: Path


@dataclass
class LayerChanges:
    layer: str
    entries: dict[str, Entry] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)  # whiteouts: the path and all below it
    opaque: list[str] = field(default_factory=list)  # directories whose lower content goes
    replaced: set[str] = field(default_factory=set)  # lower entries overwritten in place
    replaced_trees: set[str] = field(default_factory=set)  # lower directories now a file


class ImageTree:
    def __init__(self, temp_parent: str | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="conveyor-scan-", dir=temp_parent))
        self.entries: dict[str, Entry] = {}
        self.history: list[Snapshot] = []
        self.warnings: list[str] = []
        self.layers: list[str] = []
        self._counter = 0

    def new_file(self) -> Path:
        self._counter += 1
        return self.root / f"{self._counter:07d}"

    def warn(self, message: str) -> None:
        if len(self.warnings) < 100:
            self.warnings.append(message)

    def directories(self) -> set[str]:
        """Every directory that holds a kept entry (to spot a directory replaced by a file)."""
        found: set[str] = set()
        for path in self.entries:
            directory = parent(path)
            while directory and directory not in found:
                found.add(directory)
                directory = parent(directory)
        return found

    def apply(self, changes: LayerChanges, databases: tuple[str, ...]) -> None:
        for path in changes.deleted:
            self._remove(path, exact=True)
        for directory in changes.opaque:
            self._remove(directory, exact=False)
        for path in changes.replaced:
            self.entries.pop(path, None)
        for path in changes.replaced_trees:
            self._remove(path, exact=False)
        self.entries.update(changes.entries)
        self.layers.append(changes.layer)
        for path, entry in changes.entries.items():
            if path in databases and entry.local is not None:
                self.history.append(Snapshot(path, changes.layer, entry.local))

    def _remove(self, path: str, *, exact: bool) -> None:
        doomed = [p for p in self.entries if under(p, path) or (exact and p == path)]
        for p in doomed:
            del self.entries[p]

    def resolve(self, path: str) -> str | None:
        """The real path behind symlinks in any component, or None for a dangling loop."""
        for _ in range(MAX_LINK_HOPS):
            rewritten = self._resolve_once(path)
            if rewritten is None:
                return path
            path = rewritten
        return None

    def _resolve_once(self, path: str) -> str | None:
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            entry = self.entries.get(prefix)
            if entry is not None and entry.link is not None:
                target = resolve_link(parent(prefix), entry.link)
                return "/".join([target, *parts[i:]]).strip("/")
        return None

    def lookup(self, path: str) -> Entry | None:
        real = self.resolve(path)
        entry = self.entries.get(real) if real is not None else None
        return entry if entry is not None and entry.local is not None else None

    def files(self) -> Iterator[tuple[str, Entry]]:
        for path, entry in sorted(self.entries.items()):
            if entry.local is not None:
                yield path, entry

    def snapshots(self, path: str) -> list[Snapshot]:
        """Every layer's version of a database file, oldest first; empty if it is gone now."""
        if path not in self.entries:
            return []
        return [s for s in self.history if s.path == path]

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ImageTree:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
