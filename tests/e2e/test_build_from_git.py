"""The build node end to end: real git repositories (file:// and http with git http-backend),
real buildah with qemu for arm64, the image read back from the registry, and the same record
going on to distribute. One server for the module; every build is a tiny busybox Dockerfile."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.build_helpers import (
    DOCKERFILE,
    build_chain,
    chain_records,
    platform_files,
    push_base_image,
    release_rule,
    step_logs,
    wait_new_record,
    wait_record,
)
from tests.e2e.chain_helpers import admin_client, apply_chain
from tests.support import git_webhooks as hooks
from tests.support.conveyor_server import ConveyorServer
from tests.support.git_http import GitHttpServer, SourceRepo
from tests.support.receiver import Receiver

GIT_USER, GIT_PASSWORD = "builder", "git-Password-never-shown"
HOOK_SECRET = "webhook-Secret-7"
UTC8 = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConveyorServer]:
    base = tmp_path_factory.mktemp("build")
    started = ConveyorServer(base / "data", env={"CONVEYOR_BUILD__POLL_MIN_SECONDS": "1"})
    started.start()
    with admin_client(started) as http:
        push_base_image(http)
        assert http.post("/api/v1/namespaces", json={"name": "shop"}).status_code in (200, 201)
    started.cli("secret", "set", "git-creds", input=f"{GIT_USER}:{GIT_PASSWORD}")
    started.cli("secret", "set", "hook-secret", input=HOOK_SECRET)
    yield started
    started.stop()


@pytest.fixture
def http(server: ConveyorServer) -> Iterator[httpx.Client]:
    with admin_client(server) as client:
        yield client


@pytest.fixture(scope="module")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHttpServer]:
    served = GitHttpServer(
        tmp_path_factory.mktemp("git-http"), credentials=(GIT_USER, GIT_PASSWORD)
    )
    served.start()
    yield served
    served.stop()


def _files(server: ConveyorServer, name: str = "release-v1") -> dict[str, str]:
    return {"docker/Build.docker": DOCKERFILE.format(host=server.host), "README.md": f"{name}\n"}


def _check_release_build(
    server: ConveyorServer, http: httpx.Client, record: dict[str, Any], commit: str, branch: str
) -> dict[str, Any]:
    """The acceptance checks: tag, both platforms, what RUN wrote per platform."""
    assert record["result"] == "SUCCESS", json.dumps(record)[:3000]
    build = record["steps"][0]
    assert build["node"] == "BUILD" and build["status"] == "SUCCESS"
    pushed = datetime.fromisoformat(record["trigger"]["pushedAt"]).astimezone(UTC8)
    tag = f"{branch.removeprefix('release-')}-{pushed:%Y%m%d%H%M}-{commit[:6]}"
    assert build["result"]["tags"] == [tag] == [record["trigger"]["tag"]]
    assert build["result"]["commit"] == commit
    assert build["result"]["platforms"] == ["linux/amd64", "linux/arm64"]
    repository = record["trigger"]["repository"]
    index = http.get(
        f"/v2/{repository}/manifests/{tag}",
        headers={"Accept": "application/vnd.oci.image.index.v1+json"},
    )
    assert index.status_code == 200
    assert index.headers["docker-content-digest"] == build["result"]["digest"]
    platforms = {
        f"{m['platform']['os']}/{m['platform']['architecture']}" for m in index.json()["manifests"]
    }
    assert platforms == {"linux/amd64", "linux/arm64"}
    files = platform_files(server, repository, tag, ["arch", "greeting", "targetarch"])
    assert files == {
        "linux/amd64": {"arch": "x86_64", "greeting": "hello-from-args", "targetarch": "amd64"},
        "linux/arm64": {"arch": "aarch64", "greeting": "hello-from-args", "targetarch": "arm64"},
    }
    return build


def test_a_push_over_file_builds_every_platform_and_the_same_record_distributes(
    server: ConveyorServer, http: httpx.Client, tmp_path: Path
) -> None:
    receiver = Receiver()
    receiver.start()
    try:
        repo = SourceRepo(tmp_path / "web.git")
        commit = repo.commit("release-v1", _files(server))
        server.cli("repo", "bind-source", "shop/web", "--git", repo.file_url)
        deploy = [{"name": "deploy", "url": receiver.url}]
        apply_chain(http, build_chain("web-release", "shop/web", [release_rule()], deploy))
        before = datetime.now(UTC)
        reply = json.loads(
            server.cli(
                "repo", "push-event", "shop/web", "--ref", "refs/heads/release-v1", "-o", "json"
            )
        )
        assert reply["commit"] == commit and len(reply["records"]) == 1
        record = wait_record(http, reply["records"][0])
        assert before <= datetime.fromisoformat(record["trigger"]["pushedAt"]) <= datetime.now(UTC)
        build = _check_release_build(server, http, record, commit, "release-v1")
        # The same record went on: distribute told the receiver about the built image.
        assert [s["node"] for s in record["steps"]] == ["BUILD", "DISTRIBUTE"]
        assert record["steps"][1]["status"] == "SUCCESS"
        body = receiver.wait_for(1, timeout=10)[0].json()
        assert body["push_data"]["tag"] == build["result"]["tags"][0]
        assert body["push_data"]["digest"] == build["result"]["digest"]
        # ...and the build's own push started no second record.
        time.sleep(1.0)
        assert [r["id"] for r in chain_records(http, "web-release")] == [record["id"]]
        assert len(receiver.received) == 1
        logs = [line for line in step_logs(http, record["id"]) if line["node"] == "BUILD"]
        assert [line["line"] for line in logs] == list(range(1, len(logs) + 1))
        assert {line["stage"] for line in logs} == {"GIT_CLONE", "BUILD", "PUSH"}
        assert any("STEP 4/4: RUN uname -m" in line["text"] for line in logs)

        # Cache: the same commit again reuses the layers, and the registry has every blob.
        again = json.loads(
            server.cli(
                "repo", "push-event", "shop/web", "--ref", "refs/heads/release-v1", "-o", "json"
            )
        )
        second = wait_record(http, again["records"][0])
        assert second["result"] == "SUCCESS"
        result = second["steps"][0]["result"]
        assert result["blobsUploaded"] == 0 and result["blobsSkipped"] > 0
        assert any("Using cache" in line["text"] for line in step_logs(http, second["id"]))
    finally:
        receiver.stop()


def test_a_github_webhook_over_http_with_credentials(
    server: ConveyorServer, http: httpx.Client, git_server: GitHttpServer
) -> None:
    repo = SourceRepo(git_server.root / "api.git")
    url = f"{git_server.url}/api.git"
    source = json.loads(
        server.cli(
            "repo",
            "bind-source",
            "shop/api",
            "--git",
            url,
            "--credentials",
            "git-creds",
            "--webhook-secret",
            "hook-secret",
            "-o",
            "json",
        )
    )
    apply_chain(http, build_chain("api-release", "shop/api", [release_rule()]))
    commit = repo.commit("release-v1", _files(server))
    body = hooks.encode(hooks.github_push("refs/heads/release-v1", commit))
    reply = httpx.post(
        f"{server.url}{source['webhookPath']}",
        content=body,
        headers=hooks.github_headers(body, HOOK_SECRET),
    )
    assert reply.status_code == 202, reply.text
    (record_id,) = reply.json()["records"]
    record = wait_record(http, record_id)
    _check_release_build(server, http, record, commit, "release-v1")
    assert record["trigger"]["via"] == "webhook:github"
    assert record["trigger"]["pusher"] == "octocat"
    assert any(r.startswith("POST /api.git/git-upload-pack") for r in git_server.requests)
    shown = json.dumps(record) + json.dumps(step_logs(http, record_id))
    shown += server.cli("repo", "source", "shop/api", "-o", "json")
    assert GIT_PASSWORD not in shown and HOOK_SECRET not in shown

    # GitLab's format, on another branch of the same source.
    commit = repo.commit("release-v2", _files(server, "release-v2"))
    body = hooks.encode(hooks.gitlab_push("refs/heads/release-v2", commit))
    reply = httpx.post(
        f"{server.url}{source['webhookPath']}",
        content=body,
        headers=hooks.gitlab_headers(HOOK_SECRET),
    )
    assert reply.status_code == 202, reply.text
    (record_id,) = reply.json()["records"]
    record = wait_record(http, record_id)
    _check_release_build(server, http, record, commit, "release-v2")
    assert record["trigger"]["via"] == "webhook:gitlab"


def test_bad_signatures_and_deletions_start_nothing(
    server: ConveyorServer, http: httpx.Client, tmp_path: Path
) -> None:
    repo = SourceRepo(tmp_path / "guarded.git")
    commit = repo.commit("release-v1", _files(server))
    source = json.loads(
        server.cli(
            "repo",
            "bind-source",
            "shop/guarded",
            "--git",
            repo.file_url,
            "--webhook-secret",
            "hook-secret",
            "-o",
            "json",
        )
    )
    apply_chain(
        http, build_chain("guarded", "shop/guarded", [release_rule(platforms=["linux/amd64"])])
    )
    hook = f"{server.url}{source['webhookPath']}"
    body = hooks.encode(hooks.github_push("refs/heads/release-v1", commit))
    unsigned = {
        k: v for k, v in hooks.github_headers(body, HOOK_SECRET).items() if "Signature" not in k
    }
    for headers in [
        hooks.github_headers(body, "not-the-secret"),
        unsigned,
        hooks.gitlab_headers("not-the-secret"),
        {k: v for k, v in hooks.gitlab_headers(HOOK_SECRET).items() if k != "X-Gitlab-Token"},
        hooks.gitea_headers(body, "not-the-secret"),
        hooks.gitee_headers("not-the-secret", signed=True),
    ]:
        reply = httpx.post(hook, content=body, headers=headers)
        assert reply.status_code == 401, (headers, reply.text)
    # Signed with the right secret, but the body was changed on the way.
    signed = hooks.github_headers(body, HOOK_SECRET)
    tampered = body.replace(b"release-v1", b"release-v9")
    assert httpx.post(hook, content=tampered, headers=signed).status_code == 401
    assert (
        httpx.post(f"{server.url}/hooks/git/src_unknown", content=body, headers=signed).status_code
        == 404
    )
    deletion = hooks.encode(hooks.github_push("refs/heads/release-v1", hooks.ZERO, before=commit))
    reply = httpx.post(hook, content=deletion, headers=hooks.github_headers(deletion, HOOK_SECRET))
    assert reply.status_code == 202 and reply.json()["records"] == []
    ping = hooks.github_headers(b"{}", HOOK_SECRET, event="ping")
    assert httpx.post(hook, content=b"{}", headers=ping).json()["ignored"] == "not a push event"
    time.sleep(0.5)
    assert chain_records(http, "guarded") == []


def test_manual_builds_only_where_the_rule_allows(
    server: ConveyorServer, http: httpx.Client, tmp_path: Path
) -> None:
    repo = SourceRepo(tmp_path / "tool.git")
    commit = repo.commit("main", {"Dockerfile": DOCKERFILE.format(host=server.host)})
    server.cli("repo", "bind-source", "shop/tool", "--git", repo.file_url)
    exact = {
        "type": "branch",
        "ref": "main",
        "tags": [{"tag": "latest"}],
        "platforms": ["linux/amd64"],
    }
    apply_chain(http, build_chain("tool", "shop/tool", [release_rule(), exact]))
    refused = server.cli("build", "run", "tool", "--rule", "1", "--ref", "release-v1", check=False)
    refused = " ".join(refused.split())  # the CLI wraps long lines
    assert "can only be built by the system: its ref is a regular expression" in refused
    assert chain_records(http, "tool") == []
    built = json.loads(server.cli("build", "run", "tool", "--rule", "2", "--wait", "-o", "json"))
    assert built["result"] == "SUCCESS", json.dumps(built)[:2000]
    assert built["trigger"] | {"pushedAt": "", "pusher": ""} == {
        "type": "git",
        "repository": "shop/tool",
        "ref": "refs/heads/main",
        "commit": commit,
        "rule": 2,
        "pushedAt": "",
        "via": "manual",
        "tag": "latest",
        "pusher": "",
    }
    files = platform_files(server, "shop/tool", "latest", ["arch", "greeting"])
    assert files == {"linux/amd64": {"arch": "x86_64", "greeting": "none"}}


def test_polling_notices_a_push(server: ConveyorServer, http: httpx.Client, tmp_path: Path) -> None:
    repo = SourceRepo(tmp_path / "polled.git")
    repo.commit("main", {"Dockerfile": DOCKERFILE.format(host=server.host)})
    server.cli("repo", "bind-source", "shop/polled", "--git", repo.file_url, "--poll", "1s")
    rule = {
        "type": "branch",
        "ref": "main",
        "tags": [{"tag": "latest"}],
        "platforms": ["linux/amd64"],
    }
    apply_chain(http, build_chain("polled", "shop/polled", [rule]))
    deadline = time.monotonic() + 15
    while (
        json.loads(server.cli("repo", "source", "shop/polled", "-o", "json"))["lastPolledAt"]
        is None
    ):
        assert time.monotonic() < deadline, "the source was never polled"
        time.sleep(0.2)
    time.sleep(1.5)  # the first round only notes the refs: nothing old is built
    assert chain_records(http, "polled") == []
    commit = repo.commit("main", {"README.md": "new\n"})
    record = wait_new_record(http, "polled", 0, timeout=20)
    assert (record["trigger"]["via"], record["trigger"]["commit"]) == ("poll", commit)
    assert wait_record(http, record["id"])["result"] == "SUCCESS"
    time.sleep(2.5)  # later rounds see nothing new
    assert len(chain_records(http, "polled")) == 1
