"""How the authenticator reads a 401 (real httpx responses, no server needed)."""

from __future__ import annotations

import httpx
import pytest

from conveyor.client.auth import Authenticator
from conveyor.client.challenge import Scope, pull, push
from conveyor.client.options import Credentials

pytestmark = pytest.mark.anyio


async def never_sent(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request expected: {request.url}")


def unauthorized(challenge: str) -> httpx.Response:
    return httpx.Response(401, headers={"WWW-Authenticate": challenge})


async def test_insufficient_scope_naming_a_new_scope_asks_again_with_the_union() -> None:
    async with httpx.AsyncClient() as http:
        auth = Authenticator(http, never_sent, Credentials("u", "p"))
        asked = frozenset({push("shop/web")})
        challenge = (
            'Bearer realm="http://r/token",service="s",error="insufficient_scope",'
            'scope="repository:shop/base:pull"'
        )
        again = auth.unauthorized(unauthorized(challenge), asked, "Bearer old")
        assert again == frozenset({push("shop/web"), pull("shop/base")})


async def test_insufficient_scope_for_what_was_asked_gives_up() -> None:
    async with httpx.AsyncClient() as http:
        auth = Authenticator(http, never_sent, Credentials("u", "p"))
        challenge = (
            'Bearer realm="http://r/token",service="s",error="insufficient_scope",'
            'scope="repository:shop/web:push,pull"'
        )
        asked = frozenset({push("shop/web")})
        assert auth.unauthorized(unauthorized(challenge), asked, "Bearer t") is None


async def test_basic_challenge_uses_credentials_once() -> None:
    async with httpx.AsyncClient() as http:
        auth = Authenticator(http, never_sent, Credentials("user", "pass"))
        scopes = frozenset({Scope("repository", "a", ("pull",))})
        assert await auth.authorization(scopes) is None, "nothing before a challenge"
        assert auth.unauthorized(unauthorized('Basic realm="x"'), scopes, None) == scopes
        header = await auth.authorization(scopes)
        assert header == "Basic dXNlcjpwYXNz"
        assert auth.unauthorized(unauthorized('Basic realm="x"'), scopes, header) is None

        anonymous = Authenticator(http, never_sent, None)
        assert anonymous.unauthorized(unauthorized('Basic realm="x"'), scopes, None) is None


async def test_a_401_without_a_usable_challenge_gives_up() -> None:
    async with httpx.AsyncClient() as http:
        auth = Authenticator(http, never_sent, Credentials("u", "p"))
        assert auth.unauthorized(httpx.Response(401), frozenset(), None) is None
