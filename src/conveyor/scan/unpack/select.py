"""Which files of an image inventory reads: everything else streams past unwritten."""

from __future__ import annotations

import posixpath
import re
from enum import Enum

from conveyor.scan.limits import ScanLimits


class Kind(Enum):
    TEXT = "text"  # small text databases and metadata
    RPMDB = "rpmdb"
    ARCHIVE = "archive"  # jar, war, ear
    BINARY = "binary"  # an executable that may be a Go program (checked for ELF + build info)


OS_RELEASE = ("etc/os-release", "usr/lib/os-release")
DPKG_STATUS = "var/lib/dpkg/status"
DPKG_STATUS_D = "var/lib/dpkg/status.d"
APK_INSTALLED = "lib/apk/db/installed"
RPMDB = ("var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite")
DATABASES = (DPKG_STATUS, APK_INSTALLED, *RPMDB)
_NPM = re.compile(r"(?:^|/)node_modules/(?:@[^/]+/)?[^/@][^/]*/package\.json$")
_ARCHIVES = (".jar", ".war", ".ear", ".jpi", ".hpi")


def classify(path: str) -> Kind | None:
    """The kind of file inventory wants at this path, by name alone."""
    if path in OS_RELEASE or path in (DPKG_STATUS, APK_INSTALLED):
        return Kind.TEXT
    if path in RPMDB:
        return Kind.RPMDB
    if _dpkg_status_d(path) or _python(path) or _NPM.search(path):
        return Kind.TEXT
    if path.endswith(_ARCHIVES):
        return Kind.ARCHIVE
    return None


def _dpkg_status_d(path: str) -> bool:
    return posixpath.dirname(path) == DPKG_STATUS_D and not path.endswith(".md5sums")


def _python(path: str) -> bool:
    if path.endswith((".dist-info/METADATA", ".egg-info/PKG-INFO")):
        return True
    return path.endswith(".egg-info") and "-packages/" in path


def maybe_binary(mode: int, size: int, limits: ScanLimits) -> bool:
    """An executable worth a look for Go build info (its first bytes decide)."""
    return bool(mode & 0o111) and 4096 <= size <= limits.max_binary_file


def size_limit(kind: Kind, limits: ScanLimits) -> int:
    return {
        Kind.TEXT: limits.max_text_file,
        Kind.RPMDB: limits.max_rpmdb_file,
        Kind.ARCHIVE: limits.max_archive_file,
        Kind.BINARY: limits.max_binary_file,
    }[kind]
