"""/hooks/git/<source-id>: push webhooks of GitHub, GitLab, Gitea and Gitee.

The source's webhook secret must verify the request in its host's scheme, or the answer is 401
and nothing starts. Deletions and other events are acknowledged and start nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from conveyor.auth.secrets import SecretError, read_secret
from conveyor.build.events import PushEvent
from conveyor.build.intake import start_builds
from conveyor.build.payloads import PayloadError, is_push, parse_push
from conveyor.build.refs import RefError, check_commit, parse_ref
from conveyor.build.signatures import detect_host, verify
from conveyor.build.sources import find_by_id
from conveyor.web.build_sources import build_options
from conveyor.web.deps import services
from conveyor.web.errors import ApiError

router = APIRouter(prefix="/hooks/git", tags=["build"])
MAX_BODY = 10 * 1024 * 1024


class HookOut(BaseModel):
    accepted: bool
    records: list[int] = []
    ignored: str | None = None


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(413, "TOO_LARGE", "webhook bodies are at most 10 MiB")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_BODY:
            raise ApiError(413, "TOO_LARGE", "webhook bodies are at most 10 MiB")
    return bytes(data)


@router.post("/{source_id}", response_model=HookOut, status_code=202)
async def receive(source_id: str, request: Request) -> HookOut:
    svc = services(request)
    async with svc.ctx.db.read() as session:
        source = await find_by_id(session, source_id)
        if source is None:
            raise ApiError(404, "NOT_FOUND", "no such source")
        try:
            secret = (
                await read_secret(session, svc.box, source.webhook_secret)
                if source.webhook_secret
                else None
            )
        except SecretError:
            secret = None
        repository = source.repository
    host = detect_host(request.headers)
    if host is None:
        raise ApiError(400, "INVALID", "not a GitHub, GitLab, Gitea or Gitee webhook")
    body = await _body(request)
    if secret is None:
        raise ApiError(401, "UNAUTHORIZED", "this source has no webhook secret: nothing is trusted")
    if not verify(host, request.headers, body, secret):
        raise ApiError(401, "UNAUTHORIZED", f"the {host} signature does not verify")
    if not is_push(host, request.headers):
        return HookOut(accepted=True, ignored="not a push event")
    try:
        push = parse_push(host, body)
        if push.deleted:
            return HookOut(accepted=True, ignored="a deletion builds nothing")
        ref = parse_ref(push.ref)
        commit = check_commit(push.commit)
    except (PayloadError, RefError) as exc:
        raise ApiError(400, "INVALID", str(exc)) from None
    event = PushEvent(repository, ref, commit, datetime.now(UTC), f"webhook:{host}", push.pusher)
    async with svc.ctx.db.write() as session:
        started = await start_builds(session, event, build_options(request).utc_offset_hours)
    svc.wake_runners()
    return HookOut(accepted=True, records=started)
