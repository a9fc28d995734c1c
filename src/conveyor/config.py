"""Settings: one TOML file, overridden by CONVEYOR_<SECTION>__<KEY> environment variables."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ENV_PREFIX = "CONVEYOR_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    listen: str = "127.0.0.1:5000"
    # The address clients use, for token realms and Location headers; empty: from each request.
    external_url: str = ""
    instance_name: str = "conveyor"
    region: str = "local"


class DatabaseSettings(_Section):
    url: str = ""  # empty: SQLite in the data directory


class StorageSettings(_Section):
    url: str = ""  # empty: a directory in the data directory


class AuthSettings(_Section):
    service: str = "conveyor"
    issuer: str = "conveyor"
    token_ttl_seconds: int = Field(default=900, ge=60, le=86400)
    # Any signed-in user may create a namespace by pushing to it (and becomes its owner).
    create_namespace_on_push: bool = True


class RegistrySettings(_Section):
    max_manifest_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # Uploads untouched for this long are abandoned: refused on resume and reclaimed by gc.
    upload_expiry_seconds: int = Field(default=24 * 3600, ge=1)
    # gc leaves blobs younger than this alone, so it is safe while pushes go on.
    gc_grace_seconds: int = Field(default=3600, ge=0)


class Settings(_Section):
    data_dir: Path = Path(".conveyor")
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    auth: AuthSettings = AuthSettings()
    registry: RegistrySettings = RegistrySettings()

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir.resolve() / 'conveyor.db'}"

    @property
    def storage_url(self) -> str:
        return self.storage.url or f"file://{self.data_dir.resolve() / 'blobs'}"


def load_settings(
    config_file: Path | None = None,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    doc: dict[str, Any] = {}
    if config_file is not None:
        with open(config_file, "rb") as handle:
            doc = tomllib.load(handle)
    _apply_environment(doc, os.environ if environ is None else environ)
    for key, value in (overrides or {}).items():
        _set_path(doc, key.split("."), value)
    return Settings.model_validate(doc)


def _apply_environment(doc: dict[str, Any], environ: Any) -> None:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        _set_path(doc, path, value)


def _set_path(doc: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        inner = doc.setdefault(part, {})
        if not isinstance(inner, dict):
            return  # the file put a value where a section belongs: validation reports it
        doc = inner
    doc[path[-1]] = value
