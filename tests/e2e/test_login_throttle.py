"""Sign-in throttling against a real server: wrong passwords are refused, then rate-limited
(429 with Retry-After) on every door — /v2 Basic, the token endpoint (GET and OAuth POST),
/api/v1 and the console sign-in — per user name and per client address.

The server believes X-Forwarded-For from 127.0.0.1 (`[server] trusted_proxies`), so one test
process can stand for clients at several addresses.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.e2e.identity_helpers import SERVICE, audit_entries, bearer, create_user
from tests.support.conveyor_server import ConveyorServer

LOCKOUT = 3
CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConveyorServer]:
    made = ConveyorServer(
        tmp_path_factory.mktemp("throttle") / "data",
        env={
            "CONVEYOR_AUTH__LOGIN_MAX_FAILURES": "3",
            "CONVEYOR_AUTH__LOGIN_MAX_FAILURES_PER_ADDRESS": "6",
            "CONVEYOR_AUTH__LOGIN_WINDOW_SECONDS": "60",
            "CONVEYOR_AUTH__LOGIN_LOCKOUT_SECONDS": str(LOCKOUT),
            "CONVEYOR_SERVER__TRUSTED_PROXIES": "127.0.0.1/32",
        },
    )
    made.start()
    for name in ("victim", "bystander", "typo"):
        create_user(made, name, f"{name}-Secret-1")
    yield made
    made.stop()


def client(server: ConveyorServer, address: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"X-Forwarded-For": address}, timeout=30)


def console_sign_in(http: httpx.Client, user: str, password: str) -> httpx.Response:
    form = http.get("/login")
    token = CSRF_INPUT.search(form.text)
    assert token, form.text
    return http.post("/login", data={"username": user, "password": password, "csrf": token[1]})


def doors(http: httpx.Client, user: str, password: str) -> dict[str, httpx.Response]:
    """One sign-in attempt through each door."""
    auth = (user, password)
    return {
        "registry": http.get("/v2/", auth=auth),
        "token": http.get("/auth/token", params={"service": SERVICE}, auth=auth),
        "oauth": http.post(
            "/auth/token",
            data={
                "grant_type": "password",
                "username": user,
                "password": password,
                "service": SERVICE,
                "client_id": "test",
            },
        ),
        "api": http.get("/api/v1/namespaces", auth=auth),
        "console": console_sign_in(http, user, password),
    }


def statuses(replies: dict[str, httpx.Response]) -> dict[str, int]:
    return {door: reply.status_code for door, reply in replies.items()}


def wait_until(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_repeated_wrong_passwords_lock_the_user_on_every_door(server: ConveyorServer) -> None:
    with client(server, "10.0.0.1") as attacker, client(server, "10.0.0.2") as owner:
        token = owner.post(
            "/api/v1/tokens", json={"name": "before"}, auth=("victim", "victim-Secret-1")
        ).json()["token"]
        wrong = [attacker.get("/v2/", auth=("victim", f"guess-{n}")) for n in range(3)]
        assert [r.status_code for r in wrong] == [401, 401, 401]
        time.sleep(1.1)  # a remembered right password is rechecked for locks every second
        # Locked: even the right password, from anywhere, is refused without being checked.
        locked = doors(owner, "victim", "victim-Secret-1")
        assert statuses(locked) == {d: 429 for d in locked}, statuses(locked)
        for door in ("registry", "token", "api", "console"):
            assert 1 <= int(locked[door].headers["Retry-After"]) <= LOCKOUT
        assert locked["registry"].json()["errors"][0]["code"] == "TOOMANYREQUESTS"
        assert locked["api"].json()["error"]["code"] == "TOO_MANY_REQUESTS"
        assert "Too many failed sign-ins" in locked["console"].text
        # Others are not affected, nor the victim's tokens (the lock is on passwords).
        assert set(statuses(doors(owner, "bystander", "bystander-Secret-1")).values()) <= {
            200,
            303,
        }
        assert owner.get("/api/v1/namespaces", headers=bearer(token)).status_code == 200
        # The lock ends: the right password works again.
        wait_until(lambda: owner.get("/v2/", auth=("victim", "victim-Secret-1")).is_success, 10)

    admin = httpx.Client(base_url=server.url, auth=(server.admin_user, server.admin_password))
    failures = audit_entries(admin, user="victim", action="auth.login", outcome="failure")
    assert len(failures) == 3
    assert {e["clientIp"] for e in failures} == {"10.0.0.1"}
    assert {e["detail"]["via"] for e in failures} == {"registry"}
    lockouts = audit_entries(admin, action="auth.lockout")
    assert [e["target"] for e in lockouts] == ["user:victim"]


def test_repeated_failures_from_one_address_lock_the_address(server: ConveyorServer) -> None:
    with client(server, "10.0.0.66") as scanner, client(server, "10.0.0.67") as neighbour:
        # Guessed passwords, robot tokens and personal tokens all count for the address.
        attempts = [scanner.get("/v2/", auth=(f"nobody{n}", "guess")) for n in range(3)] + [
            scanner.get("/v2/", auth=("robot$ns+bot", "cvr_guess")),
            scanner.get("/api/v1/namespaces", headers=bearer("cvt_0123456789ab_" + "x" * 43)),
            scanner.get("/v2/", auth=("bystander", "cvt_0123456789ab_" + "y" * 43)),
        ]
        assert [r.status_code for r in attempts] == [401] * 6
        refused = scanner.get("/v2/", auth=("bystander", "bystander-Secret-1"))
        assert refused.status_code == 429
        assert neighbour.get("/v2/", auth=("bystander", "bystander-Secret-1")).status_code == 200
        wait_until(
            lambda: scanner.get("/v2/", auth=("bystander", "bystander-Secret-1")).is_success, 10
        )


def test_a_right_password_forgives_earlier_typos(server: ConveyorServer) -> None:
    """Six wrong passwords in all, never three in a row: the user name is never locked.
    (Each round from its own address, so the address count stays out of it.)"""
    for round_ in range(3):
        with client(server, f"10.0.1.{round_}") as http:
            assert http.get("/v2/", auth=("typo", "typo-wrong")).status_code == 401
            assert http.get("/v2/", auth=("typo", "typo-wrong")).status_code == 401
            # The OAuth form is never served from the 5 s sign-in cache: really checked.
            right = http.post(
                "/auth/token",
                data={
                    "grant_type": "password",
                    "username": "typo",
                    "password": "typo-Secret-1",
                    "service": SERVICE,
                    "client_id": "test",
                },
            )
            assert right.status_code == 200
