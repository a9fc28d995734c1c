"""Sessions, CSRF and access rules of the console, over plain HTTP against a real server."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.chain_helpers import apply_chain, chain_document, push_image, wait_records
from tests.support.conveyor_server import ConveyorServer

CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def admin_api(server: ConveyorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, auth=("admin", server.admin_password)) as client:
        yield client


def browser_like(server: ConveyorServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, follow_redirects=False, timeout=30)


def sign_in(client: httpx.Client, user: str, password: str, next_page: str = "/") -> httpx.Response:
    form = client.get("/login", params={"next": next_page})
    token = CSRF_INPUT.search(form.text)
    assert token, form.text
    return client.post(
        "/login",
        data={"username": user, "password": password, "csrf": token.group(1), "next": next_page},
    )


def page_csrf(client: httpx.Client, path: str = "/") -> str:
    found = CSRF_INPUT.search(client.get(path).text)
    assert found
    return found.group(1)


def test_pages_need_a_session_and_the_cookie_is_sealed(server: ConveyorServer) -> None:
    with browser_like(server) as client:
        reply = client.get("/chains")
        assert reply.status_code == 303
        assert reply.headers["location"] == "/login?next=%2Fchains"
        client.cookies.set("conveyor_session", "forged-value")
        assert client.get("/chains").status_code == 303
        client.cookies.clear()
        signed = sign_in(client, "admin", server.admin_password, "/chains")
        assert signed.status_code == 303 and signed.headers["location"] == "/chains"
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "admin" not in client.cookies["conveyor_session"]  # sealed, not just signed
        page = client.get("/chains")
        assert page.status_code == 200
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        # The console's cookie is not a credential for the REST API (no CSRF there).
        assert client.get("/api/v1/chains").status_code == 401


def test_sign_in_refuses_a_form_without_its_token_and_foreign_redirects(
    server: ConveyorServer,
) -> None:
    with browser_like(server) as client:
        reply = client.post("/login", data={"username": "admin", "password": server.admin_password})
        assert reply.status_code == 200 and "expired" in reply.text
        assert "conveyor_session" not in client.cookies
        reply = sign_in(client, "admin", server.admin_password, "//evil.example/x")
        assert reply.headers["location"] == "/"


def test_state_changes_need_the_csrf_token(server: ConveyorServer) -> None:
    with browser_like(server) as client:
        sign_in(client, "admin", server.admin_password)
        assert client.post("/secrets", data={"name": "x", "value": "y"}).status_code == 403
        refused = client.post(
            "/secrets", data={"name": "x", "value": "y"}, headers={"X-CSRF-Token": "wrong"}
        )
        assert refused.status_code == 403
        token = page_csrf(client)
        saved = client.post("/secrets", data={"name": "x", "value": "y", "csrf": token})
        assert saved.status_code == 303
        by_header = client.post(
            "/secrets/x/delete", headers={"X-CSRF-Token": token, "HX-Request": "true"}
        )
        assert by_header.status_code == 303
        assert client.post("/logout").status_code == 403
        assert client.post("/logout", data={"csrf": token}).status_code == 303


def test_a_user_sees_only_what_their_roles_allow(
    server: ConveyorServer, admin_api: httpx.Client
) -> None:
    created = admin_api.post("/api/v1/users", json={"name": "dev", "password": "dev-Secret-1"})
    assert created.status_code in (200, 201), created.text
    admin_api.post("/api/v1/namespaces", json={"name": "private-ns"})
    with browser_like(server) as client:
        sign_in(client, "dev", "dev-Secret-1")
        assert client.get("/namespaces/private-ns").status_code == 404
        assert "private-ns" not in client.get("/namespaces").text
        assert client.get("/secrets").status_code == 403
        assert client.get("/chains/nothing-here").status_code == 404
        assert client.get("/records/999").status_code == 404
        token = page_csrf(client)
        wizard = client.post(
            "/chains/new",
            data={
                "csrf": token,
                "step": "basics",
                "action": "next",
                "metadata.name": "sneaky",
                "spec.scope.namespace": "private-ns",
                "scopeKind": "namespace",
            },
        )
        assert wizard.status_code == 200
        assert "needs the role owner in &#39;private-ns&#39;" in wizard.text


def test_the_event_stream_resumes_after_the_last_event_id(
    server: ConveyorServer, admin_api: httpx.Client
) -> None:
    hook = {
        "name": "never",
        "url": "http://127.0.0.1:9/hook",
        "trigger": {"type": "tags", "tags": ["x"]},
    }
    apply_chain(admin_api, chain_document("resume", "streams/app", [hook]))
    push_image(admin_api, "streams/app", "v1")
    done = wait_records(admin_api, "resume", 1, timeout=20)
    record = done[0]["id"]
    with browser_like(server) as client:
        sign_in(client, "admin", server.admin_password)
        first = client.get(f"/records/{record}/events")
        assert first.headers["content-type"].startswith("text/event-stream")
        ids = re.findall(r"^id: (\d+)$", first.text, re.MULTILINE)
        assert ids and "event: log" in first.text and "untriggered" in first.text
        assert first.text.rstrip().endswith("data: COMPLETE")
        again = client.get(f"/records/{record}/events", headers={"Last-Event-ID": ids[-1]})
        assert "event: log" not in again.text
        assert "event: record" in again.text and "event: end" in again.text
