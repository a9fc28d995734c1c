"""Asking a git source what its refs point at (`git ls-remote`), for polling and resolution."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from conveyor.build.gitenv import GitCredentials, git_env
from conveyor.build.process import run_captured
from conveyor.build.refs import GitRef, is_commit

LS_REMOTE_TIMEOUT = 60.0


class GitError(RuntimeError):
    pass


def parse_ls_remote(output: str) -> dict[str, str]:
    """{ref: commit} of branches and tags; an annotated tag maps to the commit it points at."""
    refs: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in output.splitlines():
        commit, _, ref = line.partition("\t")
        if not is_commit(commit) or not ref.startswith(("refs/heads/", "refs/tags/")):
            continue
        if ref.endswith("^{}"):
            peeled[ref[:-3]] = commit
        else:
            refs[ref] = commit
    refs.update({ref: commit for ref, commit in peeled.items() if ref in refs})
    return refs


async def ls_remote(
    url: str, credentials: GitCredentials | None, scratch: Path, timeout: float = LS_REMOTE_TIMEOUT
) -> dict[str, str]:
    scratch.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="ls-remote-", dir=scratch))
    try:
        env = git_env(home, url, credentials)
        try:
            done = await run_captured(
                ["git", "ls-remote", "--heads", "--tags", "--", url],
                env=env,
                timeout=timeout,
                cwd=home,
            )
        except TimeoutError:
            raise GitError(f"git ls-remote gave no answer in {timeout:.0f} s") from None
        except FileNotFoundError:
            raise GitError("git is not installed here") from None
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if done.returncode != 0:
        raise GitError(_last_lines(done.stderr, credentials))
    return parse_ls_remote(done.stdout)


async def resolve(url: str, credentials: GitCredentials | None, ref: GitRef, scratch: Path) -> str:
    """The commit `ref` points at now."""
    commit = (await ls_remote(url, credentials, scratch)).get(ref.full)
    if commit is None:
        raise GitError(f"the source has no {ref.type} {ref.name!r}")
    return commit


def _last_lines(stderr: str, credentials: GitCredentials | None) -> str:
    text = " ".join(stderr.strip().splitlines()[-3:])[:500] or "git ls-remote failed"
    for value in credentials.secrets() if credentials else []:
        text = text.replace(value, "***")
    return text
