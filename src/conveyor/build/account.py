"""How a build authenticates to this instance's registry.

The BUILD node signs its own short-lived bearer token with the instance's token keys (the same
keys /auth/token uses, read from the database, so a separate `conveyor runner` can do it too),
for `repository:<name>:pull,push` and nothing else, issued to the internal account
`conveyor:build`. The account exists as a user row with no usable password and a name no person
can register (user names have no ':'), so the registry records it as the pusher and the chain
engine recognises the build's own push (chains.records.BUILD_ACTOR) and starts no second record.
The token goes only into an Authorization header of this process's HTTP client: never on a
command line, in a file, a log or a record.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from conveyor.auth.scopes import Access
from conveyor.auth.tokens import TokenService
from conveyor.chains.records import BUILD_ACTOR
from conveyor.db.database import Database
from conveyor.db.models import User
from conveyor.db.upsert import insert_ignore

NO_PASSWORD = "!"  # not an Argon2 hash: no password ever matches it


class BuildAccount:
    def __init__(self, db: Database, tokens: TokenService) -> None:
        self.db = db
        self.tokens = tokens
        self._ready = False
        self._cache: dict[str, tuple[float, str]] = {}

    async def _prepare(self) -> None:
        if not self._ready:
            await self.tokens.load_keys(self.db)
            self._ready = True
        # Every time a token is made: an administrator may have deleted the row meanwhile.
        async with self.db.write() as session:
            exists = await session.execute(select(User.id).where(User.name == BUILD_ACTOR))
            if exists.first() is None:
                await insert_ignore(
                    session, User, name=BUILD_ACTOR, password_hash=NO_PASSWORD, is_admin=False
                )

    async def token(self, repository: str) -> str:
        """A token for pull and push on `repository`, re-issued at half its lifetime."""
        cached = self._cache.get(repository)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        await self._prepare()
        token, expires_in, _ = self.tokens.issue(
            BUILD_ACTOR, [Access("repository", repository, ("pull", "push"))]
        )
        self._cache[repository] = (time.monotonic() + expires_in / 2, token)
        return token
