"""An image's layers, read from the blob store in order and merged into an ImageTree."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import cast

import anyio.to_thread

from conveyor.oci.manifest import Descriptor
from conveyor.registry.paths import blob_path
from conveyor.scan.errors import ScanError
from conveyor.scan.limits import ScanLimits
from conveyor.scan.unpack.bridge import open_blob
from conveyor.scan.unpack.decompress import BoundedReader, Budget
from conveyor.scan.unpack.layer import read_layer
from conveyor.scan.unpack.tree import ImageTree
from conveyor.storage.base import BlobStore, ObjectNotFound

LAYER_TYPES_SKIPPED = ("application/vnd.oci.image.layer.nondistributable",)


async def read_image(
    store: BlobStore, layers: Sequence[Descriptor], limits: ScanLimits | None = None
) -> ImageTree:
    """Apply the layers in order; the caller closes the tree (it owns a temporary directory)."""
    limits = limits or ScanLimits()
    tree = ImageTree(limits.temp_dir)
    budget = Budget(limits.max_total_bytes)
    try:
        for descriptor in layers:
            await _read_one(store, descriptor, tree, limits, budget)
    except BaseException:
        tree.close()
        raise
    return tree


async def _read_one(
    store: BlobStore, descriptor: Descriptor, tree: ImageTree, limits: ScanLimits, budget: Budget
) -> None:
    layer = str(descriptor.digest)
    if descriptor.urls or descriptor.media_type.startswith(LAYER_TYPES_SKIPPED):
        tree.warn(f"layer {layer}: foreign layer not in this registry, skipped")
        return
    path = blob_path(descriptor.digest)
    local = store.local_path(path)
    if local is not None:
        await anyio.to_thread.run_sync(_read_file, local, layer, tree, limits, budget)
        return
    if await store.stat(path) is None:
        raise ScanError(f"layer {layer} is not in the blob store")
    try:
        raw = open_blob(store.read(path))
        await anyio.to_thread.run_sync(_read_stream, raw, layer, tree, limits, budget)
    except ObjectNotFound:
        raise ScanError(f"layer {layer} is not in the blob store") from None


def _read_file(local: str, layer: str, tree: ImageTree, limits: ScanLimits, budget: Budget) -> None:
    try:
        raw = open(local, "rb", buffering=1 << 20)  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise ScanError(f"layer {layer} is not in the blob store") from None
    with raw:
        _read_stream(cast(io.BufferedReader, raw), layer, tree, limits, budget)


def _read_stream(
    raw: io.BufferedReader, layer: str, tree: ImageTree, limits: ScanLimits, budget: Budget
) -> None:
    reader = BoundedReader(raw, limits, budget, layer)
    read_layer(io.BufferedReader(reader, 1 << 20), layer, tree, limits)


def read_tar_layers(
    paths: Sequence[tuple[str, str]], limits: ScanLimits | None = None
) -> ImageTree:
    """The same, from layer files on disk: [(layer digest or name, file path)] (sync)."""
    limits = limits or ScanLimits()
    tree = ImageTree(limits.temp_dir)
    budget = Budget(limits.max_total_bytes)
    try:
        for layer, path in paths:
            _read_file(path, layer, tree, limits, budget)
    except BaseException:
        tree.close()
        raise
    return tree
