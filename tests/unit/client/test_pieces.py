"""Regrouping of streamed content (pure async generators)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from conveyor.client.uploads import coalesce, rechunk

pytestmark = pytest.mark.anyio


async def pieces(*sizes: int) -> AsyncIterator[bytes]:
    for number, size in enumerate(sizes):
        yield bytes([number % 256]) * size


async def collect(source: AsyncIterator[bytes]) -> list[bytes]:
    return [piece async for piece in source]


async def test_rechunk_gives_exact_chunks_and_keeps_the_bytes() -> None:
    original = b"".join(await collect(pieces(3, 10, 1, 7, 20)))
    chunks = await collect(rechunk(pieces(3, 10, 1, 7, 20), 8))
    assert [len(c) for c in chunks] == [8, 8, 8, 8, 8, 1]
    assert b"".join(chunks) == original


async def test_rechunk_of_nothing_is_nothing() -> None:
    assert await collect(rechunk(pieces(), 8)) == []


async def test_coalesce_joins_small_pieces_and_passes_large_ones() -> None:
    original = b"".join(await collect(pieces(2, 2, 2, 10, 1)))
    joined = await collect(coalesce(pieces(2, 2, 2, 10, 1), 5))
    assert [len(p) for p in joined] == [6, 10, 1]
    assert b"".join(joined) == original
    alone = await collect(coalesce(pieces(9), 5))
    assert [len(p) for p in alone] == [9]
