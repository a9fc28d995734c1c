"""Rendering pages: the Jinja2 environment, its filters, and the console's response headers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from conveyor.web.console.access import Viewer
from conveyor.web.console.chain_form import input_id
from conveyor.web.deps import services

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

# Scripts and styles come from this site only; nothing may frame the console.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")


def page(
    request: Request,
    template: str,
    who: Viewer | None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    svc = services(request)
    base = {
        "viewer": who,
        "csrf": who.csrf if who else "",
        "instance": {"name": svc.instance_name, "region": svc.region},
        "path": request.url.path,
    }
    response = templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status
    )
    response.headers.update({**SECURITY_HEADERS, **(headers or {})})
    return response


def fragment(template: str, **context: Any) -> str:
    """A piece of a page as text (for server-sent events)."""
    return templates.get_template(template).render(**context)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def as_utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def when(value: datetime | str | None) -> str:
    moment = as_utc(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def iso(value: datetime | str | None) -> str:
    moment = as_utc(value)
    return moment.astimezone(UTC).isoformat() if moment else ""


def duration(start: datetime | str | None, end: datetime | str | None) -> str:
    first = as_utc(start)
    if first is None:
        return "—"
    last = as_utc(end) or datetime.now(UTC)
    seconds = max((last - first).total_seconds(), 0.0)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 120:
        return f"{minutes} min {rest} s"
    return f"{minutes // 60} h {minutes % 60} min"


def size(value: int | None) -> str:
    if value is None:
        return "—"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"


def short_digest(value: str | None) -> str:
    if not value:
        return "—"
    algorithm, _, encoded = value.partition(":")
    return f"{algorithm}:{encoded[:12]}" if encoded else value[:19]


def status_class(value: str | None) -> str:
    """A CSS class for a status or result word (the word itself is always shown too)."""
    good = {"SUCCESS", "COMPLETE"}
    bad = {"FAILED", "DENIED", "CANCELED", "CANCELING"}
    busy = {"RUNNING", "PENDING"}
    word = (value or "").upper()
    if word in good:
        return "ok"
    if word in bad:
        return "bad"
    if word in busy:
        return "busy"
    return "neutral"


templates.env.filters.update(
    when=when,
    iso=iso,
    size=size,
    short_digest=short_digest,
    status_class=status_class,
)


def static(name: str) -> str:
    return f"/console/static/{name}"


templates.env.globals.update(
    duration=duration, static=static, input_id=input_id, SEVERITIES=SEVERITIES
)
