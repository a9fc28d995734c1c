"""The token service against a real SQLite database, and tokens minted by hand to attack it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conveyor.auth.scopes import Access
from conveyor.auth.tokens import TokenError, TokenService
from conveyor.db.database import Database
from conveyor.db.migrate import upgrade

ISSUER = "conveyor"
SERVICE = "conveyor"
PULL = Access("repository", "shop/web", ("pull",))


@dataclass
class Keyed:
    """A loaded service and the signing key it uses, read straight from the database."""

    service: TokenService
    url: str
    kid: str
    private: ec.EllipticCurvePrivateKey


def load(url: str, service: str = SERVICE) -> TokenService:
    tokens = TokenService(ISSUER, service, 900)

    async def run() -> None:
        db = Database(url)
        try:
            await tokens.load_keys(db)
        finally:
            await db.close()

    asyncio.run(run())
    return tokens


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keyed]:
    tmp_path = tmp_path_factory.mktemp("tokens")
    url = f"sqlite:///{tmp_path}/t.db"
    upgrade(url)
    service = load(url)
    with sqlite3.connect(tmp_path / "t.db") as conn:
        kid, pem = conn.execute("SELECT kid, private_pem FROM signing_keys").fetchone()
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    yield Keyed(service, url, kid, private)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    doc: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "alice",
        "aud": SERVICE,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "j1",
        "access": [PULL.to_claim()],
    }
    doc.update(overrides)
    return doc


def mint(keyed: Keyed, **overrides: Any) -> str:
    return jwt.encode(
        claims(**overrides), keyed.private, algorithm="ES256", headers={"kid": keyed.kid}
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())


def test_issue_then_verify_round_trip(keyed: Keyed) -> None:
    token, expires_in, issued_at = keyed.service.issue("alice", [PULL])
    assert expires_in == 900
    assert abs(issued_at - time.time()) < 5
    verified = keyed.service.verify(token)
    assert verified.subject == "alice"
    assert verified.access == (PULL,)
    assert verified.actions_for("repository", "shop/web") == {"pull"}
    assert verified.actions_for("repository", "shop/other") == set()
    assert verified.expires_at == issued_at + 900


def test_issued_token_has_the_spec_claims(keyed: Keyed) -> None:
    token, _, _ = keyed.service.issue("", [])
    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "ES256"
    assert header["kid"] == keyed.kid
    assert payload["sub"] == ""
    assert payload["access"] == []
    assert {"iss", "aud", "exp", "nbf", "iat", "jti"} <= payload.keys()


def test_hand_minted_token_with_the_real_key_is_accepted(keyed: Keyed) -> None:
    assert keyed.service.verify(mint(keyed)).subject == "alice"


def test_audience_as_a_list_containing_the_service_is_accepted(keyed: Keyed) -> None:
    assert keyed.service.verify(mint(keyed, aud=["other", SERVICE])).subject == "alice"


def test_wrong_audience_is_refused(keyed: Keyed) -> None:
    with pytest.raises(TokenError):
        keyed.service.verify(mint(keyed, aud="someone-else"))


def test_token_for_another_service_sharing_the_key_is_refused(keyed: Keyed) -> None:
    other = load(keyed.url, service="other-registry")
    token, _, _ = other.issue("alice", [PULL])
    with pytest.raises(TokenError):
        keyed.service.verify(token)


def test_wrong_issuer_is_refused(keyed: Keyed) -> None:
    with pytest.raises(TokenError):
        keyed.service.verify(mint(keyed, iss="evil"))


def test_expired_beyond_leeway_is_refused(keyed: Keyed) -> None:
    now = int(time.time())
    with pytest.raises(TokenError):
        keyed.service.verify(mint(keyed, iat=now - 600, nbf=now - 600, exp=now - 90))


def test_expired_within_leeway_is_accepted(keyed: Keyed) -> None:
    now = int(time.time())
    token = mint(keyed, iat=now - 600, nbf=now - 600, exp=now - 30)
    assert keyed.service.verify(token).subject == "alice"


def test_not_before_beyond_leeway_is_refused(keyed: Keyed) -> None:
    now = int(time.time())
    with pytest.raises(TokenError):
        keyed.service.verify(mint(keyed, nbf=now + 120, exp=now + 600))


def test_not_before_within_leeway_is_accepted(keyed: Keyed) -> None:
    now = int(time.time())
    assert keyed.service.verify(mint(keyed, nbf=now + 30, exp=now + 600)).subject == "alice"


@pytest.mark.parametrize("claim", ["exp", "nbf", "iss", "aud", "sub"])
def test_missing_required_claim_is_refused(keyed: Keyed, claim: str) -> None:
    doc = claims()
    del doc[claim]
    token = jwt.encode(doc, keyed.private, algorithm="ES256", headers={"kid": keyed.kid})
    with pytest.raises(TokenError):
        keyed.service.verify(token)


def test_unknown_kid_is_refused(keyed: Keyed) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(claims(), stranger, algorithm="ES256", headers={"kid": "UNKNOWN:KID"})
    with pytest.raises(TokenError, match="unknown key"):
        keyed.service.verify(token)


def test_missing_kid_is_refused(keyed: Keyed) -> None:
    token = jwt.encode(claims(), keyed.private, algorithm="ES256")
    with pytest.raises(TokenError):
        keyed.service.verify(token)


def test_foreign_key_under_the_real_kid_is_refused(keyed: Keyed) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(claims(), stranger, algorithm="ES256", headers={"kid": keyed.kid})
    with pytest.raises(TokenError):
        keyed.service.verify(token)


def test_alg_none_is_refused(keyed: Keyed) -> None:
    token = segments({"alg": "none", "typ": "JWT", "kid": keyed.kid}, claims()) + "."
    with pytest.raises(TokenError):
        keyed.service.verify(token)


def test_hs256_signed_with_the_public_key_is_refused(keyed: Keyed) -> None:
    public_pem = keyed.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = segments({"alg": "HS256", "typ": "JWT", "kid": keyed.kid}, claims())
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(TokenError):
        keyed.service.verify(signing_input + "." + b64(signature))


def test_tampered_payload_is_refused(keyed: Keyed) -> None:
    token, _, _ = keyed.service.issue("alice", [PULL])
    header, _, signature = token.split(".")
    push = Access("repository", "shop/web", ("pull", "push"))
    forged = b64(json.dumps(claims(access=[push.to_claim()])).encode())
    with pytest.raises(TokenError):
        keyed.service.verify(f"{header}.{forged}.{signature}")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b", "....."])
def test_malformed_token_is_refused(keyed: Keyed, token: str) -> None:
    with pytest.raises(TokenError):
        keyed.service.verify(token)


def test_replicas_on_one_database_share_the_key(keyed: Keyed) -> None:
    replica = load(keyed.url)
    token, _, _ = keyed.service.issue("alice", [PULL])
    assert replica.verify(token).subject == "alice"
    token, _, _ = replica.issue("bob", [])
    assert jwt.get_unverified_header(token)["kid"] == keyed.kid
    assert keyed.service.verify(token).subject == "bob"
    with sqlite3.connect(Path(keyed.url.removeprefix("sqlite:///"))) as conn:
        assert conn.execute("SELECT count(*) FROM signing_keys").fetchone() == (1,)


def test_issue_before_load_keys_fails() -> None:
    with pytest.raises(RuntimeError):
        TokenService(ISSUER, SERVICE, 900).issue("alice", [])
