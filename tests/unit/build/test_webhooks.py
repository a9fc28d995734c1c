"""Webhook verification per host, and push payloads read from each host's documented format."""

from __future__ import annotations

import time

import pytest

from conveyor.build.payloads import PayloadError, is_push, parse_push
from conveyor.build.signatures import Host, detect_host, verify
from tests.support import git_webhooks as hooks

SECRET = "hook-Secret-42"
SHA = "9b5c1a6e2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b"
TAG_OBJECT = "1111111111111111111111111111111111111111"


def test_github_signature() -> None:
    body = hooks.encode(hooks.github_push("refs/heads/release-v1", SHA))
    headers = hooks.github_headers(body, SECRET)
    assert detect_host(headers) is Host.GITHUB
    assert verify(Host.GITHUB, headers, body, SECRET)
    assert not verify(Host.GITHUB, headers, body + b" ", SECRET)  # body changed
    assert not verify(Host.GITHUB, headers, body, "another-secret")
    missing = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    assert not verify(Host.GITHUB, missing, body, SECRET)
    sha1_only = {**missing, "X-Hub-Signature": "sha1=" + "0" * 40}
    assert not verify(Host.GITHUB, sha1_only, body, SECRET)


def test_gitlab_token() -> None:
    headers = hooks.gitlab_headers(SECRET)
    assert detect_host(headers) is Host.GITLAB
    assert verify(Host.GITLAB, headers, b"{}", SECRET)
    assert not verify(Host.GITLAB, hooks.gitlab_headers(SECRET + "x"), b"{}", SECRET)
    assert not verify(Host.GITLAB, {"X-Gitlab-Event": "Push Hook"}, b"{}", SECRET)


def test_gitea_signature_even_though_it_also_says_github() -> None:
    body = hooks.encode(hooks.gitea_push("refs/heads/main", SHA))
    headers = hooks.gitea_headers(body, SECRET)
    assert detect_host(headers) is Host.GITEA
    assert verify(Host.GITEA, headers, body, SECRET)
    assert not verify(Host.GITEA, headers, body.replace(b"main", b"evil"), SECRET)
    assert not verify(Host.GITEA, {**headers, "X-Gitea-Signature": "00" * 32}, body, SECRET)


def test_gitee_password_and_signature_modes() -> None:
    body = b"{}"
    assert detect_host(hooks.gitee_headers(SECRET, signed=False)) is Host.GITEE
    assert verify(Host.GITEE, hooks.gitee_headers(SECRET, signed=False), body, SECRET)
    assert verify(Host.GITEE, hooks.gitee_headers(SECRET, signed=True), body, SECRET)
    assert not verify(Host.GITEE, hooks.gitee_headers("wrong", signed=True), body, SECRET)
    assert not verify(Host.GITEE, hooks.gitee_headers("wrong", signed=False), body, SECRET)
    stale = hooks.gitee_headers(SECRET, signed=True, timestamp_ms=int((time.time() - 7200) * 1000))
    assert not verify(Host.GITEE, stale, body, SECRET)
    assert not verify(Host.GITEE, {"X-Gitee-Event": "Push Hook"}, body, SECRET)


def test_unknown_senders_are_not_detected() -> None:
    assert detect_host({"Content-Type": "application/json"}) is None


@pytest.mark.parametrize(
    ("host", "payload", "headers"),
    [
        (Host.GITHUB, hooks.github_push("refs/heads/release-v1", SHA), {"X-GitHub-Event": "push"}),
        (Host.GITEA, hooks.gitea_push("refs/heads/release-v1", SHA), {"X-Gitea-Event": "push"}),
        (
            Host.GITEE,
            hooks.gitee_push("refs/heads/release-v1", SHA),
            {"X-Gitee-Event": "Push Hook"},
        ),
        (
            Host.GITLAB,
            hooks.gitlab_push("refs/heads/release-v1", SHA),
            {"X-Gitlab-Event": "Push Hook"},
        ),
    ],
)
def test_branch_pushes(host: Host, payload: dict[str, object], headers: dict[str, str]) -> None:
    assert is_push(host, headers)
    push = parse_push(host, hooks.encode(payload))
    assert (push.ref, push.commit, push.deleted) == ("refs/heads/release-v1", SHA, False)
    assert push.pusher


def test_a_gitlab_tag_push_builds_the_commit_not_the_tag_object() -> None:
    payload = hooks.gitlab_push("refs/tags/v1.0", SHA, tag_object=TAG_OBJECT)
    assert is_push(Host.GITLAB, hooks.gitlab_headers(SECRET, tag=True))
    push = parse_push(Host.GITLAB, hooks.encode(payload))
    assert (push.ref, push.commit) == ("refs/tags/v1.0", SHA)


@pytest.mark.parametrize(
    ("host", "payload"),
    [
        (Host.GITHUB, hooks.github_push("refs/heads/gone", hooks.ZERO, before=SHA)),
        (Host.GITLAB, hooks.gitlab_push("refs/heads/gone", hooks.ZERO, before=SHA)),
    ],
)
def test_deletions_are_recognised(host: Host, payload: dict[str, object]) -> None:
    assert parse_push(host, hooks.encode(payload)).deleted


def test_other_events_and_bad_bodies() -> None:
    assert not is_push(Host.GITHUB, {"X-GitHub-Event": "ping"})
    assert not is_push(Host.GITLAB, {"X-Gitlab-Event": "Merge Request Hook"})
    with pytest.raises(PayloadError):
        parse_push(Host.GITHUB, b"not json")
    with pytest.raises(PayloadError):
        parse_push(Host.GITHUB, b'{"zen": "Keep it logically awesome."}')
