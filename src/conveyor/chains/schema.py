"""The chain document (DESIGN §4.3): every field validated when the chain is saved."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from conveyor.chains.patterns import PatternError, compile_pattern
from conveyor.oci.reference import is_valid_name

NAME_RE = r"^[a-z0-9_.-]{1,64}$"
PLATFORMS = ("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/386")
SHORT_PLATFORMS = {
    "amd64": "linux/amd64",
    "arm64": "linux/arm64",
    "arm/v7": "linux/arm/v7",
    "arm/v6": "linux/arm/v6",
    "386": "linux/386",
}
LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _pattern(value: str) -> str:
    try:
        compile_pattern(value)
    except PatternError as exc:
        raise ValueError(str(exc)) from None
    return value


def _namespace(value: str) -> str:
    if "/" in value or not is_valid_name(value):
        raise ValueError("not a valid namespace name")
    return value


Pattern = Annotated[str, AfterValidator(_pattern)]
NamespaceName = Annotated[str, AfterValidator(_namespace)]


class Metadata(_Strict):
    name: str = Field(pattern=NAME_RE)
    description: str = Field(default="", max_length=1024)


class Scope(_Strict):
    namespace: NamespaceName
    repository: str | None = None
    exclude: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_name(value):
            raise ValueError("not a valid repository name")
        return value

    @model_validator(mode="after")
    def _exclusions_need_namespace_scope(self) -> Scope:
        if self.exclude and self.repository:
            raise ValueError("exclude applies only to a whole-namespace scope")
        return self


class Dockerfile(_Strict):
    directory: str = "/"
    filename: str = Field(default="Dockerfile", min_length=1, max_length=255)

    @field_validator("directory")
    @classmethod
    def _directory(cls, value: str) -> str:
        # "/" is the root of the checkout (as in ACR); anything else is relative to it.
        if value == "/":
            return value
        parts = value.split("/")
        if value.startswith(("/", "~")) or "\\" in value or "\0" in value:
            raise ValueError("the directory must be relative to the repository root")
        if ".." in parts:
            raise ValueError("the directory must stay inside the repository (no '..')")
        return value

    @field_validator("filename")
    @classmethod
    def _filename(cls, value: str) -> str:
        if "/" in value or "\\" in value or value in (".", "..") or "\0" in value:
            raise ValueError("a file name, without directories")
        return value


class TagTemplate(_Strict):
    tag: str = Field(min_length=1, max_length=128)
    buildTime: Literal["yyyyMMdd", "yyyyMMddHHmm"] | None = None
    commitId: int | None = Field(default=None, ge=1, le=40)


class BuildRule(_Strict):
    type: Literal["branch", "tag"]
    ref: Pattern = Field(min_length=1, max_length=255)
    dockerfile: Dockerfile = Field(default_factory=Dockerfile)
    tags: list[TagTemplate] = Field(min_length=1, max_length=3)
    platforms: list[str] = Field(default_factory=lambda: ["linux/amd64"], min_length=1)
    args: dict[str, str] = Field(default_factory=dict)
    cache: bool = True

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, value: list[str]) -> list[str]:
        normalised = [SHORT_PLATFORMS.get(p, p) for p in value]
        unknown = [p for p in normalised if p not in PLATFORMS]
        if unknown:
            raise ValueError(f"unknown platform {unknown[0]!r}; use {', '.join(PLATFORMS)}")
        return list(dict.fromkeys(normalised))

    @field_validator("args")
    @classmethod
    def _args(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 20:
            raise ValueError("at most 20 build args")
        for name in value:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", name):
                raise ValueError(f"invalid build arg name {name[:40]!r}")
        return value


class Build(_Strict):
    rules: list[BuildRule] = Field(min_length=1, max_length=20)


class Deny(_Strict):
    level: Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"] | None = None
    count: int | None = Field(default=None, ge=1)
    vulnerabilities: list[str] = Field(default_factory=list, max_length=1000)
    logic: Literal["AND", "OR"] = "OR"

    @model_validator(mode="after")
    def _some_rule(self) -> Deny:
        if self.level is None and not self.vulnerabilities:
            raise ValueError("set level (with count) or vulnerabilities")
        if self.level is not None and self.count is None:
            self.count = 1
        return self


class Backup(_Strict):
    namespace: NamespaceName


class Policy(_Strict):
    mode: Literal["blocking", "non-blocking"] = "blocking"
    deny: Deny | None = None
    deleteOriginal: bool = False
    backup: Backup | None = None


class Scan(_Strict):
    engine: Literal["builtin", "trivy", "grype"] = "builtin"
    policy: Policy | None = None


class Destination(_Strict):
    endpoint: str = Field(min_length=1, max_length=64)
    namespace: NamespaceName
    repository: str | None = None


class SyncRule(_Strict):
    name: str = Field(pattern=NAME_RE)
    scope: Literal["namespace", "repository"] = "repository"
    repoFilter: Pattern = ".*"
    tagFilter: Pattern = ".*"
    destination: Destination
    trigger: Literal["passive", "initiative"] = "passive"
    overwrite: bool = False


class Trigger(_Strict):
    type: Literal["all", "tags", "regexp"] = "all"
    tags: list[str] = Field(default_factory=list, max_length=10)
    regexp: str | None = None

    @model_validator(mode="after")
    def _mode_fields(self) -> Trigger:
        if self.type == "tags" and not self.tags:
            raise ValueError("type tags needs 1 to 10 tags")
        if self.type == "regexp":
            if not self.regexp:
                raise ValueError("type regexp needs regexp")
            _pattern(self.regexp)
        return self


class DistributeTarget(_Strict):
    name: str = Field(pattern=NAME_RE)
    url: str = Field(max_length=2048)
    trigger: Trigger = Field(default_factory=Trigger)
    format: Literal["acr", "cloudevents", "harbor", "dockerhub"] = "acr"
    secret: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http:// or https:// URL")
        return value


class Spec(_Strict):
    scope: Scope
    build: Build | None = None
    scan: Scan | None = None
    sync: list[SyncRule] = Field(default_factory=list, max_length=20)
    distribute: list[DistributeTarget] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _unique_names(self) -> Spec:
        for kind, items in (("sync", self.sync), ("distribute", self.distribute)):
            names = [item.name for item in items]
            if len(names) != len(set(names)):
                raise ValueError(f"{kind} names must be unique")
        return self


class ChainDocument(_Strict):
    apiVersion: Literal["conveyor/v1"]
    kind: Literal["Chain"]
    metadata: Metadata
    spec: Spec

    def node_kinds(self) -> list[str]:
        kinds = []
        if self.spec.build:
            kinds.append("BUILD")
        if self.spec.scan:
            kinds.append("SCAN")
        if self.spec.sync:
            kinds.append("SYNC")
        if self.spec.distribute:
            kinds.append("DISTRIBUTE")
        return kinds
