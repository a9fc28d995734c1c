"""The CLI's connection to a server: address and credentials from flags, environment or login."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

DEFAULT_SERVER = "http://127.0.0.1:5000"


class CliError(Exception):
    """Printed to the user as it is, and the command exits 1."""


def credentials_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "conveyor" / "credentials.json"


def saved_login() -> dict[str, str]:
    path = credentials_file()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def save_login(server: str, username: str, password: str) -> Path:
    return _save({"server": server, "username": username, "password": password})


def save_token(server: str, username: str, token: str) -> Path:
    """What `conveyor login` keeps: a personal API token, never the password."""
    return _save({"server": server, "username": username, "token": token})


def _save(data: dict[str, str]) -> Path:
    path = credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    return path


class ApiClient:
    def __init__(self, server: str | None = None) -> None:
        saved = saved_login()
        self.server = (
            server or os.environ.get("CONVEYOR_SERVER") or saved.get("server") or DEFAULT_SERVER
        ).rstrip("/")
        headers: dict[str, str] = {}
        auth: httpx.Auth | None = None
        # CONVEYOR_TOKEN, then CONVEYOR_USER/CONVEYOR_PASSWORD, then what `conveyor login` saved.
        token = os.environ.get("CONVEYOR_TOKEN")
        user = os.environ.get("CONVEYOR_USER") or saved.get("username")
        password = os.environ.get("CONVEYOR_PASSWORD") or saved.get("password")
        if not token and not os.environ.get("CONVEYOR_PASSWORD"):
            token = saved.get("token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif user and password:
            auth = httpx.BasicAuth(user, password)
        self.http = httpx.Client(base_url=self.server, headers=headers, auth=auth, timeout=600)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach {self.server}: {exc}") from None
        if response.status_code >= 400:
            raise CliError(_error_text(response))
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        text = f"{error.get('code', response.status_code)}: {error.get('message', '')}"
        return text + (f" (field: {error['field']})" if error.get("field") else "")
    except (ValueError, AttributeError):
        return f"HTTP {response.status_code}: {response.text[:200]}"
