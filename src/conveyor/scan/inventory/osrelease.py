"""The distribution, from /etc/os-release (or /usr/lib/os-release)."""

from __future__ import annotations

from conveyor.scan.inventory.textdb import read_text, shell_assignments
from conveyor.scan.model import Distro
from conveyor.scan.unpack.select import OS_RELEASE
from conveyor.scan.unpack.tree import ImageTree


def read_distro(tree: ImageTree) -> Distro | None:
    for path in OS_RELEASE:
        entry = tree.lookup(path)
        if entry is not None and entry.local is not None:
            return parse_os_release(read_text(entry.local))
    return None


def parse_os_release(text: str) -> Distro | None:
    values = shell_assignments(text)
    if not values.get("ID"):
        return None
    return Distro(
        id=values["ID"].lower(),
        version_id=values.get("VERSION_ID", ""),
        codename=values.get("VERSION_CODENAME", "") or _codename_from_version(values),
        name=values.get("PRETTY_NAME", values.get("NAME", "")),
    )


def _codename_from_version(values: dict[str, str]) -> str:
    """Older Debian os-release files say `VERSION="9 (stretch)"` only."""
    version = values.get("VERSION", "")
    if "(" in version and version.endswith(")"):
        return version[version.index("(") + 1 : -1].split()[0].lower()
    return ""
