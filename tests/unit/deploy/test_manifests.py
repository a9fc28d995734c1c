"""The deployment files parse, and point at what the code really serves."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

from conveyor.config import Settings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def documents() -> list[dict[str, object]]:
    found = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        found.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return found


def test_kubernetes_manifests_parse_and_cover_the_pieces() -> None:
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in documents() if "metadata" in d)  # type: ignore[index]
    assert kinds == [
        "ConfigMap/conveyor",
        "Deployment/conveyor",
        "Deployment/conveyor-runner",
        "Secret/conveyor",
        "Service/conveyor",
    ]


def test_probes_use_the_real_endpoints() -> None:
    paths = set()
    for doc in documents():
        if doc.get("kind") != "Deployment":
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:  # type: ignore[index]
            paths.add(container["readinessProbe"]["httpGet"]["path"])
            paths.add(container["livenessProbe"]["httpGet"]["path"])
    assert paths == {"/readyz", "/healthz"}


def test_configurations_are_valid_settings() -> None:
    configmap = next(d for d in documents() if d["kind"] == "ConfigMap")
    Settings.model_validate(tomllib.loads(configmap["data"]["conveyor.toml"]))  # type: ignore[index]
    Settings.model_validate(tomllib.loads((DEPLOY / "systemd" / "conveyor.toml").read_text()))
