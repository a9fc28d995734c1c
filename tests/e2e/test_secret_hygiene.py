"""Secrets never come back out, and the secrets key can be rotated.

A secret set through the CLI signs a webhook (a distribute node with `secret:`), so it is really
used; then every API response the instance can list, the console's pages, every CLI output, the
server log, and the database files themselves are searched for the value (and for an endpoint
password): it appears nowhere. Then `conveyor secret rotate-key` moves everything to a new key,
and the old key can go.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from conveyor.auth.secrets import SecretBox
from conveyor.distribute.signing import verify
from tests.e2e.chain_helpers import push_image, wait_records
from tests.support.conveyor_server import ConveyorServer
from tests.support.receiver import Receiver

SECRET = "hook-Secret-NEVER-SHOWN-4471"
PASSWORD = "endpoint-Password-NEVER-SHOWN-9913"
KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()
CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')


def chain_file(tmp_path: Path, receiver: Receiver) -> Path:
    path = tmp_path / "chain.yaml"
    path.write_text(
        "apiVersion: conveyor/v1\n"
        "kind: Chain\n"
        "metadata: {name: signed-release}\n"
        "spec:\n"
        "  scope: {namespace: vault, repository: app}\n"
        "  distribute:\n"
        f"    - {{name: signed, url: '{receiver.url}', secret: hook-key, format: cloudevents}}\n"
    )
    return path


def everything_the_api_lists(http: httpx.Client, record_id: int) -> list[str]:
    paths = [
        "/api/v1/records",
        f"/api/v1/records/{record_id}",
        f"/api/v1/records/{record_id}/logs",
        "/api/v1/chains",
        "/api/v1/chains/signed-release",
        "/api/v1/chains/signed-release/versions/1",
        "/api/v1/secrets",
        "/api/v1/endpoints",
        "/api/v1/users",
        "/api/v1/audit?limit=1000",
        "/api/v1/namespaces",
        "/api/v1/namespaces/vault/members",
        "/api/v1/repositories",
        "/api/v1/repositories/vault/app",
        "/api/v1/tokens",
        "/api/v1/vulndb",
        "/api/v1/openapi.json",
        # Errors that name the secret or the endpoint must not carry their values either.
        "/api/v1/secrets/hook-key",
        "/api/v1/endpoints/eu",
    ]
    bodies = []
    for path in paths:
        reply = http.get(path)
        assert reply.status_code in (200, 405), (path, reply.status_code, reply.text)
        bodies.append(reply.text)
    bad_chain = {"apiVersion": "conveyor/v1", "kind": "Chain", "metadata": {"name": "x"}}
    bodies.append(http.post("/api/v1/chains", json=bad_chain).text)
    bodies.append(http.put("/api/v1/secrets/Bad Name", json={"value": SECRET}).text)
    bodies.append(http.put("/api/v1/secrets/big", json={"value": SECRET * 2000}).text)
    return bodies


def console_pages(server: ConveyorServer, record_id: int) -> list[str]:
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        form = browser.get("/login")
        token = CSRF_INPUT.search(form.text)
        assert token
        signed = browser.post(
            "/login",
            data={"username": "admin", "password": server.admin_password, "csrf": token[1]},
        )
        assert signed.status_code == 303
        pages = ["/", "/secrets", "/endpoints", "/chains/signed-release", f"/records/{record_id}"]
        return [browser.get(page).text for page in pages]


def database_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.glob("conveyor.db*"))


def test_a_secret_set_through_the_cli_never_comes_back_out(
    conveyor_factory: Callable[..., ConveyorServer], receiver: Receiver, tmp_path: Path
) -> None:
    server = conveyor_factory(CONVEYOR_SECRETS__KEY=KEY_A)
    outputs = [
        server.cli("secret", "set", "hook-key", input=SECRET + "\n"),
        server.cli(
            "endpoint",
            "add",
            "eu",
            "--url",
            "https://eu.example.com",
            "--username",
            "bot",
            "--password-stdin",
            input=PASSWORD + "\n",
        ),
        server.cli("namespace", "create", "vault"),
        server.cli("chain", "apply", "-f", str(chain_file(tmp_path, receiver))),
    ]
    auth = (server.admin_user, server.admin_password)
    with httpx.Client(base_url=server.url, auth=auth, timeout=60) as http:
        push_image(http, "vault/app", "v1")
        arrived = receiver.wait_for(1, timeout=15)[0]
        assert verify(
            SECRET, arrived.body, arrived.headers["X-Conveyor-Signature"], int(time.time())
        )
        record = wait_records(http, "signed-release", 1, timeout=15)[0]
        bodies = everything_the_api_lists(http, record["id"])
    outputs += [
        server.cli("secret", "list"),
        server.cli("secret", "list", "-o", "json"),
        server.cli("endpoint", "list", "-o", "json"),
        server.cli("chain", "show", "signed-release"),
        server.cli("chain", "export", "signed-release"),
        server.cli("record", "list", "-o", "json"),
        server.cli("record", "show", str(record["id"]), "--logs", "-o", "json"),
        server.cli("record", "show", str(record["id"]), "--logs"),
        server.cli("audit", "-o", "json", "--limit", "1000"),
        server.cli("secret", "set", "Bad Name", input=SECRET + "\n", check=False),
    ]
    pages = console_pages(server, record["id"])
    searched = {
        "API responses": "\n".join(bodies),
        "CLI outputs": "\n".join(outputs),
        "console pages": "\n".join(pages),
        "server log": server.log_path.read_text(),
    }
    for value in (SECRET, PASSWORD):
        for where, text in searched.items():
            assert value not in text, f"{value} appears in the {where}"
        assert value.encode() not in database_bytes(server.data_dir), "stored in clear"
    assert "hook-key" in searched["API responses"]  # the name is listed; only the value is not


def test_the_secrets_key_rotates_without_losing_a_value(
    conveyor_factory: Callable[..., ConveyorServer], receiver: Receiver, tmp_path: Path
) -> None:
    server = conveyor_factory(CONVEYOR_SECRETS__KEY=KEY_A)
    server.cli("secret", "set", "hook-key", input=SECRET + "\n")
    server.cli(
        "endpoint",
        "add",
        "eu",
        "--url",
        "https://eu.example.com",
        "--username",
        "bot",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    server.cli("namespace", "create", "vault")
    server.cli("chain", "apply", "-f", str(chain_file(tmp_path, receiver)))

    # Step 1: every process gets the new key, and the old one as a previous key.
    server.stop()
    server.env.update(CONVEYOR_SECRETS__KEY=KEY_B, CONVEYOR_SECRETS__PREVIOUS_KEYS=KEY_A)
    server.start()
    # Step 2: re-seal.
    rotated = json.loads(server.cli("secret", "rotate-key", "-o", "json"))
    assert rotated == {
        "keyId": SecretBox(base64.b64decode(KEY_B)).key_id,
        "secrets": 1,
        "endpointPasswords": 1,
    }
    assert "Re-sealed 1 secrets and 1 endpoint passwords" in server.cli("secret", "rotate-key")
    # Step 3: the old key goes; every value still opens, with the new key alone.
    server.stop()
    del server.env["CONVEYOR_SECRETS__PREVIOUS_KEYS"]
    server.start()
    auth = (server.admin_user, server.admin_password)
    with httpx.Client(base_url=server.url, auth=auth, timeout=60) as http:
        push_image(http, "vault/app", "v1")
        arrived = receiver.wait_for(1, timeout=15)[0]
        assert verify(
            SECRET, arrived.body, arrived.headers["X-Conveyor-Signature"], int(time.time())
        )
        audit = http.get("/api/v1/audit", params={"action": "secret.rotate-key"}).json()
        assert len(audit) == 2 and audit[0]["actor"] == "admin"
    new_box = SecretBox(base64.b64decode(KEY_B))
    with sqlite3.connect(server.data_dir / "conveyor.db") as db:
        nonce, sealed = db.execute(
            "SELECT password_nonce, password_ciphertext FROM endpoints WHERE name = 'eu'"
        ).fetchone()
        key_ids = {row[0] for row in db.execute("SELECT key_id FROM secrets")}
    assert new_box.open("endpoint:eu", nonce, sealed) == PASSWORD
    assert key_ids == {new_box.key_id}


def test_rotation_refuses_and_changes_nothing_when_a_value_cannot_be_opened(
    conveyor_factory: Callable[..., ConveyorServer],
) -> None:
    server = conveyor_factory(CONVEYOR_SECRETS__KEY=KEY_A)
    server.cli("secret", "set", "orphan", input="value-under-key-A\n")
    server.stop()
    server.env["CONVEYOR_SECRETS__KEY"] = KEY_B  # the old key forgotten: A's values are lost
    server.start()
    failed = server.cli("secret", "rotate-key", check=False)
    assert "CONFLICT" in failed and "orphan" in failed and "nothing was changed" in failed
