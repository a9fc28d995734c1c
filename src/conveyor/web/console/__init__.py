"""The web console at `/`: server-rendered pages (Jinja2) with htmx, on the REST API's services.

`install(api)` adds the pages, the static files (`/console/static/`) and the console's error
pages to the FastAPI app.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from conveyor.web.console import (
    auth_pages,
    chain_pages,
    overview,
    record_pages,
    record_stream,
    repository_pages,
    settings_pages,
    wizard,
)
from conveyor.web.console.errors import ConsoleError, LoginRequired, login_redirect
from conveyor.web.console.render import HERE, page

STATIC_PATH = "/console/static"


def install(api: FastAPI) -> None:
    for module in (
        auth_pages,
        overview,
        repository_pages,
        wizard,  # before chain_pages: /chains/new is not a chain named "new"
        chain_pages,
        record_stream,
        record_pages,
        settings_pages,
    ):
        api.include_router(module.router)
    api.mount(STATIC_PATH, StaticFiles(directory=HERE / "static"), name="console-static")
    api.add_exception_handler(LoginRequired, _login_required)
    api.add_exception_handler(ConsoleError, _console_error)


async def _login_required(request: Request, _exc: Exception) -> Response:
    return login_redirect(request)


async def _console_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleError)
    from conveyor.web.console.access import viewer

    try:
        who = await viewer(request)
    except LoginRequired:
        who = None
    return page(
        request,
        "error.html",
        who,
        status=exc.status,
        title="Error",
        status_code=exc.status,
        message=exc.message,
    )
