"""The `conveyor` command against a real server: namespaces, users, repositories, errors."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess

import httpx

from tests.support.conveyor_server import CONVEYOR, ConveyorServer


def test_namespace_create_list_delete(conveyor_server: ConveyorServer) -> None:
    conveyor_server.cli("namespace", "create", "team-a")
    conveyor_server.cli("namespace", "create", "team-pub", "--public")
    listed = json.loads(conveyor_server.cli("namespace", "list", "-o", "json"))
    flags = {n["name"]: n["public"] for n in listed}
    assert flags["team-a"] is False and flags["team-pub"] is True
    assert "team-a" in conveyor_server.cli("namespace", "list")
    conveyor_server.cli("namespace", "delete", "team-a")
    listed = json.loads(conveyor_server.cli("namespace", "list", "-o", "json"))
    assert "team-a" not in {n["name"] for n in listed}


def test_invalid_namespace_name_is_refused_with_the_field(conveyor_server: ConveyorServer) -> None:
    result = subprocess.run(
        [CONVEYOR, "namespace", "create", "Bad/Name"],
        env=conveyor_server.cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "field: name" in result.stdout + result.stderr


def test_user_create_list_delete_and_sign_in(conveyor_server: ConveyorServer) -> None:
    conveyor_server.cli("user", "create", "carol", "--password-stdin", input="carol-pass-1\n")
    users = json.loads(conveyor_server.cli("user", "list", "-o", "json"))
    assert {"carol", "admin"} <= {u["name"] for u in users}
    assert (
        httpx.get(f"{conveyor_server.url}/v2/", auth=("carol", "carol-pass-1")).status_code == 200
    )
    duplicate = conveyor_server.cli(
        "user", "create", "carol", "--password-stdin", input="carol-pass-1\n", check=False
    )
    assert "exists" in duplicate or duplicate == ""
    conveyor_server.cli("user", "delete", "carol")
    users = json.loads(conveyor_server.cli("user", "list", "-o", "json"))
    assert "carol" not in {u["name"] for u in users}


def test_short_password_is_refused(conveyor_server: ConveyorServer) -> None:
    result = subprocess.run(
        [CONVEYOR, "user", "create", "dave", "--password-stdin"],
        env=conveyor_server.cli_env(),
        input="short\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "password" in result.stdout


def test_repo_list_and_show_after_a_push(conveyor_server: ConveyorServer) -> None:
    config = b'{"architecture":"amd64","os":"linux"}'
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest,
                "size": len(config),
            },
            "layers": [],
        }
    ).encode()
    with httpx.Client(
        base_url=conveyor_server.url, auth=("admin", conveyor_server.admin_password)
    ) as http:
        http.post(f"/v2/cli/app/blobs/uploads/?digest={digest}", content=config)
        http.put(
            "/v2/cli/app/manifests/v1",
            content=manifest,
            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        )
    repos = json.loads(conveyor_server.cli("repo", "list", "cli", "-o", "json"))
    assert [(r["name"], r["tagCount"]) for r in repos] == [("cli/app", 1)]
    shown = json.loads(conveyor_server.cli("repo", "show", "cli/app", "-o", "json"))
    assert shown["tags"][0]["name"] == "v1"
    assert shown["tags"][0]["digest"] == "sha256:" + hashlib.sha256(manifest).hexdigest()
    assert "v1" in conveyor_server.cli("repo", "show", "cli/app")


def test_wrong_password_is_a_clear_error(conveyor_server: ConveyorServer) -> None:
    env = {**conveyor_server.cli_env(), "CONVEYOR_PASSWORD": "wrong-password"}
    result = subprocess.run(
        [CONVEYOR, "user", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "UNAUTHORIZED" in result.stdout


def test_login_saves_credentials_for_later_commands(
    conveyor_server: ConveyorServer, tmp_path: os.PathLike[str]
) -> None:
    env = {k: v for k, v in conveyor_server.cli_env().items() if not k.startswith("CONVEYOR_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    login = subprocess.run(
        [
            CONVEYOR,
            "login",
            "--server",
            conveyor_server.url,
            "--username",
            "admin",
            "--password",
            conveyor_server.admin_password,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert login.returncode == 0, login.stdout + login.stderr
    saved = tmp_path / "conveyor" / "credentials.json"  # type: ignore[operator]
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    listed = subprocess.run(
        [CONVEYOR, "user", "list", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0 and "admin" in listed.stdout


def test_member_roles_decide_pull_and_push(conveyor_server: ConveyorServer) -> None:
    conveyor_server.cli("user", "create", "eve", "--password-stdin", input="eve-pass-123\n")
    conveyor_server.cli("namespace", "create", "teamx")
    blob = b"eve's blob"
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    with httpx.Client(base_url=conveyor_server.url, auth=("eve", "eve-pass-123")) as eve:
        assert eve.post("/v2/teamx/app/blobs/uploads/").status_code == 403
        conveyor_server.cli("namespace", "member", "add", "teamx", "eve", "--role", "guest")
        members = json.loads(
            conveyor_server.cli("namespace", "member", "list", "teamx", "-o", "json")
        )
        assert members == [{"user": "eve", "role": "guest"}]
        assert eve.post("/v2/teamx/app/blobs/uploads/").status_code == 403
        conveyor_server.cli("namespace", "member", "add", "teamx", "eve", "--role", "developer")
        assert (
            eve.post(f"/v2/teamx/app/blobs/uploads/?digest={digest}", content=blob).status_code
            == 201
        )
        assert eve.get(f"/v2/teamx/app/blobs/{digest}").content == blob
        conveyor_server.cli("namespace", "member", "remove", "teamx", "eve")
        assert eve.get(f"/v2/teamx/app/blobs/{digest}").status_code == 403
