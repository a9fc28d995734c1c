"""The environment git runs in: nothing of the server's, and credentials only through files and
variables of a private directory, never in the URL, the command line or a log.

A credentials secret holds `username:password`, a bare token (sent as the password of
`x-access-token`, which GitHub, GitLab and Gitea accept for tokens), or an SSH private key.
Over http(s) git asks GIT_ASKPASS, a script that prints the answer from the environment, and only
when the server asks; over ssh the key goes to a 0600 file used with IdentitiesOnly.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TOKEN_USER = "x-access-token"
_ASKPASS = """#!/bin/sh
case "$1" in
  Username*|username*) printf '%s\\n' "$CONVEYOR_GIT_USERNAME" ;;
  *) printf '%s\\n' "$CONVEYOR_GIT_PASSWORD" ;;
esac
"""


@dataclass(frozen=True, slots=True)
class GitCredentials:
    username: str | None = None
    password: str | None = None
    ssh_key: str | None = None

    @classmethod
    def parse(cls, value: str) -> GitCredentials:
        text = value.strip()
        if text.startswith("-----BEGIN"):
            return cls(ssh_key=text + "\n")
        if ":" in text:
            username, _, password = text.partition(":")
            return cls(username=username, password=password)
        return cls(username=TOKEN_USER, password=text)

    def secrets(self) -> list[str]:
        """Values a log line must never show."""
        values = [self.password or "", self.ssh_key or ""]
        values += (self.ssh_key or "").splitlines()
        return [v.strip() for v in values if len(v.strip()) >= 4]


def scheme_of(url: str) -> str:
    """`https`, `http`, `ssh` or `file`; scp-like `user@host:path` is ssh."""
    parts = urlsplit(url)
    if parts.scheme:
        return parts.scheme.lower()
    return "ssh"


def base_env(home: Path) -> dict[str, str]:
    """A clean environment: the server's own variables (its keys, cloud credentials) stay out."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return {
        "PATH": os.environ.get("PATH", DEFAULT_PATH),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TMPDIR": str(home),
    }


def git_env(home: Path, url: str, credentials: GitCredentials | None) -> dict[str, str]:
    env = base_env(home)
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            # Only the transport the source names; no ext::, no fd::, no surprises in submodules.
            "GIT_ALLOW_PROTOCOL": scheme_of(url),
            "GIT_SSH_COMMAND": _ssh_command(home, None),
        }
    )
    if credentials is None:
        return env
    if credentials.ssh_key is not None:
        key = home / "id_key"
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(credentials.ssh_key)
        env["GIT_SSH_COMMAND"] = _ssh_command(home, key)
    if credentials.password is not None:
        askpass = home / "askpass.sh"
        fd = os.open(askpass, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700)
        with os.fdopen(fd, "w") as handle:
            handle.write(_ASKPASS)
        env["GIT_ASKPASS"] = str(askpass)
        env["CONVEYOR_GIT_USERNAME"] = credentials.username or TOKEN_USER
        env["CONVEYOR_GIT_PASSWORD"] = credentials.password
    return env


def _ssh_command(home: Path, key: Path | None) -> str:
    parts = [
        "ssh",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        f"UserKnownHostsFile={home / 'known_hosts'}",
    ]
    if key is not None:
        parts += ["-o", "IdentitiesOnly=yes", "-i", str(key)]
    return shlex.join(parts)
