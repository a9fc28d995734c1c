"""Concurrency helpers: the first failure stops the rest and is raised as itself (not wrapped in
an exception group)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import anyio

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")


async def both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Await two independent things at once."""
    results: list[Any] = [None, None]

    async def run(position: int, awaitable: Awaitable[Any]) -> None:
        results[position] = await awaitable

    await run_bounded([(0, first), (1, second)], lambda item: run(*item), 2)
    return results[0], results[1]


async def run_bounded(items: Iterable[T], work: Callable[[T], Awaitable[None]], limit: int) -> None:
    """One `work(item)` per item, at most `limit` at a time."""
    limiter = anyio.CapacityLimiter(max(1, limit))

    async def one(item: T) -> None:
        async with limiter:
            await work(item)

    try:
        async with anyio.create_task_group() as group:
            for item in items:
                group.start_soon(one, item)
    except BaseExceptionGroup as group:
        raise _first_cause(group) from None


def _first_cause(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first leaf that is not a cancellation caused by it."""
    leaves = list(_leaves(group))
    cancelled = anyio.get_cancelled_exc_class()
    return next((e for e in leaves if not isinstance(e, cancelled)), leaves[0])


def _leaves(error: BaseException) -> Iterable[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error
