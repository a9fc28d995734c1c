"""Git sources: binding a repository to one, and finding it again (by repository or hook id)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth.secrets import SecretBox, read_secret
from conveyor.build.gitenv import GitCredentials, scheme_of
from conveyor.chains.store import chains_in_namespace
from conveyor.db.build_models import BuildSource
from conveyor.db.chain_models import Secret
from conveyor.oci.reference import split_namespace

SCHEMES = ("https", "http", "ssh", "file")
_SCP_LIKE = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+")
MAX_POLL_SECONDS = 7 * 24 * 3600


class SourceError(ValueError):
    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """What a binding asks for."""

    git: str
    credentials: str | None = None
    webhook_secret: str | None = None
    poll_seconds: int | None = None


def check_git_url(url: str) -> str:
    """An https, http, ssh or file URL (or scp-like user@host:path), without a password in it."""
    url = url.strip()
    if not url or len(url) > 2048 or any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise SourceError("a git URL without spaces or control characters", "git")
    if url.startswith("-"):
        raise SourceError("a git URL cannot start with '-'", "git")
    parts = urlsplit(url)
    if not parts.scheme:
        if _SCP_LIKE.fullmatch(url):
            return url
        raise SourceError(f"use a URL with one of {', '.join(SCHEMES)} (or user@host:path)", "git")
    if parts.scheme.lower() not in SCHEMES:
        raise SourceError(f"git URLs use {', '.join(SCHEMES)}, not {parts.scheme!r}", "git")
    if parts.password is not None:
        raise SourceError("put credentials in a secret (--credentials), not in the URL", "git")
    if parts.scheme.lower() != "file" and not parts.hostname:
        raise SourceError("the git URL has no host", "git")
    if parts.scheme.lower() == "file" and parts.netloc not in ("", "localhost"):
        raise SourceError("a file URL needs an absolute path: file:///srv/git/app.git", "git")
    return url


def is_local(url: str) -> bool:
    return scheme_of(url) == "file"


def new_source_id() -> str:
    """Unguessable: it is all that stands in the webhook's path."""
    return "src_" + secrets.token_urlsafe(24)


async def find_source(session: AsyncSession, repository: str) -> BuildSource | None:
    return (
        await session.execute(select(BuildSource).where(BuildSource.repository == repository))
    ).scalar_one_or_none()


async def find_by_id(session: AsyncSession, source_id: str) -> BuildSource | None:
    return await session.get(BuildSource, source_id)


async def _check_secrets(session: AsyncSession, spec: SourceSpec) -> None:
    for field, name in (("credentials", spec.credentials), ("webhookSecret", spec.webhook_secret)):
        if name is not None and await session.get(Secret, name) is None:
            raise SourceError(f"unknown secret {name!r} (add it: conveyor secret set)", field)


def check_poll(seconds: int | None, minimum: float) -> None:
    if seconds is not None and not minimum <= seconds <= MAX_POLL_SECONDS:
        raise SourceError(
            f"poll every {minimum:g} s to {MAX_POLL_SECONDS} s (7 days), not {seconds} s",
            "pollSeconds",
        )


async def bind(
    session: AsyncSession, repository: str, spec: SourceSpec, actor: str
) -> tuple[BuildSource, bool]:
    """Create or replace the binding; the source keeps its id (and so its webhook URL)."""
    await _check_secrets(session, spec)
    source = await find_source(session, repository)
    created = source is None
    if source is None:
        source = BuildSource(id=new_source_id(), repository=repository, created_by=actor)
        session.add(source)
    elif source.git_url != spec.git:
        source.last_refs = None  # another remote: polling starts from its current refs
    source.git_url = spec.git
    source.credentials_secret = spec.credentials
    source.webhook_secret = spec.webhook_secret
    source.poll_seconds = spec.poll_seconds
    source.poll_error = None
    source.updated_at = datetime.now(UTC)
    await session.flush()
    return source, created


async def unbind(session: AsyncSession, repository: str) -> bool:
    """Remove the binding, unless a chain still builds from it."""
    namespace = split_namespace(repository)[0]
    users = [
        chain.name
        for chain, doc in await chains_in_namespace(session, namespace)
        if doc.spec.build is not None
        and f"{doc.spec.scope.namespace}/{doc.spec.scope.repository}" == repository
    ]
    if users:
        raise SourceError(
            f"chain(s) {', '.join(sorted(users))} build from this source; "
            f"remove their build node first",
            status=409,
        )
    result = await session.execute(delete(BuildSource).where(BuildSource.repository == repository))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def load_credentials(
    session: AsyncSession, source: BuildSource, box: SecretBox
) -> GitCredentials | None:
    if source.credentials_secret is None:
        return None
    value = await read_secret(session, box, source.credentials_secret)
    if value is None:
        raise SourceError(f"the credentials secret {source.credentials_secret!r} is gone")
    return GitCredentials.parse(value)
