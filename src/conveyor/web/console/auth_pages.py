"""Sign in and sign out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from conveyor.auth import audit
from conveyor.auth.credentials import SignInFailed, Throttled
from conveyor.web.console.access import Viewer, acting_viewer
from conveyor.web.console.errors import safe_next
from conveyor.web.console.render import page
from conveyor.web.console.session import (
    COOKIE,
    CSRF_FIELD,
    LOGIN_COOKIE,
    MAX_AGE_SECONDS,
    new_session,
    new_token,
    seal,
    tokens_match,
    unseal,
)
from conveyor.web.deps import services

router = APIRouter(include_in_schema=False)


def _secure(request: Request) -> bool:
    return request.headers.get("x-forwarded-proto", request.url.scheme) == "https"


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> Response:
    if unseal(services(request).box, request.cookies.get(COOKIE)) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next, error=None)


def _form(request: Request, target: str, error: str | None, user: str = "") -> Response:
    token = new_token()
    response = page(
        request,
        "login.html",
        None,
        login_csrf=token,
        next=safe_next(target),
        error=error,
        user=user,
        title="Sign in",
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
    )
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    user = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:4096]
    target = safe_next(str(form.get("next", "/")))
    if not tokens_match(request.cookies.get(LOGIN_COOKIE, ""), str(form.get(CSRF_FIELD, ""))):
        return _form(request, target, "The sign-in form expired. Please try again.", user)
    svc = services(request)
    try:
        identity = await svc.gate.sign_in.basic(user, password, "console", tokens=False)
    except SignInFailed:
        return _form(request, target, "Wrong user name or password.", user)
    except Throttled as exc:
        wait = f"Too many failed sign-ins: try again in {exc.retry_after} seconds."
        refused = _form(request, target, wait, user)
        refused.status_code = 429
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    if identity.user_id is None:
        return _form(request, target, "Wrong user name or password.", user)
    async with svc.ctx.db.write() as db:
        audit.record(db, audit.LOGIN, actor=identity.name, detail={"via": "console"})
    session = new_session(identity.name, identity.user_id)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        seal(services(request).box, session),
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, _who: Viewer = Depends(acting_viewer)) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
