"""Create Delivery Chain, in ACR's order: basic information and scope -> image building rules
-> security scan -> synchronization rules -> distribution triggers -> summary; and Edit.

Each step is validated when left forward, by the API's own functions (`parse_document`,
`check_references`) on the document as far as it goes; Create and Save go through
`save_chain`, so the console accepts and refuses exactly what `POST /api/v1/chains` does.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from conveyor.auth.secrets import list_secrets
from conveyor.chains.store import (
    ChainInvalid,
    check_references,
    current_document,
    find_chain,
    parse_document,
    save_chain,
)
from conveyor.db.chain_models import Endpoint
from conveyor.web.chains import audit_chain_applied
from conveyor.web.console import catalog
from conveyor.web.console import chain_form as cf
from conveyor.web.console import wizard_steps as ws
from conveyor.web.console.access import OWNERS, Viewer, acting_viewer, has_role, viewer
from conveyor.web.console.errors import ConsoleError
from conveyor.web.console.render import is_htmx, page
from conveyor.web.deps import services

router = APIRouter(include_in_schema=False)


@router.get("/chains/new")
async def new_chain(request: Request, who: Viewer = Depends(viewer)) -> Response:
    return await _render(request, who, cf.empty_draft(), "basics", None, editing=None)


@router.get("/chains/{name}/edit")
async def edit_chain(name: str, request: Request, who: Viewer = Depends(viewer)) -> Response:
    draft = await _current(request, who, name)
    return await _render(request, who, draft, "basics", None, editing=name)


@router.post("/chains/new")
async def post_new(request: Request, who: Viewer = Depends(acting_viewer)) -> Response:
    return await _advance(request, who, editing=None)


@router.post("/chains/{name}/edit")
async def post_edit(name: str, request: Request, who: Viewer = Depends(acting_viewer)) -> Response:
    await _current(request, who, name)
    return await _advance(request, who, editing=name)


async def _current(request: Request, who: Viewer, name: str) -> dict[str, Any]:
    async with services(request).ctx.db.read() as db:
        chain = await find_chain(db, name)
        document = await current_document(db, chain) if chain else None
    if (
        chain is None
        or document is None
        or not await has_role(request, who, chain.namespace, OWNERS)
    ):
        raise ConsoleError(404, f"There is no chain {name!r} that you may edit.")
    return document


async def _advance(request: Request, who: Viewer, *, editing: str | None) -> Response:
    form = [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
    fields = dict(form)
    step = fields.get("step", "basics")
    step = step if step in ws.STEPS else "basics"
    draft = _draft(fields.get("draft", ""))
    if editing is not None:
        draft.setdefault("metadata", {})["name"] = editing
    draft = cf.read_step(step, form, draft)
    if editing is not None:
        draft["metadata"]["name"] = editing  # the name of a chain does not change
    action = fields.get("action", "next")
    if action.startswith("add:"):
        return await _render(request, who, cf.add_item(draft, step), step, None, editing=editing)
    if action.startswith("remove:"):
        index = int(action.rsplit(":", 1)[-1]) if action.rsplit(":", 1)[-1].isdigit() else -1
        changed = cf.remove_item(draft, step, index)
        return await _render(request, who, changed, step, None, editing=editing)
    if action == "create":
        return await _save(request, who, draft, editing)
    target = _target(step, action)
    if ws.step_index(target) <= ws.step_index(step):
        return await _render(request, who, draft, target, None, editing=editing)
    error = await _check(request, who, draft, step, editing)
    if error is not None:
        return await _render(request, who, draft, step, error, editing=editing)
    return await _render(request, who, draft, target, None, editing=editing)


def _draft(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else None
    except ValueError:
        value = None
    return value if isinstance(value, dict) else cf.empty_draft()


def _target(step: str, action: str) -> str:
    index = ws.step_index(step)
    if action == "back":
        return ws.STEPS[max(index - 1, 0)]
    if action.startswith("goto:") and action[5:] in ws.STEPS:
        return action[5:]
    return ws.STEPS[min(index + 1, len(ws.STEPS) - 1)]


async def _check(
    request: Request, who: Viewer, draft: dict[str, Any], step: str, editing: str | None
) -> ws.FieldError | None:
    """The first problem of the document as far as `step`, in the API's words."""
    try:
        doc = parse_document(ws.partial_document(draft, step))
        async with services(request).ctx.db.read() as db:
            await check_references(db, doc)
            existing = await find_chain(db, doc.metadata.name)
    except ChainInvalid as exc:
        return ws.FieldError(exc.field, str(exc))
    if editing is None and existing is not None:
        return ws.FieldError(
            "metadata.name", f"metadata.name: a chain named {doc.metadata.name!r} exists"
        )
    namespace = doc.spec.scope.namespace
    if not await has_role(request, who, namespace, OWNERS):
        return ws.FieldError(
            "spec.scope.namespace", f"needs the role {' or '.join(OWNERS)} in {namespace!r}"
        )
    moved = existing is not None and existing.namespace != namespace
    if moved and existing and not await has_role(request, who, existing.namespace, OWNERS):
        return ws.FieldError(
            "spec.scope.namespace", f"needs the role owner in {existing.namespace!r}"
        )
    return None


async def _save(
    request: Request, who: Viewer, draft: dict[str, Any], editing: str | None
) -> Response:
    error = await _check(request, who, draft, "summary", editing)
    if error is None:
        try:
            doc = parse_document(draft)
            async with services(request).ctx.db.write() as db:
                saved = await save_chain(db, doc, who.name)
                if saved.changed:
                    audit_chain_applied(db, who.name, saved.name, saved.version, doc)
        except ChainInvalid as exc:
            error = ws.FieldError(exc.field, str(exc))
    if error is not None:
        return await _render(request, who, draft, ws.step_of(error), error, editing=editing)
    location = f"/chains/{saved.name}?saved={saved.version}"
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


async def _render(
    request: Request,
    who: Viewer,
    draft: dict[str, Any],
    step: str,
    error: ws.FieldError | None,
    *,
    editing: str | None,
) -> Response:
    async with services(request).ctx.db.read() as db:
        endpoints = list(
            (await db.execute(select(Endpoint.name).order_by(Endpoint.name))).scalars()
        )
        secrets = [s.name for s in await list_secrets(db)]
    namespaces = [
        n.name for n in await catalog.namespaces(request, who) if n.role in ("admin", "owner")
    ]
    choices = ws.Choices(endpoints, secrets, namespaces)
    return page(
        request, "chain_wizard.html", who, **ws.step_context(draft, step, error, editing, choices)
    )
