"""Git sources of repositories, and push notifications from the CLI.

* PUT/GET/DELETE /api/v1/repositories/{ns}/{repo}/source  (owner)
* POST /api/v1/repositories/{ns}/{repo}/push-events {"ref", "commit"?}  (developer)
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from conveyor.build.events import PushEvent
from conveyor.build.gitremote import GitError, resolve
from conveyor.build.intake import start_builds
from conveyor.build.options import BuildOptions
from conveyor.build.refs import RefError, check_commit, parse_ref
from conveyor.build.sources import (
    SourceError,
    SourceSpec,
    bind,
    check_git_url,
    check_poll,
    find_source,
    is_local,
    load_credentials,
    unbind,
)
from conveyor.db.build_models import BuildSource
from conveyor.db.models import Namespace
from conveyor.oci.reference import is_valid_name, split_namespace
from conveyor.web.deps import OWNERS, WRITERS, require_role, services
from conveyor.web.errors import ApiError

router = APIRouter(prefix="/api/v1/repositories", tags=["build"])


class SourceIn(BaseModel):
    git: str = Field(min_length=1, max_length=2048)
    credentials: str | None = Field(default=None, max_length=64)
    webhookSecret: str | None = Field(default=None, max_length=64)
    pollSeconds: int | None = None


class SourceOut(BaseModel):
    id: str
    repository: str
    git: str
    credentials: str | None
    webhookSecret: str | None
    pollSeconds: int | None
    webhookPath: str
    lastPolledAt: datetime | None
    pollError: str | None
    createdAt: datetime
    updatedAt: datetime


class PushIn(BaseModel):
    ref: str = Field(min_length=1, max_length=300)
    commit: str | None = Field(default=None, max_length=64)


class PushOut(BaseModel):
    repository: str
    ref: str
    commit: str
    records: list[int]


def build_options(request: Request) -> BuildOptions:
    found: BuildOptions = request.app.state.build_options
    return found


def source_out(source: BuildSource) -> SourceOut:
    return SourceOut(
        id=source.id,
        repository=source.repository,
        git=source.git_url,
        credentials=source.credentials_secret,
        webhookSecret=source.webhook_secret,
        pollSeconds=source.poll_seconds,
        webhookPath=f"/hooks/git/{source.id}",
        lastPolledAt=source.last_polled_at,
        pollError=source.poll_error,
        createdAt=source.created_at,
        updatedAt=source.updated_at,
    )


def _repository(name: str) -> tuple[str, str]:
    if "/" not in name or not is_valid_name(name):
        raise ApiError(400, "INVALID", f"{name[:300]!r} is not a repository name (ns/repo)", "name")
    return split_namespace(name)[0], name


def _source_error(exc: SourceError) -> ApiError:
    code = {400: "INVALID", 403: "DENIED", 404: "NOT_FOUND", 409: "CONFLICT"}[exc.status]
    return ApiError(exc.status, code, str(exc), exc.field)


@router.put("/{name:path}/source", response_model=SourceOut)
async def put_source(name: str, body: SourceIn, request: Request) -> SourceOut:
    namespace, repository = _repository(name)
    identity = await require_role(request, namespace, OWNERS)
    try:
        url = check_git_url(body.git)
        check_poll(body.pollSeconds, build_options(request).poll_min_seconds)
    except SourceError as exc:
        raise _source_error(exc) from None
    if not identity.is_admin and is_local(url):
        raise ApiError(403, "DENIED", "only an administrator may bind a file:// source", "git")
    if not identity.is_admin and body.credentials is not None:
        # Secrets are the administrators'; sending one to a URL of one's choosing would leak it.
        raise ApiError(403, "DENIED", "only an administrator may give a source credentials")
    spec = SourceSpec(url, body.credentials, body.webhookSecret, body.pollSeconds)
    async with services(request).ctx.db.write() as session:
        exists = await session.execute(select(Namespace.id).where(Namespace.name == namespace))
        if exists.first() is None:
            raise ApiError(404, "NOT_FOUND", f"no namespace {namespace!r}", "name")
        try:
            source, _ = await bind(session, repository, spec, identity.name)
        except SourceError as exc:
            raise _source_error(exc) from None
        return source_out(source)


@router.get("/{name:path}/source", response_model=SourceOut)
async def get_source(name: str, request: Request) -> SourceOut:
    namespace, repository = _repository(name)
    await require_role(request, namespace, OWNERS)
    async with services(request).ctx.db.read() as session:
        source = await find_source(session, repository)
    if source is None:
        raise ApiError(404, "NOT_FOUND", f"{repository} is not bound to a git source")
    return source_out(source)


@router.delete("/{name:path}/source", status_code=204)
async def delete_source(name: str, request: Request) -> None:
    namespace, repository = _repository(name)
    await require_role(request, namespace, OWNERS)
    async with services(request).ctx.db.write() as session:
        try:
            removed = await unbind(session, repository)
        except SourceError as exc:
            raise _source_error(exc) from None
    if not removed:
        raise ApiError(404, "NOT_FOUND", f"{repository} is not bound to a git source")


@router.post("/{name:path}/push-events", response_model=PushOut, status_code=202)
async def post_push_event(name: str, body: PushIn, request: Request) -> PushOut:
    """`conveyor repo push-event`: tell the instance of a push (the commit is looked up when
    not given)."""
    namespace, repository = _repository(name)
    identity = await require_role(request, namespace, WRITERS)
    options = build_options(request)
    svc = services(request)
    try:
        ref = parse_ref(body.ref)
        commit = check_commit(body.commit) if body.commit else None
    except RefError as exc:
        raise ApiError(400, "INVALID", str(exc), "commit" if body.commit else "ref") from None
    async with svc.ctx.db.read() as session:
        source = await find_source(session, repository)
        if source is None:
            raise ApiError(400, "INVALID", f"{repository} is not bound to a git source", "name")
        try:
            credentials = await load_credentials(session, source, svc.box)
        except SourceError as exc:
            raise _source_error(exc) from None
    if commit is None:
        try:
            commit = await resolve(source.git_url, credentials, ref, options.work_dir)
        except GitError as exc:
            raise ApiError(400, "INVALID", f"cannot look {ref.full} up: {exc}", "ref") from None
    event = PushEvent(repository, ref, commit, datetime.now(UTC), "cli", identity.name)
    async with svc.ctx.db.write() as session:
        started = await start_builds(session, event, options.utc_offset_hours)
    svc.wake_runners()
    return PushOut(repository=repository, ref=ref.full, commit=commit, records=started)
