"""Every invalid field of a chain file is refused with an error that names it; nothing is saved."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.conveyor_server import ConveyorServer

VALID: dict[str, Any] = {
    "apiVersion": "conveyor/v1",
    "kind": "Chain",
    "metadata": {"name": "valid-chain", "description": "ok"},
    "spec": {
        "scope": {"namespace": "vshop", "repository": "web"},
        "scan": {
            "engine": "builtin",
            "policy": {
                "mode": "blocking",
                "deny": {
                    "level": "HIGH",
                    "count": 1,
                    "vulnerabilities": ["CVE-2024-3094"],
                    "logic": "OR",
                },
                "deleteOriginal": False,
                "backup": {"namespace": "vshop-quarantine"},
            },
        },
        "distribute": [
            {
                "name": "redeploy",
                "url": "https://cluster.example.com/hook?token=abc",
                "trigger": {"type": "regexp", "regexp": "v.*"},
                "format": "acr",
            }
        ],
    },
}

BUILD_RULE: dict[str, Any] = {
    "type": "branch",
    "ref": "release-(?<imageTag>\\w*)",
    "dockerfile": {"directory": "/", "filename": "Dockerfile"},
    "tags": [{"tag": "${imageTag}", "buildTime": "yyyyMMddHHmm", "commitId": 6}],
    "platforms": ["linux/amd64", "linux/arm64"],
    "args": {"GO_VERSION": "1.22"},
}


def with_change(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = copy.deepcopy(VALID)
    change(document)
    return document


def set_path(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        node: Any = document
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        last = parts[-1]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return change


def build_rule(**changes: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["spec"]["build"] = {"rules": [{**BUILD_RULE, **changes}]}

    return change


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("bad apiVersion", set_path("apiVersion", "v2"), "apiVersion"),
    ("bad kind", set_path("kind", "Pipeline"), "kind"),
    ("name with capitals", set_path("metadata.name", "Web"), "metadata.name"),
    ("name too long", set_path("metadata.name", "a" * 65), "metadata.name"),
    ("unknown field", set_path("spec.colour", "blue"), "spec.colour"),
    ("bad namespace", set_path("spec.scope.namespace", "Bad NS"), "spec.scope.namespace"),
    ("bad repository", set_path("spec.scope.repository", "UPPER"), "spec.scope.repository"),
    ("bad scan engine", set_path("spec.scan.engine", "clair"), "spec.scan.engine"),
    ("bad policy mode", set_path("spec.scan.policy.mode", "strict"), "spec.scan.policy.mode"),
    (
        "bad deny level",
        set_path("spec.scan.policy.deny.level", "SEVERE"),
        "spec.scan.policy.deny.level",
    ),
    ("zero deny count", set_path("spec.scan.policy.deny.count", 0), "spec.scan.policy.deny.count"),
    ("bad logic", set_path("spec.scan.policy.deny.logic", "XOR"), "spec.scan.policy.deny.logic"),
    (
        "bad backup namespace",
        set_path("spec.scan.policy.backup.namespace", "a/b"),
        "spec.scan.policy.backup.namespace",
    ),
    (
        "bad trigger regex",
        set_path("spec.distribute.0.trigger.regexp", "v(("),
        "spec.distribute.0.trigger",
    ),
    (
        "catastrophic regex",
        set_path("spec.distribute.0.trigger.regexp", "(a+)+$"),
        "spec.distribute.0.trigger",
    ),
    (
        "11 trigger tags",
        set_path(
            "spec.distribute.0.trigger", {"type": "tags", "tags": [f"t{i}" for i in range(11)]}
        ),
        "spec.distribute.0.trigger.tags",
    ),
    (
        "bad trigger type",
        set_path("spec.distribute.0.trigger", {"type": "some"}),
        "spec.distribute.0.trigger.type",
    ),
    (
        "bad webhook scheme",
        set_path("spec.distribute.0.url", "ftp://x/hook"),
        "spec.distribute.0.url",
    ),
    ("bad format", set_path("spec.distribute.0.format", "slack"), "spec.distribute.0.format"),
    ("unknown secret", set_path("spec.distribute.0.secret", "nope"), "spec.distribute.0.secret"),
    (
        "unknown endpoint",
        set_path(
            "spec.sync",
            [{"name": "eu", "destination": {"endpoint": "nowhere", "namespace": "shop"}}],
        ),
        "spec.sync.0.destination.endpoint",
    ),
    (
        "bad tag filter",
        set_path(
            "spec.sync",
            [
                {
                    "name": "eu",
                    "tagFilter": "[",
                    "destination": {"endpoint": "x", "namespace": "shop"},
                }
            ],
        ),
        "spec.sync.0.tagFilter",
    ),
    (
        "bad sync scope",
        set_path(
            "spec.sync",
            [
                {
                    "name": "eu",
                    "scope": "global",
                    "destination": {"endpoint": "x", "namespace": "shop"},
                }
            ],
        ),
        "spec.sync.0.scope",
    ),
    ("four tags", build_rule(tags=[{"tag": f"t{i}"} for i in range(4)]), "spec.build.rules.0.tags"),
    (
        "21 build args",
        build_rule(args={f"A{i}": "x" for i in range(21)}),
        "spec.build.rules.0.args",
    ),
    ("unknown platform", build_rule(platforms=["linux/s390x"]), "spec.build.rules.0.platforms"),
    (
        "escaping directory",
        build_rule(dockerfile={"directory": "../..", "filename": "Dockerfile"}),
        "spec.build.rules.0.dockerfile.directory",
    ),
    (
        "absolute directory",
        build_rule(dockerfile={"directory": "/etc/x", "filename": "Dockerfile"}),
        "spec.build.rules.0.dockerfile.directory",
    ),
    ("bad ref regex", build_rule(ref="release-(?<x>"), "spec.build.rules.0.ref"),
    (
        "bad buildTime",
        build_rule(tags=[{"tag": "v", "buildTime": "yyyy"}]),
        "spec.build.rules.0.tags.0.buildTime",
    ),
    ("build node on a local repository", build_rule(), "spec.build"),
]


@pytest.fixture(scope="module")
def http(conveyor_server: ConveyorServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=conveyor_server.url, auth=("admin", conveyor_server.admin_password)
    ) as client:
        client.post("/api/v1/namespaces", json={"name": "vshop"})
        yield client


def test_the_valid_document_is_accepted(http: httpx.Client) -> None:
    reply = http.post("/api/v1/chains", json=VALID)
    assert reply.status_code == 200, reply.text
    http.delete("/api/v1/chains/valid-chain")


@pytest.mark.parametrize(("case", "change", "field"), CASES, ids=[c[0] for c in CASES])
def test_invalid_field_is_named_and_nothing_saved(
    http: httpx.Client, case: str, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    document = with_change(change)
    document["metadata"]["name"] = (
        document["metadata"]["name"] if case.startswith("name") else "bad-one"
    )
    reply = http.post("/api/v1/chains", json=document)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["field"] == field, error
    assert error["message"]
    assert http.get("/api/v1/chains/bad-one").status_code == 404
    assert "bad-one" not in {c["name"] for c in http.get("/api/v1/chains").json()}
