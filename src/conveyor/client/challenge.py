"""`WWW-Authenticate` challenges (RFC 7235) and the resource scopes of the Docker token spec."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge: its scheme in lower case and its parameters (names in lower case)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def error(self) -> str | None:
        return self.params.get("error")

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scope value split on spaces: several resource scopes share one quoted value."""
        return tuple(self.params.get("scope", "").split())


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge of a header value; unreadable trailing text is ignored."""
    challenges: list[Challenge] = []
    position = 0
    while True:
        position = _skip(header, position, " \t,")
        match = _TOKEN.match(header, position)
        if match is None:
            return challenges
        position = _skip(header, match.end(), " \t")
        if header.startswith("=", position) and challenges:
            value, position = _value(header, _skip(header, position + 1, " \t"))
            challenges[-1].params[match.group().lower()] = value
        else:
            challenges.append(Challenge(match.group().lower()))


def preferred_challenge(header: str) -> Challenge | None:
    """Bearer when offered (it carries the token realm), else Basic, else nothing usable."""
    challenges = {c.scheme: c for c in parse_challenges(header)}
    return challenges.get("bearer") or challenges.get("basic")


def _skip(text: str, position: int, characters: str) -> int:
    while position < len(text) and text[position] in characters:
        position += 1
    return position


def _value(text: str, position: int) -> tuple[str, int]:
    quoted = _QUOTED.match(text, position)
    if quoted is not None:
        return _ESCAPE.sub(r"\1", quoted.group(1)), quoted.end()
    end = position
    while end < len(text) and text[end] not in ", \t":
        end += 1
    return text[position:end], end


@dataclass(frozen=True, slots=True, order=True)
class Scope:
    """A resource scope, `repository:shop/web:pull,push`."""

    type: str
    name: str
    actions: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Scope | None:
        # The name may hold one colon (host:port/repo): type from the front, actions from the end.
        if text.count(":") < 2:
            return None
        type_, rest = text.split(":", 1)
        name, actions = rest.rsplit(":", 1)
        return cls(type_, name, tuple(sorted(a for a in actions.split(",") if a)))

    def covers(self, other: Scope) -> bool:
        if (self.type, self.name) != (other.type, other.name):
            return False
        return "*" in self.actions or set(other.actions) <= set(self.actions)

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"


def pull(repository: str) -> Scope:
    return Scope("repository", repository, ("pull",))


def push(repository: str) -> Scope:
    return Scope("repository", repository, ("pull", "push"))


CATALOG = Scope("registry", "catalog", ("*",))
