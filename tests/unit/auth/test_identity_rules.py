"""Robot names, token lifetimes and shapes, and client addresses behind proxies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conveyor.auth.credentials import loggable_name
from conveyor.auth.expiry import ExpiryError, expires_at, is_expired, parse_duration
from conveyor.auth.origin import parse_networks, resolve
from conveyor.auth.personal_tokens import is_personal_token
from conveyor.auth.robots import RobotError, check_robot_name, full_name, parse_full_name
from conveyor.auth.users import UserError, validate_user_name


def test_robot_names_round_trip_and_never_look_like_users() -> None:
    assert full_name("shop", "ci") == "robot$shop+ci"
    assert parse_full_name("robot$shop+ci") == ("shop", "ci")
    assert parse_full_name("robot$a.b-c+d_e") == ("a.b-c", "d_e")
    for not_robot in ("robot", "robot$", "robot$shop", "robot$+ci", "robot$shop+", "alice"):
        assert parse_full_name(not_robot) is None
    with pytest.raises(UserError):
        validate_user_name("robot$shop+ci")


@pytest.mark.parametrize(
    ("name", "access"),
    [
        ("Upper", "pull"),
        ("has space", "pull"),
        ("-lead", "pull"),
        ("x" * 33, "pull"),
        ("ok", "admin"),
    ],
)
def test_bad_robot_names_and_access_are_refused(name: str, access: str) -> None:
    with pytest.raises(RobotError):
        check_robot_name("shop", name, access)


def test_a_robot_full_name_fits_the_actor_columns() -> None:
    check_robot_name("n" * 30, "r" * 27, "push")  # 6 + 30 + 1 + 27 = 64
    with pytest.raises(RobotError):
        check_robot_name("n" * 31, "r" * 27, "push")


def test_lifetimes() -> None:
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("2w") == timedelta(weeks=2)
    assert parse_duration("45s") == timedelta(seconds=45)
    for bad in ("", "0d", "3651d", "1y", "-1d", "10 d", "d"):
        with pytest.raises(ExpiryError):
            parse_duration(bad)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert expires_at(None, now) is None and expires_at("never", now) is None
    assert expires_at("1d", now) == datetime(2026, 1, 2, tzinfo=UTC)


def test_expiry_takes_naive_database_times_as_utc() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert is_expired(datetime(2026, 1, 1, 11, 59), now)
    assert not is_expired(datetime(2026, 1, 1, 12, 1), now)
    assert not is_expired(None, now)


def test_personal_tokens_are_told_apart_by_their_prefix() -> None:
    assert is_personal_token("cvt_0123456789ab_secret")
    assert not is_personal_token("eyJhbGciOiJFUzI1NiJ9.e30.sig")  # a registry JWT
    assert not is_personal_token("cvr_robot")


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    trusted = parse_networks(["10.0.0.0/8", "127.0.0.1/32"])
    assert resolve("203.0.113.9", "1.2.3.4", trusted) == "203.0.113.9"  # not a proxy: ignored
    assert resolve("127.0.0.1", "1.2.3.4", trusted) == "1.2.3.4"
    # The nearest address that is not one of ours; what the client wrote further left is not.
    assert resolve("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.7", trusted) == "1.2.3.4"
    assert resolve("127.0.0.1", None, trusted) == "127.0.0.1"
    assert resolve("127.0.0.1", "1.2.3.4", []) == "127.0.0.1"  # no proxies configured


def test_only_names_reach_the_audit_log_from_a_failed_sign_in() -> None:
    assert loggable_name("alice") == "alice"
    assert loggable_name("robot$shop+ci") == "robot$shop+ci"
    assert loggable_name("") == ""
    for pasted in ("cvt_0123456789ab_secret", "cvr_secret", "Hunter2!", "a b", "x" * 65):
        assert loggable_name(pasted) == "(not a name)"
