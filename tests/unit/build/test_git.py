"""git against real repositories: ls-remote and shallow fetch of one commit, over file:// and
over http (git http-backend) with credentials that never show; the Dockerfile kept inside."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conveyor.build.checkout import CheckoutError, build_paths, fetch_commit
from conveyor.build.gitenv import GitCredentials, git_env
from conveyor.build.gitremote import GitError, ls_remote, parse_ls_remote, resolve
from conveyor.build.refs import GitRef
from conveyor.chains.schema import Dockerfile
from tests.support.git_http import GitHttpServer, SourceRepo, git

USER, PASSWORD = "builder", "s3cret-git-Password"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def repo(tmp_path: Path) -> SourceRepo:
    return SourceRepo(tmp_path / "repos" / "app.git")


@pytest.fixture
def http(repo: SourceRepo) -> Iterator[GitHttpServer]:
    server = GitHttpServer(repo.path.parent, credentials=(USER, PASSWORD))
    server.start()
    yield server
    server.stop()


def test_ls_remote_output_peels_annotated_tags() -> None:
    a, b, c = "a" * 40, "b" * 40, "c" * 40
    output = f"{a}\trefs/heads/main\n{b}\trefs/tags/v1\n{c}\trefs/tags/v1^{{}}\n{a}\tHEAD\n"
    assert parse_ls_remote(output) == {"refs/heads/main": a, "refs/tags/v1": c}


@pytest.mark.anyio
async def test_ls_remote_and_fetch_over_file(repo: SourceRepo, tmp_path: Path) -> None:
    first = repo.commit("main", {"Dockerfile": "FROM scratch\n"})
    second = repo.commit("main", {"Dockerfile": "FROM scratch\nLABEL v=2\n"})
    git("tag", "-a", "v1", "-m", "release", first, cwd=repo.work)
    git("push", "--quiet", str(repo.path), "refs/tags/v1", cwd=repo.work)
    refs = await ls_remote(repo.file_url, None, tmp_path / "scratch")
    assert refs == {"refs/heads/main": second, "refs/tags/v1": first}
    # An older commit than the branch tip: fetched by id.
    lines: list[str] = []
    env = git_env(tmp_path / "home", repo.file_url, None)
    head = await fetch_commit(
        repo.file_url, GitRef("branch", "main"), first, tmp_path / "src", env, lines.append, 500
    )
    assert head == first
    assert (tmp_path / "src" / "Dockerfile").read_text() == "FROM scratch\n"
    shallow = git("rev-list", "--count", "HEAD", cwd=tmp_path / "src")
    assert shallow == "1"


@pytest.mark.anyio
async def test_http_with_credentials_that_never_show(
    repo: SourceRepo, http: GitHttpServer, tmp_path: Path
) -> None:
    commit = repo.commit("release-v1", {"docker/Build.docker": "FROM scratch\n"})
    url = f"{http.url}/app.git"
    credentials = GitCredentials.parse(f"{USER}:{PASSWORD}")
    assert await resolve(url, credentials, GitRef("branch", "release-v1"), tmp_path) == commit
    with pytest.raises(GitError) as refused:
        await ls_remote(url, GitCredentials.parse(f"{USER}:wrong-{PASSWORD}"), tmp_path)
    assert PASSWORD not in str(refused.value)
    with pytest.raises(GitError):
        await ls_remote(url, None, tmp_path)
    lines: list[str] = []
    env = git_env(tmp_path / "home", url, credentials)
    assert PASSWORD not in " ".join(v for k, v in env.items() if k != "CONVEYOR_GIT_PASSWORD")
    head = await fetch_commit(
        url, GitRef("branch", "release-v1"), commit, tmp_path / "src", env, lines.append, 500
    )
    assert head == commit
    assert PASSWORD not in "\n".join(lines)
    assert not list((tmp_path / "src").rglob("askpass*"))  # credentials stay outside the tree


def test_only_the_sources_own_protocol_is_allowed(tmp_path: Path) -> None:
    assert git_env(tmp_path, "https://example.com/x.git", None)["GIT_ALLOW_PROTOCOL"] == "https"
    assert git_env(tmp_path, "git@example.com:x.git", None)["GIT_ALLOW_PROTOCOL"] == "ssh"
    env = git_env(tmp_path, "https://example.com/x.git", None)
    assert "CONVEYOR_SECRETS__KEY" not in env and set(env) >= {"PATH", "HOME"}
    key = git_env(tmp_path, "ssh://git@example.com/x.git", GitCredentials.parse("-----BEGIN KEY"))
    assert "IdentitiesOnly=yes" in key["GIT_SSH_COMMAND"]
    assert oct((tmp_path / "id_key").stat().st_mode & 0o777) == "0o600"


def test_the_dockerfile_stays_inside_the_checkout(tmp_path: Path) -> None:
    checkout = tmp_path / "src"
    (checkout / "docker").mkdir(parents=True)
    (checkout / "docker" / "Build.docker").write_text("FROM scratch\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "Dockerfile").write_text("FROM scratch\n")
    os.symlink(tmp_path / "outside", checkout / "escape")
    os.symlink("/etc/passwd", checkout / "docker" / "passwd")
    os.symlink("Build.docker", checkout / "docker" / "inside")
    context, file = build_paths(checkout, Dockerfile(directory="docker", filename="Build.docker"))
    assert (context, file) == (checkout / "docker", checkout / "docker" / "Build.docker")
    assert build_paths(checkout, Dockerfile(directory="docker", filename="inside"))[1].name == (
        "Build.docker"
    )
    for directory, filename, reason in [
        ("escape", "Dockerfile", "leads outside"),
        ("docker", "passwd", "leads outside"),
        ("missing", "Dockerfile", "no directory"),
        ("docker", "Dockerfile", "no file"),
    ]:
        with pytest.raises(CheckoutError, match=reason):
            build_paths(checkout, Dockerfile(directory=directory, filename=filename))
