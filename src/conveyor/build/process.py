"""Child processes (git, buildah) that can always be stopped, with everything they started.

Each runs in a session of its own. Stopping it (cancel, timeout, or it simply ended) kills the
whole tree: every descendant found through /proc, and every process still in its session, even
the ones already re-parented to init. Output is read in chunks, so a line without an end or a
flood of lines never fills memory: the caller gets lines cut at a length.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, session id) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return int(fields[1]), int(fields[3])


def _processes() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def process_tree(root: int, *, alive: bool = True) -> set[int]:
    """`root`, its descendants, and whatever still runs in the session `root` leads.

    Once `root` has been reaped its pid may belong to someone else: then only the other
    members of its session count.
    """
    parents: dict[int, int] = {}
    found: set[int] = {root} if alive else set()
    for pid in _processes():
        info = _stat(pid)
        if info is None:
            continue
        parents[pid] = info[0]
        if info[1] == root and pid != root:
            found.add(pid)
    if not alive:
        return found
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def kill_tree(root: int, *, alive: bool = True) -> None:
    for pid in process_tree(root, alive=alive):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


async def _spawn(
    args: list[str], env: dict[str, str], cwd: Path | None, merge: bool
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT if merge else asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )


async def _finish(process: asyncio.subprocess.Process) -> None:
    """Kill what is left of the tree and reap the process; safe to call when it has exited."""
    kill_tree(process.pid, alive=process.returncode is None)
    with contextlib.suppress(ProcessLookupError):
        await process.wait()


class LineSplitter:
    """Bytes in, whole lines out (cut at `max_chars`; the rest of an over-long line dropped)."""

    def __init__(self, emit: Callable[[str], None], max_chars: int) -> None:
        self.emit = emit
        self.max_chars = max_chars
        self._pending = bytearray()
        self._overflow = False

    def feed(self, data: bytes) -> None:
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                self._keep(data[start:])
                return
            self._keep(data[start:end])
            self._flush()
            start = end + 1

    def close(self) -> None:
        if self._pending or self._overflow:
            self._flush()

    def _keep(self, piece: bytes) -> None:
        room = self.max_chars * 4 - len(self._pending)  # UTF-8: up to 4 bytes a character
        if len(piece) > room:
            self._overflow = True
            piece = piece[: max(room, 0)]
        self._pending.extend(piece)

    def _flush(self) -> None:
        text = self._pending.decode("utf-8", errors="replace").rstrip("\r")
        if "\r" in text:  # progress redrawn in place: keep what a terminal would show last
            text = text.rsplit("\r", 1)[1]
        if len(text) > self.max_chars or self._overflow:
            text = text[: self.max_chars] + " [line cut]"
        self.emit(text)
        self._pending.clear()
        self._overflow = False


async def run_streaming(
    args: list[str],
    *,
    env: dict[str, str],
    on_line: Callable[[str], None],
    max_line_chars: int,
    cwd: Path | None = None,
) -> int:
    """Run to the end, every output line (stdout and stderr) to `on_line`; the exit status.

    Cancelled (a cancel or a time-out around it): the whole tree is killed before this returns.
    """
    process = await _spawn(args, env, cwd, merge=True)
    splitter = LineSplitter(on_line, max_line_chars)
    try:
        assert process.stdout is not None
        while chunk := await process.stdout.read(CHUNK):
            splitter.feed(chunk)
        splitter.close()
        return await process.wait()
    finally:
        await _finish(process)


async def run_captured(
    args: list[str],
    *,
    env: dict[str, str],
    timeout: float,
    cwd: Path | None = None,
    max_bytes: int = 16 * 1024 * 1024,
) -> Completed:
    """Run with a time limit and collect output (each stream cut at `max_bytes`)."""
    process = await _spawn(args, env, cwd, merge=False)
    try:
        async with asyncio.timeout(timeout):
            assert process.stdout is not None and process.stderr is not None
            out, err = await asyncio.gather(
                _read_capped(process.stdout, max_bytes), _read_capped(process.stderr, max_bytes)
            )
            code = await process.wait()
    finally:
        await _finish(process)
    return Completed(code, out.decode(errors="replace"), err.decode(errors="replace"))


async def _read_capped(stream: asyncio.StreamReader, max_bytes: int) -> bytes:
    data = bytearray()
    while chunk := await stream.read(CHUNK):
        if len(data) < max_bytes:
            data.extend(chunk[: max_bytes - len(data)])
    return bytes(data)
