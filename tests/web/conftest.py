"""A real `conveyor serve` and Debian's Chromium driven by Playwright (sync API).

The browser is the distribution's (`/usr/bin/chromium`), never one Playwright downloads. Every
page a test opens collects the browser console's errors and warnings, uncaught exceptions and
failed requests; a test fails when there are any.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.conveyor_server import ConveyorServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
INSTANCE = {
    "CONVEYOR_SERVER__INSTANCE_NAME": "acme-registry",
    "CONVEYOR_SERVER__REGION": "cn-hangzhou",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConveyorServer]:
    base = tmp_path_factory.mktemp("console")
    made = ConveyorServer(base / "data", env=dict(INSTANCE))
    made.start()
    yield made
    made.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError("Debian's chromium is missing: scripts/setup.sh --test installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class ConsoleWatch:
    """What went wrong in the browser while a test ran."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on(
            "requestfailed",
            lambda request: (
                self.problems.append(
                    f"request failed: {request.method} {request.url} {request.failure}"
                )
                if not _benign_abort(request.url, request.failure)
                else None
            ),
        )

    def _console(self, message: object) -> None:
        kind = getattr(message, "type", "")
        if kind in ("error", "warning"):
            self.problems.append(f"console {kind}: {getattr(message, 'text', '')}")


def _benign_abort(url: str, failure: str | None) -> bool:
    """An event stream closed by a navigation away from its page is not an error."""
    return "/events" in url and (failure or "").endswith("ERR_ABORTED")


@pytest.fixture(scope="module")
def session_page(browser: Browser, server: ConveyorServer) -> Iterator[tuple[Page, ConsoleWatch]]:
    """One signed-out browser tab for the tests of a module, with its console watched."""
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = ConsoleWatch(page)
    yield page, watch
    context.close()


@pytest.fixture
def page(session_page: tuple[Page, ConsoleWatch]) -> Iterator[Page]:
    tab, watch = session_page
    before = len(watch.problems)
    yield tab
    assert watch.problems[before:] == [], "the browser reported problems"


def shoot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """A screenshot of the page under tests/web/screenshots/ (ignored by git)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
