"""Bounds on what one scan may read and write, so hostile images cannot exhaust the machine."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True, slots=True)
class ScanLimits:
    max_layer_bytes: int = 8 * GiB  # decompressed, per layer
    max_total_bytes: int = 32 * GiB  # decompressed, all layers of one image
    # A layer that has produced this much and expands more than `max_ratio` times its
    # compressed size is treated as a bomb (gzip peaks near 1030:1, real layers near 10:1).
    ratio_floor_bytes: int = 512 * MiB
    max_ratio: int = 200
    max_text_file: int = 64 * MiB  # dpkg status, apk db, METADATA, package.json, os-release
    max_rpmdb_file: int = 512 * MiB
    max_binary_file: int = 512 * MiB  # ELF executables read for Go build info
    max_archive_file: int = 256 * MiB  # jar, war, ear
    max_nested_archive: int = 64 * MiB  # a jar inside a jar, read into memory
    max_files: int = 200_000  # files kept from one image
    temp_dir: str | None = None  # where the private temporary directory is made
