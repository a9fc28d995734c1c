"""Member names of a layer as safe, relative, `/`-joined paths, and whiteout markers."""

from __future__ import annotations

import posixpath

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


def normalize(name: str) -> str | None:
    """`./usr/bin/x` -> `usr/bin/x`; None for an absolute name or one with `..`."""
    if name.startswith("/") or "\0" in name:
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return "/".join(parts)


def parent(path: str) -> str:
    return posixpath.dirname(path)


def join(base: str, name: str) -> str:
    return f"{base}/{name}" if base else name


def under(path: str, directory: str) -> bool:
    """True when path is strictly inside directory (the root is "")."""
    return not directory or path.startswith(directory + "/")


def whiteout(path: str) -> tuple[str, str] | None:
    """("opaque", dir) or ("delete", path) for a whiteout marker; None for an ordinary name."""
    base = posixpath.basename(path)
    if not base.startswith(WHITEOUT):
        return None
    if base == OPAQUE:
        return "opaque", parent(path)
    if base.startswith(WHITEOUT + WHITEOUT):
        return "ignore", path  # aufs bookkeeping (.wh..wh.plnk and friends)
    return "delete", join(parent(path), base[len(WHITEOUT) :])


def resolve_link(link_dir: str, target: str) -> str:
    """Where a symlink at `link_dir/...` points, clamped inside the image root."""
    joined = target if target.startswith("/") else f"{link_dir}/{target}"
    parts: list[str] = []
    for part in joined.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)
