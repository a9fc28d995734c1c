"""The token service: ES256 JWTs with `access` claims, as the Docker registry token spec defines."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from conveyor.auth.scopes import Access
from conveyor.db.database import Database
from conveyor.db.models import SigningKey
from conveyor.db.upsert import insert_ignore

ALGORITHM = "ES256"
LEEWAY_SECONDS = 60  # distribution's leeway on both ends of [nbf, exp]


class TokenError(Exception):
    """A bearer token that is malformed, badly signed, for someone else, or expired."""


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    subject: str
    access: tuple[Access, ...]
    expires_at: int
    # The robot or personal token it was issued through ("robot:<id>", "token:<id>"): the
    # registry refuses the token once that credential is revoked or expired.
    credential: str | None = None

    def actions_for(self, type_: str, name: str) -> set[str]:
        granted: set[str] = set()
        for item in self.access:
            if item.type == type_ and item.name == name:
                granted.update(item.actions)
        return granted


class TokenService:
    def __init__(self, issuer: str, service: str, ttl_seconds: int) -> None:
        self.issuer = issuer
        self.service = service
        self.ttl_seconds = ttl_seconds
        self._signing: tuple[str, ec.EllipticCurvePrivateKey] | None = None
        self._public: dict[str, ec.EllipticCurvePublicKey] = {}

    async def load_keys(self, db: Database) -> None:
        """Use the oldest key in the database, creating one on first start."""
        candidate = ec.generate_private_key(ec.SECP256R1())
        pem = candidate.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        async with db.write() as session:
            existing = (await session.execute(select(SigningKey.kid).limit(1))).first()
            if existing is None:
                await insert_ignore(session, SigningKey, kid=_kid(candidate), private_pem=pem)
        async with db.read() as session:
            rows = (
                await session.execute(select(SigningKey).order_by(SigningKey.created_at))
            ).scalars()
            keys = [(row.kid, _load_private(row.private_pem)) for row in rows]
        self._signing = keys[0]
        self._public = {kid: key.public_key() for kid, key in keys}

    def issue(
        self, subject: str, access: list[Access], credential: str | None = None
    ) -> tuple[str, int, int]:
        """Returns (token, expires_in, issued_at)."""
        if self._signing is None:
            raise RuntimeError("load_keys() first")
        kid, key = self._signing
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_seconds,
            "jti": uuid.uuid4().hex,
            "access": [item.to_claim() for item in access],
        }
        if credential is not None:
            claims["cred"] = credential
        token = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})
        return token, self.ttl_seconds, now

    def verify(self, token: str) -> VerifiedToken:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError(f"malformed token: {exc}") from None
        key = self._public.get(str(header.get("kid", "")))
        if key is None:
            raise TokenError("token signed by an unknown key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],  # never trust the header's alg (none, HS256 confusion)
                audience=self.service,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "nbf", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from None
        credential = claims.get("cred")
        return VerifiedToken(
            str(claims["sub"]),
            _access_claims(claims),
            int(claims["exp"]),
            str(credential) if credential is not None else None,
        )


def _access_claims(claims: dict[str, Any]) -> tuple[Access, ...]:
    result = []
    for item in claims.get("access") or []:
        if isinstance(item, dict):
            actions = tuple(str(a) for a in item.get("actions") or [])
            result.append(Access(str(item.get("type")), str(item.get("name")), actions))
    return tuple(result)


def _kid(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()[:48]


def _load_private(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TokenError("stored signing key is not an EC key")
    return key
