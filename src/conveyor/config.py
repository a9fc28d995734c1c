"""Settings: one TOML file, overridden by CONVEYOR_<SECTION>__<KEY> environment variables."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_PREFIX = "CONVEYOR_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _comma_list(value: Any) -> Any:
    """Lists from the environment come as one comma-separated string."""
    return (
        [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, str)
        else value
    )


class ServerSettings(_Section):
    listen: str = "127.0.0.1:5000"
    # The address clients use, for token realms and Location headers; empty: from each request.
    external_url: str = ""
    instance_name: str = "conveyor"
    region: str = "local"
    # Load balancers whose X-Forwarded-For is believed (CIDRs), for the audit log's client
    # address and sign-in throttling; empty: the direct peer is the client.
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _comma_list(value)


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
    # Failed sign-ins within the window that lock a user name / a client address.
    login_max_failures: int = Field(default=10, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_window_seconds: float = Field(default=300.0, gt=0)
    login_lockout_seconds: float = Field(default=300.0, gt=0)


class RegistrySettings(_Section):
    max_manifest_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # Uploads untouched for this long are abandoned: refused on resume and reclaimed by gc.
    upload_expiry_seconds: int = Field(default=24 * 3600, ge=1)
    # gc leaves blobs younger than this alone, so it is safe while pushes go on.
    gc_grace_seconds: int = Field(default=3600, ge=0)


class SecretsSettings(_Section):
    # base64 of 32 random bytes; empty: a key file made once in the data directory.
    # Replicas and runners of one instance must share the same key.
    key: str = ""
    # Older keys, still read (never written) while `conveyor secret rotate-key` re-seals.
    previous_keys: list[str] = Field(default_factory=list)

    @field_validator("previous_keys", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _comma_list(value)


class ChainSettings(_Section):
    runners: int = Field(default=4, ge=0, le=64)  # in-process runners of `conveyor serve`
    lease_seconds: float = Field(default=15.0, ge=2.0)
    max_attempts: int = Field(default=5, ge=1, le=100)
    retry_base_seconds: float = Field(default=2.0, ge=0.05)
    # How often an idle runner looks for work it was not woken for (other processes' pushes).
    poll_seconds: float = Field(default=1.0, ge=0.05, le=60)


class DistributeSettings(_Section):
    # Webhook targets in these networks are refused (cloud metadata services live here).
    deny_networks: list[str] = Field(default_factory=lambda: ["169.254.0.0/16", "fe80::/10"])
    timeout_seconds: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=12, ge=1, le=100)
    retry_base_seconds: float = Field(default=0.5, gt=0)
    retry_max_seconds: float = Field(default=30.0, gt=0)
    # Time zone of `pushed_at` / `date_created` in ACR-format bodies (ACR: UTC+8).
    utc_offset_hours: float = Field(default=8.0, ge=-12, le=14)


class BuildSettings(_Section):
    # A build (fetch, build every platform, push) that runs longer is killed and FAILED.
    timeout_seconds: float = Field(default=1800.0, gt=0)
    # Private working directories (checkouts, throwaway buildah storage); empty: <data>/build/work.
    storage_dir: str = ""
    # Persistent buildah storage per chain rule, for `cache: true`; empty: <data>/build/cache.
    cache_dir: str = ""
    # The shortest polling interval a source may ask for.
    poll_min_seconds: float = Field(default=10.0, ge=0.5)
    # Time zone of the push time in composed tags (ACR: UTC+8).
    utc_offset_hours: float = Field(default=8.0, ge=-12, le=14)
    # A build log keeps at most this many lines, each cut at this many characters.
    log_max_lines: int = Field(default=10_000, ge=10, le=20_000)
    log_max_line_chars: int = Field(default=2000, ge=80, le=4096)
    # Builds running at once in one process; more wait their turn.
    max_concurrent: int = Field(default=2, ge=1, le=64)
    # Where builds push to (this instance's /v2); empty: server.external_url, else server.listen.
    registry_url: str = ""


class ObservabilitySettings(_Section):
    log_format: Literal["text", "json"] = "text"
    traces: Literal["none", "otlp", "file"] = "none"
    traces_file: str = "traces.jsonl"  # with traces = "file"; relative to the data directory
    otlp_endpoint: str = ""  # with traces = "otlp"; default: OTEL_EXPORTER_OTLP_ENDPOINT


class Settings(_Section):
    data_dir: Path = Path(".conveyor")
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    auth: AuthSettings = AuthSettings()
    registry: RegistrySettings = RegistrySettings()
    secrets: SecretsSettings = SecretsSettings()
    chains: ChainSettings = ChainSettings()
    distribute: DistributeSettings = DistributeSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    build: BuildSettings = BuildSettings()

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir.resolve() / 'conveyor.db'}"

    @property
    def local_registry_url(self) -> str:
        """Where this instance's /v2 is reachable from its own runners (builds, syncs)."""
        if self.build.registry_url:
            return self.build.registry_url.rstrip("/")
        if self.server.external_url:
            return self.server.external_url.rstrip("/")
        host, _, port = self.server.listen.rpartition(":")
        host = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "": "127.0.0.1"}.get(host, host)
        return f"http://{host}:{port}"

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
