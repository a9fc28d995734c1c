"""Fetch exactly one commit into a private directory, and find the Dockerfile inside it.

`git init` + `git fetch --depth 1 <url> <commit>` (servers with protocol v2 allow any reachable
commit; older ones get the ref instead, and the commit must be its tip). The Dockerfile's
directory and file are resolved with symlinks followed and must stay inside the checkout.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conveyor.build.process import run_captured, run_streaming
from conveyor.build.refs import GitRef
from conveyor.chains.schema import Dockerfile

LineSink = Callable[[str], None]


class CheckoutError(RuntimeError):
    pass


async def fetch_commit(
    url: str,
    ref: GitRef,
    commit: str,
    dest: Path,
    env: dict[str, str],
    on_line: LineSink,
    max_line_chars: int,
) -> str:
    """Check `commit` out into `dest`; returns the commit id checked out."""
    dest.mkdir(parents=True, exist_ok=True)
    await _git(["init", "--quiet", str(dest)], env, dest, on_line, max_line_chars)
    fetch = ["-C", str(dest), "fetch", "--depth", "1", "--no-tags", "--", url]
    on_line(f"fetching {commit} ({ref.full})")
    if await _git_status([*fetch, commit], env, dest, on_line, max_line_chars) != 0:
        on_line(f"the server did not give the commit by id; fetching {ref.full}")
        await _git([*fetch, ref.full], env, dest, on_line, max_line_chars)
    fetched = await _rev_parse(dest, env, "FETCH_HEAD")
    head = await _rev_parse(dest, env, "FETCH_HEAD^{commit}")
    if commit not in (fetched, head):  # an annotated tag's object id names its commit too
        raise CheckoutError(
            f"{ref.full} now points at {head[:12]}, not at {commit[:12]}, and the server does "
            f"not serve commits by id"
        )
    await _git(
        ["-C", str(dest), "-c", "advice.detachedHead=false", "checkout", "--quiet", "FETCH_HEAD"],
        env,
        dest,
        on_line,
        max_line_chars,
    )
    on_line(f"checked out {head}")
    return head


async def _rev_parse(dest: Path, env: dict[str, str], what: str) -> str:
    done = await run_captured(["git", "-C", str(dest), "rev-parse", what], env=env, timeout=60)
    if done.returncode != 0:
        raise CheckoutError("git fetch brought no commit")
    return done.stdout.strip()


async def _git_status(
    args: list[str], env: dict[str, str], cwd: Path, on_line: LineSink, max_line_chars: int
) -> int:
    return await run_streaming(
        ["git", *args], env=env, cwd=cwd, on_line=on_line, max_line_chars=max_line_chars
    )


async def _git(
    args: list[str], env: dict[str, str], cwd: Path, on_line: LineSink, max_line_chars: int
) -> None:
    status = await _git_status(args, env, cwd, on_line, max_line_chars)
    if status != 0:
        raise CheckoutError(f"git {args[2] if args[0] == '-C' else args[0]} exited {status}")


def build_paths(checkout: Path, dockerfile: Dockerfile) -> tuple[Path, Path]:
    """(context directory, Dockerfile) inside `checkout`, or CheckoutError saying why not."""
    root = checkout.resolve()
    relative = "." if dockerfile.directory == "/" else dockerfile.directory
    context = (root / relative).resolve()
    if not context.is_relative_to(root):
        raise CheckoutError(f"the Dockerfile directory {dockerfile.directory!r} leads outside")
    if not context.is_dir():
        raise CheckoutError(f"the commit has no directory {dockerfile.directory!r}")
    file = (context / dockerfile.filename).resolve()
    if not file.is_relative_to(root):
        raise CheckoutError(
            f"{dockerfile.directory.rstrip('/')}/{dockerfile.filename} leads outside the checkout"
        )
    if not file.is_file():
        raise CheckoutError(
            f"the commit has no file {dockerfile.filename!r} in {dockerfile.directory!r}"
        )
    return context, file
