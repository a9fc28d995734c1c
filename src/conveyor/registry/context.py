"""What the registry's operations share: database, blob store, limits, caches, event bus."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from conveyor.db.database import Database
from conveyor.registry.events import EventBus, TransactionHook
from conveyor.storage.base import BlobStore

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A small LRU map; used for immutable data (manifest bytes by digest) and hash states."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)


@dataclass
class Limits:
    max_manifest_bytes: int = 4 * 1024 * 1024
    upload_expiry_seconds: int = 24 * 3600
    gc_grace_seconds: int = 3600
    create_namespace_on_push: bool = True


@dataclass
class RegistryContext:
    db: Database
    store: BlobStore
    limits: Limits = field(default_factory=Limits)
    events: EventBus = field(default_factory=EventBus)
    transaction_hooks: list[TransactionHook] = field(default_factory=list)
    manifest_bytes: BoundedCache[str, bytes] = field(default_factory=lambda: BoundedCache(2048))
    # Running sha256 of each upload this process has seen, keyed by upload id: (size, hasher).
    upload_hashes: BoundedCache[str, tuple[int, hashlib._Hash]] = field(
        default_factory=lambda: BoundedCache(4096)
    )
