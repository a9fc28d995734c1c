"""/auth/token: the token endpoint of the Docker registry token spec (GET, and OAuth2 POST)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from conveyor.auth import audit
from conveyor.auth.credentials import SignInFailed, Throttled
from conveyor.auth.identity import ANONYMOUS, Identity
from conveyor.auth.scopes import Access, ScopeError, parse_scope
from conveyor.oci.reference import is_valid_name
from conveyor.registry.http.access import AccessDenied, Caller, Gatekeeper, throttled


async def token_get(request: Request, gate: Gatekeeper) -> Response:
    caller = await gate.caller(request)  # Basic credentials, or none for anonymous
    scopes = [s for value in request.query_params.getlist("scope") for s in [value]]
    return await _issue(request, gate, caller.identity, scopes)


async def token_post(request: Request, gate: Gatekeeper) -> Response:
    form = await request.form()
    grant = str(form.get("grant_type", ""))
    if grant != "password":
        return _oauth_error("unsupported_grant_type", f"grant_type {grant[:40]!r} is not supported")
    try:
        identity = await gate.sign_in.basic(
            str(form.get("username", "")), str(form.get("password", "")), "token"
        )
    except SignInFailed:
        return _oauth_error("invalid_grant", "invalid username or password", 401)
    except Throttled as exc:
        raise throttled(exc) from None
    return await _issue(request, gate, identity, [str(form.get("scope", ""))], oauth=True)


async def _issue(
    request: Request,
    gate: Gatekeeper,
    identity: Identity,
    scope_values: list[str],
    oauth: bool = False,
) -> Response:
    requested: list[Access] = []
    try:
        for value in scope_values:
            requested.extend(parse_scope(value))
    except ScopeError as exc:
        return _oauth_error("invalid_scope", str(exc))
    granted = [await _grant(gate, identity, item) for item in requested]
    given = [g for g in granted if g]
    token, expires_in, issued_at = gate.tokens.issue(identity.name, given, identity.credential)
    if not identity.anonymous:
        async with gate.db.write() as session:
            audit.record(
                session,
                audit.TOKEN_ISSUED,
                actor=identity.name,
                target=gate.tokens.service,
                detail={"granted": [str(g)[:300] for g in given[:50]], "asked": len(requested)},
            )
    body: dict[str, object] = {
        "token": token,
        "access_token": token,
        "expires_in": expires_in,
        "issued_at": datetime.fromtimestamp(issued_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if oauth:
        body["scope"] = " ".join(str(g) for g in granted if g)
    return JSONResponse(body)


async def _grant(gate: Gatekeeper, identity: Identity, item: Access) -> Access | None:
    """The intersection of what was asked and what is held; less than asked is not an error."""
    if item.type == "registry" and item.name == "catalog":
        return item if identity is not ANONYMOUS and not identity.anonymous else None
    if item.type != "repository" or not is_valid_name(item.name):
        return None
    held = await gate.actions(Caller(identity), item.name)
    wanted = set(item.actions)
    if "*" in wanted:
        wanted = set(held)
    actions = tuple(a for a in ("pull", "push", "delete") if a in wanted and a in held)
    return Access("repository", item.name, actions)


def _oauth_error(code: str, message: str, status: int = 400) -> Response:
    return JSONResponse({"error": code, "error_description": message}, status_code=status)


__all__ = ["AccessDenied", "token_get", "token_post"]
