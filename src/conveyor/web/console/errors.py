"""How the console ends a request early: a sign-in page, or an error page in HTML."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response


class LoginRequired(Exception):
    """No valid session: go to the sign-in page, and come back afterwards."""


class ConsoleError(Exception):
    """A page that cannot be shown (not found, not allowed, gone): an HTML error page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def login_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    location = "/login?next=" + quote(target, safe="")
    if request.headers.get("hx-request"):
        # htmx follows a redirect inside the page; tell it to load the whole page instead.
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def safe_next(target: str | None) -> str:
    """Only paths on this site: never an absolute URL or a scheme-relative one."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
