"""One layer: stream its tar and keep what inventory wants, with the layer's whiteouts."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import IO

from conveyor.scan.errors import LayerCorrupt, ScanError
from conveyor.scan.limits import ScanLimits
from conveyor.scan.unpack import select
from conveyor.scan.unpack.paths import normalize, whiteout
from conveyor.scan.unpack.tree import Entry, ImageTree, LayerChanges

CHUNK = 1 << 20
ELF_MAGIC = b"\x7fELF"
GO_MAGIC = b"\xff Go buildinf:"


def read_layer(stream: IO[bytes], layer: str, tree: ImageTree, limits: ScanLimits) -> None:
    """Read a decompressed tar stream and apply it to the tree."""
    changes = LayerChanges(layer)
    lower_dirs = tree.directories()
    try:
        with tarfile.open(fileobj=stream, mode="r|", bufsize=CHUNK) as archive:
            for member in archive:
                _member(archive, member, changes, tree, lower_dirs, limits)
    except (tarfile.ReadError, EOFError) as exc:
        raise LayerCorrupt(f"layer {layer}: not a complete tar archive ({exc})") from None
    except tarfile.TarError as exc:
        raise LayerCorrupt(f"layer {layer}: bad tar archive ({exc})") from None
    tree.apply(changes, select.DATABASES)


def _member(
    archive: tarfile.TarFile,
    member: tarfile.TarInfo,
    changes: LayerChanges,
    tree: ImageTree,
    lower_dirs: set[str],
    limits: ScanLimits,
) -> None:
    path = normalize(member.name)
    if path is None:
        tree.warn(f"layer {changes.layer}: skipped unsafe member name {member.name[:200]!r}")
        return
    if not path:
        return
    marker = whiteout(path)
    if marker is not None:
        kind, target = marker
        if kind == "delete":
            changes.deleted.append(target)
        elif kind == "opaque":
            changes.opaque.append(target)
        return
    _note_replacement(path, member, changes, tree, lower_dirs)
    if member.issym():
        changes.entries[path] = Entry(changes.layer, link=member.linkname)
    elif member.islnk():
        _hardlink(path, member, changes, tree)
    elif member.isreg():
        _regular(archive, member, path, changes, tree, limits)
    # directories, devices and fifos carry nothing inventory reads


def _note_replacement(
    path: str,
    member: tarfile.TarInfo,
    changes: LayerChanges,
    tree: ImageTree,
    lower_dirs: set[str],
) -> None:
    changes.entries.pop(path, None)
    if member.isdir():
        lower = tree.entries.get(path)
        if lower is not None:
            changes.replaced.add(path)
        return
    if path in tree.entries:
        changes.replaced.add(path)
    if path in lower_dirs:
        changes.replaced_trees.add(path)


def _hardlink(path: str, member: tarfile.TarInfo, changes: LayerChanges, tree: ImageTree) -> None:
    target = normalize(member.linkname)
    if target is None:
        tree.warn(f"layer {changes.layer}: skipped hard link {path!r} to {member.linkname!r}")
        return
    if select.classify(path) is None:
        return
    source = changes.entries.get(target) or tree.entries.get(target)
    if source is not None and source.local is not None:
        changes.entries[path] = Entry(changes.layer, local=source.local)


def _regular(
    archive: tarfile.TarFile,
    member: tarfile.TarInfo,
    path: str,
    changes: LayerChanges,
    tree: ImageTree,
    limits: ScanLimits,
) -> None:
    kind = select.classify(path)
    if kind is None and select.maybe_binary(member.mode, member.size, limits):
        kind = select.Kind.BINARY
    if kind is None:
        return
    if member.size > select.size_limit(kind, limits):
        tree.warn(f"layer {changes.layer}: skipped {path!r}: {member.size} bytes is over the limit")
        return
    source = archive.extractfile(member)
    if source is None:
        return
    if len(tree.entries) + len(changes.entries) >= limits.max_files:
        raise ScanError(f"layer {changes.layer}: more than {limits.max_files} files to inventory")
    local = tree.new_file()
    kept = _copy_go_binary(source, local) if kind is select.Kind.BINARY else _copy(source, local)
    if kept:
        changes.entries[path] = Entry(changes.layer, local=local)


def _copy(source: IO[bytes], local: Path) -> bool:
    with open(local, "wb") as out:
        while chunk := source.read(CHUNK):
            out.write(chunk)
    return True


def _copy_go_binary(source: IO[bytes], local: Path) -> bool:
    """Keep an ELF file only when it carries Go build info."""
    head = source.read(len(ELF_MAGIC))
    if head != ELF_MAGIC:
        return False
    found, tail = False, b""
    with open(local, "wb") as out:
        out.write(head)
        while chunk := source.read(CHUNK):
            out.write(chunk)
            if not found:
                found = GO_MAGIC in tail + chunk
                tail = chunk[-len(GO_MAGIC) :]
    if not found:
        local.unlink()
    return found
