"""`conveyor login|logout`, `robot`, `token`, `audit` and `secret rotate-key`."""

from __future__ import annotations

import contextlib
import os
import re
import socket
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from conveyor.cli.client import ApiClient, CliError, credentials_file, save_token, saved_login
from conveyor.cli.output import console, emit

robot_app = typer.Typer(no_args_is_help=True, help="Robot accounts of a namespace (owners).")
token_app = typer.Typer(no_args_is_help=True, help="Personal API tokens.")

Output = Annotated[str, typer.Option("--output", "-o", help="table or json")]
Server = Annotated[str | None, typer.Option("--server", help="Conveyor server URL")]
Expires = Annotated[
    str | None, typer.Option("--expires", help="lifetime, e.g. 30d, 12h (default: none)")
]
_DURATION = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def login(
    server: Server = None,
    username: Annotated[str, typer.Option(prompt=True)] = "admin",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)] = "",
    expires: Expires = None,
) -> None:
    """Sign in with your password once; keep a personal API token (never the password)."""
    previous = saved_login()
    os.environ.pop("CONVEYOR_TOKEN", None)
    os.environ["CONVEYOR_USER"], os.environ["CONVEYOR_PASSWORD"] = username, password
    client = ApiClient(server)
    body = {"name": f"cli@{socket.gethostname()}"[:64], "expiresIn": expires}
    created = client.post("/api/v1/tokens", body)
    path = save_token(client.server, username, created["token"])
    _revoke_saved(client, previous)  # the token this login replaces
    until = created["expiresAt"] or "never"
    console.print(
        f"Logged in to {client.server} as {username}: token {created['id']} (expires: {until}) "
        f"saved in {path}."
    )


def logout(server: Server = None) -> None:
    """Revoke the saved token and forget it."""
    saved = saved_login()
    if not saved:
        console.print("Not logged in.")
        return
    for name in ("CONVEYOR_TOKEN", "CONVEYOR_USER", "CONVEYOR_PASSWORD"):
        os.environ.pop(name, None)
    _revoke_saved(ApiClient(server or saved.get("server")), saved)
    credentials_file().unlink(missing_ok=True)
    console.print("Logged out.")


def _revoke_saved(client: ApiClient, saved: dict[str, str]) -> None:
    token = saved.get("token", "")
    if not token.startswith("cvt_") or saved.get("server") != client.server:
        return
    with contextlib.suppress(CliError):  # already revoked or expired: nothing to undo
        client.delete(f"/api/v1/tokens/{token.split('_')[1]}")


# -- robots ----------------------------------------------------------------------------------


@robot_app.command("create")
def robot_create(
    namespace: str,
    name: str,
    access: Annotated[str, typer.Option("--access", help="pull or push")] = "pull",
    expires: Expires = None,
    server: Server = None,
    output: Output = "table",
) -> None:
    """The token is shown this once: keep it somewhere safe."""
    body = {"name": name, "access": access, "expiresIn": expires}
    robot = ApiClient(server).post(f"/api/v1/namespaces/{namespace}/robots", body)
    if output == "json":
        emit(robot, output)
        return
    console.print(
        f"Robot [bold]{robot['fullName']}[/bold] created: {robot['access']} on {namespace}, "
        f"expires {robot['expiresAt'] or 'never'}."
    )
    console.print("Token (shown once):", markup=False)
    print(robot["token"])


@robot_app.command("list")
def robot_list(namespace: str, server: Server = None, output: Output = "table") -> None:
    rows = ApiClient(server).get(f"/api/v1/namespaces/{namespace}/robots")
    emit(rows, output, ["fullName", "access", "expiresAt", "createdBy", "createdAt"])


@robot_app.command("revoke")
def robot_revoke(namespace: str, name: str, server: Server = None) -> None:
    ApiClient(server).delete(f"/api/v1/namespaces/{namespace}/robots/{name}")
    console.print(f"Revoked robot {name} of {namespace}.")


# -- personal tokens -------------------------------------------------------------------------


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="what the token is for")] = "api",
    expires: Expires = None,
    server: Server = None,
    output: Output = "table",
) -> None:
    """Needs your password (CONVEYOR_USER/CONVEYOR_PASSWORD); the token is shown once."""
    created = ApiClient(server).post("/api/v1/tokens", {"name": name, "expiresIn": expires})
    if output == "json":
        emit(created, output)
        return
    console.print(f"Token {created['id']} created, expires {created['expiresAt'] or 'never'}.")
    print(created["token"])


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option("--user", help="another user's (admins)")] = None,
    server: Server = None,
    output: Output = "table",
) -> None:
    params = {"user": user} if user else {}
    rows = ApiClient(server).get("/api/v1/tokens", params=params)
    emit(rows, output, ["id", "user", "name", "expiresAt", "createdAt"])


@token_app.command("revoke")
def token_revoke(token_id: str, server: Server = None) -> None:
    ApiClient(server).delete(f"/api/v1/tokens/{token_id}")
    console.print(f"Revoked token {token_id}.")


# -- audit -----------------------------------------------------------------------------------


def audit(
    user: Annotated[str | None, typer.Option("--user", help="who acted")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="e.g. registry.push, or an area: robot")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="a time (ISO 8601) or an age: 24h, 7d")
    ] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="success or failure")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 100,
    server: Server = None,
    output: Output = "table",
) -> None:
    """The audit log, newest first (administrators)."""
    params: dict[str, Any] = {"limit": limit}
    for key, value in (("user", user), ("action", action), ("outcome", outcome)):
        if value:
            params[key] = value
    if since:
        params["since"] = since_time(since)
    rows = ApiClient(server).get("/api/v1/audit", params=params)
    emit(rows, output, ["at", "actor", "action", "target", "outcome", "clientIp"])


def since_time(text: str) -> str:
    """`24h` -> the ISO time 24 hours ago; an ISO time as it is."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        return text
    age = timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2)])
    return (datetime.now(UTC) - age).isoformat()


# -- secrets ---------------------------------------------------------------------------------


def add_secret_commands(secret_app: typer.Typer) -> None:
    @secret_app.command("rotate-key")
    def rotate_key(server: Server = None, output: Output = "table") -> None:
        """Re-seal every secret and endpoint password with the current `[secrets] key`.

        First give every replica and runner the new key as `key` and the old one in
        `previous_keys`, and restart them; after this, `previous_keys` may go."""
        report = ApiClient(server).post("/api/v1/secrets/rotate-key", {})
        if output == "json":
            emit(report, output)
            return
        console.print(
            f"Re-sealed {report['secrets']} secrets and {report['endpointPasswords']} endpoint "
            f"passwords with key {report['keyId']}."
        )
