"""Child processes: lines cut to size, and the whole tree killed on cancel and time-out."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from conveyor.build.process import LineSplitter, process_tree, run_captured, run_streaming

ENV = {"PATH": os.environ["PATH"]}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_lines_are_split_cut_and_redrawn_progress_keeps_its_last_state() -> None:
    lines: list[str] = []
    splitter = LineSplitter(lines.append, max_chars=10)
    splitter.feed(b"one\ntw")
    splitter.feed(b"o\n" + b"x" * 100 + b"\n10%\r50%\r100%\n\xff\xfe bad\nlast")
    splitter.close()
    assert lines == ["one", "two", "x" * 10 + " [line cut]", "100%", "\ufffd\ufffd bad", "last"]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def _wait_for_pids(path: Path, count: int) -> list[int]:
    for _ in range(100):
        if path.exists() and len(path.read_text().split()) >= count:
            return [int(p) for p in path.read_text().split()]
        await asyncio.sleep(0.05)
    raise AssertionError("the children did not start")


@pytest.mark.anyio
async def test_cancel_kills_children_grandchildren_and_escapees(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # A child, a grandchild, and an orphan whose parent has already exited (re-parented out of
    # the tree: found through its session).
    script = (
        f"sleep 300 & echo $! >> {pids}; "
        f"sh -c 'sleep 300 & echo $! >> {pids}; wait' & "
        f"(sleep 300 & echo $! >> {pids}) ; "
        "echo started; wait"
    )
    lines: list[str] = []
    task = asyncio.create_task(
        run_streaming(["sh", "-c", script], env=ENV, on_line=lines.append, max_line_chars=100)
    )
    children = await _wait_for_pids(pids, 3)
    assert all(_alive(pid) for pid in children)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.1)
    assert not any(_alive(pid) for pid in children), "a process outlived the cancel"


@pytest.mark.anyio
async def test_a_time_out_kills_the_tree(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await run_captured(
            ["sh", "-c", f"sleep 300 & echo $! > {pids}; wait"], env=ENV, timeout=0.5
        )
    assert time.monotonic() - started < 5
    (child,) = await _wait_for_pids(pids, 1)
    await asyncio.sleep(0.1)
    assert not _alive(child)


@pytest.mark.anyio
async def test_a_flood_of_output_is_read_not_buffered(tmp_path: Path) -> None:
    count = 0

    def take(_line: str) -> None:
        nonlocal count
        count += 1

    status = await run_streaming(
        ["sh", "-c", "yes conveyor | head -n 300000"], env=ENV, on_line=take, max_line_chars=50
    )
    assert (status, count) == (0, 300000)


def test_process_tree_of_this_process_includes_it() -> None:
    assert os.getpid() in process_tree(os.getpid())
