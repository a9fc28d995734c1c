"""Shared steps of the identity and access tests: principals, the token flow, skopeo."""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.conveyor_server import ConveyorServer

SERVICE = "conveyor"


@dataclass(frozen=True)
class Principal:
    """Someone knocking: a user, a robot, or nobody (user None)."""

    label: str
    user: str | None = None
    secret: str | None = None

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.user, self.secret or "") if self.user else None

    @property
    def creds(self) -> list[str]:
        """skopeo's credential flags, with a prefix: `--creds`, `--src-creds`, `--dest-creds`."""
        return [f"{self.user}:{self.secret}"] if self.user else []


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def registry_token(http: httpx.Client, who: Principal, *scopes: str) -> httpx.Response:
    query = [("service", SERVICE), *(("scope", s) for s in scopes)]
    return http.get("/auth/token", params=query, auth=who.auth)


def token_for(http: httpx.Client, who: Principal, *scopes: str) -> str:
    reply = registry_token(http, who, *scopes)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["token"])


def skopeo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["skopeo", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def skopeo_creds(flag: str, who: Principal) -> list[str]:
    """`--creds u:p` for a principal, `--no-creds` (with the flag's prefix) for anonymous."""
    if who.user is None:
        return [flag.replace("creds", "no-creds")]
    return [flag, f"{who.user}:{who.secret}"]


def create_user(server: ConveyorServer, name: str, password: str) -> None:
    server.cli("user", "create", name, "--password-stdin", input=password + "\n")


def create_robot(
    http: httpx.Client, namespace: str, name: str, access: str, expires: str | None = None
) -> dict[str, Any]:
    reply = http.post(
        f"/api/v1/namespaces/{namespace}/robots",
        json={"name": name, "access": access, "expiresIn": expires},
    )
    assert reply.status_code == 201, reply.text
    robot: dict[str, Any] = reply.json()
    return robot


def audit_entries(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    reply = http.get("/api/v1/audit", params={"limit": 1000, **params})
    assert reply.status_code == 200, reply.text
    entries: list[dict[str, Any]] = reply.json()
    return entries
