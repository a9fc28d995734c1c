"""Robot accounts: per-namespace credentials for machines, pull or pull+push, with expiry.

A robot signs in as `robot$<namespace>+<name>` (Harbor's form). User names are
`[a-z0-9._-]` only, so no user name can ever contain `$` or `+`: the two never collide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from conveyor.auth import opaque
from conveyor.auth.expiry import aware, is_expired
from conveyor.auth.identity import Identity, RobotGrant
from conveyor.auth.policy import PULL, PUSH
from conveyor.db.identity_models import Robot
from conveyor.db.models import Namespace

PREFIX: Final = "robot$"
SEPARATOR: Final = "+"
ACCESS: Final = {"pull": frozenset({PULL}), "push": frozenset({PULL, PUSH})}
MAX_FULL_NAME: Final = 64  # the width of actor columns (events, uploads, audit)
_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


class RobotError(ValueError):
    def __init__(self, message: str, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


@dataclass(frozen=True, slots=True)
class RobotView:
    """A robot as listed: never its token."""

    name: str
    full_name: str
    namespace: str
    access: str
    expires_at: datetime | None
    created_by: str
    created_at: datetime


def full_name(namespace: str, name: str) -> str:
    return f"{PREFIX}{namespace}{SEPARATOR}{name}"


def parse_full_name(text: str) -> tuple[str, str] | None:
    """`robot$shop+ci` -> ("shop", "ci"); None when it is not a robot's name."""
    if not text.startswith(PREFIX) or SEPARATOR not in text:
        return None
    namespace, _, name = text[len(PREFIX) :].rpartition(SEPARATOR)
    return (namespace, name) if namespace and name else None


def check_robot_name(namespace: str, name: str, access: str) -> None:
    if not (1 <= len(name) <= 32) or not _NAME.fullmatch(name):
        raise RobotError("robot names are 1-32 of a-z 0-9 with . _ - between", field="name")
    if access not in ACCESS:
        raise RobotError("access is pull or push", field="access")
    if len(full_name(namespace, name)) > MAX_FULL_NAME:
        raise RobotError(
            f"robot${namespace}+{name} is longer than {MAX_FULL_NAME} characters", field="name"
        )


async def create_robot(
    session: AsyncSession,
    namespace: Namespace,
    name: str,
    access: str,
    expires_at: datetime | None,
    created_by: str,
) -> tuple[RobotView, str]:
    """The new robot and its token (`cvr_...`), which is shown this once and never again."""
    check_robot_name(namespace.name, name, access)
    taken = await session.execute(
        select(Robot.id).where(Robot.namespace_id == namespace.id, Robot.name == name)
    )
    if taken.first() is not None:
        raise RobotError(f"robot {name!r} exists in {namespace.name!r}", 409, "name")
    token = opaque.ROBOT_PREFIX + opaque.new_secret()
    robot = Robot(
        namespace_id=namespace.id,
        name=name,
        access=access,
        token_hash=opaque.digest(token),
        expires_at=expires_at,
        created_by=created_by,
    )
    session.add(robot)
    await session.flush()
    return _view(robot, namespace.name), token


async def list_robots(session: AsyncSession, namespace: Namespace) -> list[RobotView]:
    rows = await session.execute(
        select(Robot).where(Robot.namespace_id == namespace.id).order_by(Robot.name)
    )
    return [_view(robot, namespace.name) for robot in rows.scalars()]


async def revoke_robot(session: AsyncSession, namespace: Namespace, name: str) -> bool:
    """Delete the robot: its token and every registry token issued to it stop at once."""
    result = await session.execute(
        delete(Robot).where(Robot.namespace_id == namespace.id, Robot.name == name)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def robot_sign_in(session: AsyncSession, user: str, token: str) -> Identity | None:
    """The robot's identity when `user` names a live robot and `token` is its token."""
    parsed = parse_full_name(user)
    if parsed is None or not token.startswith(opaque.ROBOT_PREFIX):
        return None
    row = (
        await session.execute(
            select(Robot, Namespace.name)
            .join(Namespace, Namespace.id == Robot.namespace_id)
            .where(Namespace.name == parsed[0], Robot.name == parsed[1])
        )
    ).first()
    if row is None or not opaque.matches(token, row[0].token_hash):
        return None
    return _live(row[0], row[1])


async def robot_by_id(session: AsyncSession, robot_id: int) -> Identity | None:
    """The identity of a robot a registry token was issued to, while it lives."""
    row = (
        await session.execute(
            select(Robot, Namespace.name)
            .join(Namespace, Namespace.id == Robot.namespace_id)
            .where(Robot.id == robot_id)
        )
    ).first()
    return None if row is None else _live(row[0], row[1])


def _live(robot: Robot, namespace: str) -> Identity | None:
    if is_expired(robot.expires_at):
        return None
    return Identity(
        full_name(namespace, robot.name),
        robot=RobotGrant(namespace, ACCESS.get(robot.access, frozenset())),
        credential=f"robot:{robot.id}",
    )


def _view(robot: Robot, namespace: str) -> RobotView:
    return RobotView(
        name=robot.name,
        full_name=full_name(namespace, robot.name),
        namespace=namespace,
        access=robot.access,
        expires_at=aware(robot.expires_at) if robot.expires_at else None,
        created_by=robot.created_by,
        created_at=aware(robot.created_at),
    )
