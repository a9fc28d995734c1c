"""Robot accounts, personal API tokens and the audit log against a real `conveyor serve`."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.chain_helpers import push_image
from tests.e2e.identity_helpers import (
    Principal,
    audit_entries,
    bearer,
    create_robot,
    create_user,
    registry_token,
    skopeo,
    token_for,
)
from tests.support.conveyor_server import CONVEYOR, ConveyorServer
from tests.support.images import busybox_layout, oci_ref, storage_env


@pytest.fixture(scope="module")
def admin(conveyor_server: ConveyorServer) -> Iterator[httpx.Client]:
    auth = (conveyor_server.admin_user, conveyor_server.admin_password)
    with httpx.Client(base_url=conveyor_server.url, auth=auth, timeout=60) as client:
        for namespace in ("shop", "books"):
            client.post("/api/v1/namespaces", json={"name": namespace})
        yield client


@pytest.fixture(scope="module")
def http(conveyor_server: ConveyorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=conveyor_server.url, timeout=60) as client:
        yield client


def cli_env(server: ConveyorServer, home: Path, **extra: str) -> dict[str, str]:
    """A CLI environment without any credentials but what the test gives."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVEYOR_")}
    return {**env, "XDG_CONFIG_HOME": str(home), "CONVEYOR_SERVER": server.url, **extra}


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CONVEYOR, *args], env=env, capture_output=True, text=True, timeout=120)


# ------------------------------------------------------------------------------ robots


def test_robot_pushes_with_skopeo_and_revocation_stops_it_at_once(
    conveyor_server: ConveyorServer, admin: httpx.Client, http: httpx.Client, tmp_path: Path
) -> None:
    made = conveyor_server.cli("robot", "create", "shop", "ci", "--access", "push", "-o", "json")
    robot = json.loads(made)
    assert robot["fullName"] == "robot$shop+ci" and robot["token"].startswith("cvr_")
    who = Principal("robot", robot["fullName"], robot["token"])
    copied = skopeo(
        storage_env(tmp_path / "containers"),
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"{who.user}:{who.secret}",
        oci_ref(busybox_layout("amd64")),
        f"docker://{conveyor_server.host}/shop/web:robot",
    )
    assert copied.returncode == 0, copied.stderr
    token = token_for(http, who, "repository:shop/web:pull")
    assert http.get("/v2/shop/web/tags/list", headers=bearer(token)).status_code == 200
    listed = conveyor_server.cli("robot", "list", "shop", "-o", "json")
    assert robot["token"] not in listed and "robot$shop+ci" in listed

    conveyor_server.cli("robot", "revoke", "shop", "ci")
    # At once, on every path: no cache keeps a revoked robot in.
    assert http.get("/v2/", auth=who.auth).status_code == 401
    refused = http.get("/v2/shop/web/tags/list", headers=bearer(token))
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert registry_token(http, who, "repository:shop/web:pull").status_code == 401
    assert admin.get("/api/v1/namespaces/shop/robots").json() == []


def test_an_expired_robot_is_refused_and_so_are_its_tokens(
    conveyor_server: ConveyorServer, http: httpx.Client
) -> None:
    made = conveyor_server.cli("robot", "create", "shop", "brief", "--expires", "2s")
    token_text = made.split()[-1]
    assert token_text.startswith("cvr_") and "Token (shown once)" in made
    who = Principal("brief", "robot$shop+brief", token_text)
    assert http.get("/v2/", auth=who.auth).status_code == 200
    registry = token_for(http, who, "repository:shop/web:pull")
    time.sleep(2.2)
    assert http.get("/v2/", auth=who.auth).status_code == 401
    assert http.get("/v2/shop/web/tags/list", headers=bearer(registry)).status_code == 401


def test_robot_rules(
    conveyor_server: ConveyorServer, admin: httpx.Client, http: httpx.Client
) -> None:
    create_user(conveyor_server, "dora", "dora-Secret-1")
    admin.put("/api/v1/namespaces/shop/members", json={"user": "dora", "role": "developer"})
    body = {"name": "builder", "access": "push"}
    # Only owners (and administrators) manage robots.
    as_dev = http.post("/api/v1/namespaces/shop/robots", json=body, auth=("dora", "dora-Secret-1"))
    assert as_dev.status_code == 403
    assert http.get("/api/v1/namespaces/shop/robots").status_code == 401
    create_robot(admin, "shop", "builder", "push")
    duplicate = admin.post("/api/v1/namespaces/shop/robots", json=body)
    assert duplicate.status_code == 409
    for bad in ({"name": "Bad Name", "access": "pull"}, {"name": "x", "access": "delete"}):
        assert admin.post("/api/v1/namespaces/shop/robots", json=bad).status_code == 400
    never = {"name": "n", "access": "pull", "expiresIn": "forever"}
    reply = admin.post("/api/v1/namespaces/shop/robots", json=never)
    assert reply.status_code == 400 and reply.json()["error"]["field"] == "expiresIn"
    assert admin.post("/api/v1/namespaces/nowhere/robots", json=body).status_code == 404
    # A robot's name cannot be taken by a user: user names have no `$` or `+`.
    taken = admin.post("/api/v1/users", json={"name": "robot$shop+builder", "password": "x" * 12})
    assert taken.status_code == 400


# ------------------------------------------------------------------------------ personal tokens


def test_login_keeps_a_personal_token_and_never_the_password(
    conveyor_server: ConveyorServer, admin: httpx.Client, tmp_path: Path
) -> None:
    create_user(conveyor_server, "lena", "lena-Secret-1")
    env = cli_env(conveyor_server, tmp_path)
    login = run_cli(env, "login", "--username", "lena", "--password", "lena-Secret-1")
    assert login.returncode == 0, login.stdout + login.stderr
    saved_path = tmp_path / "conveyor" / "credentials.json"
    saved = json.loads(saved_path.read_text())
    assert oct(saved_path.stat().st_mode & 0o777) == "0o600"
    assert saved["token"].startswith("cvt_") and "password" not in saved
    assert "lena-Secret-1" not in saved_path.read_text()
    first_id = saved["token"].split("_")[1]
    listed = run_cli(env, "token", "list", "-o", "json")
    assert listed.returncode == 0 and first_id in listed.stdout
    # Logging in again replaces the token: the old one is revoked.
    again = run_cli(env, "login", "--username", "lena", "--password", "lena-Secret-1")
    assert again.returncode == 0
    ids = {t["id"] for t in json.loads(run_cli(env, "token", "list", "-o", "json").stdout)}
    assert first_id not in ids and len(ids) == 1
    token = json.loads(saved_path.read_text())["token"]
    assert run_cli(env, "logout").returncode == 0
    assert not saved_path.exists()
    assert admin.get("/api/v1/tokens", params={"user": "lena"}).json() == []
    assert (
        httpx.get(f"{conveyor_server.url}/api/v1/tokens", headers=bearer(token)).status_code == 401
    )


def test_personal_token_on_the_api_and_the_registry_until_revoked(
    conveyor_server: ConveyorServer, admin: httpx.Client, http: httpx.Client, tmp_path: Path
) -> None:
    create_user(conveyor_server, "tess", "tess-Secret-1")
    admin.put("/api/v1/namespaces/books/members", json={"user": "tess", "role": "developer"})
    made = http.post("/api/v1/tokens", json={"name": "ci"}, auth=("tess", "tess-Secret-1"))
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    # CONVEYOR_TOKEN: the CLI sends it as Bearer.
    env = cli_env(conveyor_server, tmp_path, CONVEYOR_TOKEN=token)
    shown = run_cli(env, "namespace", "list", "-o", "json")
    assert shown.returncode == 0 and "books" in shown.stdout
    # As a registry password (Basic), with the token's own user name only.
    assert http.get("/v2/", auth=("tess", token)).status_code == 200
    assert http.get("/v2/", auth=("admin", token)).status_code == 401
    push_image(httpx.Client(base_url=conveyor_server.url, auth=("tess", token)), "books/app", "t1")
    via_token = token_for(http, Principal("t", "tess", token), "repository:books/app:pull")
    assert http.get("/v2/books/app/tags/list", headers=bearer(via_token)).status_code == 200
    # A token cannot mint tokens (a stolen one must not outlive its expiry).
    assert http.post("/api/v1/tokens", json={}, headers=bearer(token)).status_code == 403
    # Registry tokens (JWTs) are for /v2 only.
    assert http.get("/api/v1/namespaces", headers=bearer(via_token)).status_code == 401

    token_id = made.json()["id"]
    assert http.delete(f"/api/v1/tokens/{token_id}", headers=bearer(token)).status_code == 204
    assert http.get("/api/v1/namespaces", headers=bearer(token)).status_code == 401
    assert http.get("/v2/", auth=("tess", token)).status_code == 401
    assert http.get("/v2/books/app/tags/list", headers=bearer(via_token)).status_code == 401


def test_an_expired_personal_token_is_refused(http: httpx.Client, admin: httpx.Client) -> None:
    made = admin.post("/api/v1/tokens", json={"name": "short", "expiresIn": "1s"}).json()
    assert made["expiresAt"]
    time.sleep(1.2)
    assert http.get("/api/v1/namespaces", headers=bearer(made["token"])).status_code == 401
    assert http.get("/v2/", auth=("admin", made["token"])).status_code == 401


# ------------------------------------------------------------------------------ the audit log


def test_the_audit_log_says_who_did_what_from_where(
    conveyor_server: ConveyorServer, admin: httpx.Client, http: httpx.Client
) -> None:
    create_user(conveyor_server, "audra", "audra-Secret-1")
    audra = httpx.Client(base_url=conveyor_server.url, auth=("audra", "audra-Secret-1"))
    audra.post("/api/v1/namespaces", json={"name": "audited"})
    push_image(audra, "audited/app", "v1")
    assert audra.delete("/v2/audited/app/manifests/v1").status_code == 202
    chain = {
        "apiVersion": "conveyor/v1",
        "kind": "Chain",
        "metadata": {"name": "audited-chain"},
        "spec": {
            "scope": {"namespace": "audited"},
            "distribute": [{"name": "h", "url": "http://127.0.0.1:9/hook"}],
        },
    }
    assert audra.post("/api/v1/chains", json=chain).status_code == 200
    assert audra.delete("/api/v1/chains/audited-chain").status_code == 204
    audra.put("/api/v1/namespaces/audited/members", json={"user": "dora", "role": "guest"})
    audra.delete("/api/v1/namespaces/audited/members/dora")
    robot = create_robot(audra, "audited", "bot", "pull")
    audra.delete("/api/v1/namespaces/audited/robots/bot")
    conveyor_server.cli("secret", "set", "audited-secret", input="audited-value-7\n")
    conveyor_server.cli("secret", "remove", "audited-secret")
    assert http.get("/v2/", auth=("audra", "not-her-password")).status_code == 401
    token_for(http, Principal("a", "audra", "audra-Secret-1"), "repository:audited/app:pull")

    entries = audit_entries(admin, user="audra")
    seen = {(e["action"], e["target"], e["outcome"]) for e in entries}
    digest = next(e["target"] for e in entries if e["action"] == "registry.push")
    assert digest.startswith("audited/app@sha256:")
    for expected in (
        ("namespace.create", "audited", "success"),
        ("registry.delete", "audited/app:v1", "success"),
        ("chain.apply", "audited-chain", "success"),
        ("chain.delete", "audited-chain", "success"),
        ("member.set", "audited/dora", "success"),
        ("member.remove", "audited/dora", "success"),
        ("robot.create", "robot$audited+bot", "success"),
        ("robot.revoke", "robot$audited+bot", "success"),
        ("auth.login", "", "failure"),
        ("auth.token", "conveyor", "success"),
    ):
        assert expected in seen, (expected, sorted(seen))
    assert all(e["clientIp"] == "127.0.0.1" for e in entries)
    push = next(e for e in entries if e["action"] == "registry.push")
    assert push["detail"]["tags"] == ["v1"]
    secrets = audit_entries(admin, user="admin", action="secret")
    assert {e["action"] for e in secrets} >= {"secret.set", "secret.remove"}
    assert "audited-value-7" not in json.dumps(audit_entries(admin))
    assert robot["token"] not in json.dumps(audit_entries(admin))

    # The CLI: filters by user, action area and age.
    shown = conveyor_server.cli(
        "audit", "--user", "audra", "--action", "robot", "--since", "1h", "-o", "json"
    )
    assert {e["action"] for e in json.loads(shown)} == {"robot.create", "robot.revoke"}
    table = conveyor_server.cli("audit", "--user", "audra")
    assert "audra" in table and "127.0.0.1" in table
    future = conveyor_server.cli("audit", "--since", "2999-01-01T00:00:00Z", "-o", "json")
    assert json.loads(future) == []
    # Administrators only.
    assert audra.get("/api/v1/audit").status_code == 403
    assert http.get("/api/v1/audit").status_code == 401
