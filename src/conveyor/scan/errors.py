"""What goes wrong in a scan, with messages a user can act on."""

from __future__ import annotations


class ScanError(Exception):
    """The image cannot be scanned; the message says which layer and why."""


class LayerTooLarge(ScanError):
    """Decompression went past a limit: a decompression bomb, or an oversized layer."""


class LayerCorrupt(ScanError):
    """A layer is truncated, not compressed as it claims, or not a tar archive."""
