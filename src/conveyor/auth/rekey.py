"""Key rotation: seal every stored secret and endpoint password again with the current key.

Runs in one transaction: either every value is re-sealed, or (one cannot be opened with any
configured key) nothing changes and the error names the value.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth.secrets import SecretBox
from conveyor.db.chain_models import Endpoint, Secret


@dataclass(frozen=True, slots=True)
class RekeyReport:
    key_id: str
    secrets: int
    endpoint_passwords: int


def endpoint_seal_name(endpoint: str) -> str:
    """The associated data endpoint passwords are sealed under (see web/endpoints.py)."""
    return f"endpoint:{endpoint}"


async def rotate_key(session: AsyncSession, box: SecretBox) -> RekeyReport:
    secrets = 0
    for row in (await session.execute(select(Secret).order_by(Secret.name))).scalars():
        value = box.open(row.name, row.nonce, row.ciphertext)
        row.nonce, row.ciphertext = box.seal(row.name, value)
        row.key_id = box.key_id
        secrets += 1
    passwords = 0
    endpoints = await session.execute(
        select(Endpoint).where(Endpoint.password_ciphertext.is_not(None)).order_by(Endpoint.name)
    )
    for endpoint in endpoints.scalars():
        if endpoint.password_nonce is None or endpoint.password_ciphertext is None:
            continue
        name = endpoint_seal_name(endpoint.name)
        value = box.open(name, endpoint.password_nonce, endpoint.password_ciphertext)
        endpoint.password_nonce, endpoint.password_ciphertext = box.seal(name, value)
        passwords += 1
    await session.flush()
    return RekeyReport(box.key_id, secrets, passwords)
