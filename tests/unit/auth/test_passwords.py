"""Password hashing with Argon2id."""

from __future__ import annotations

from conveyor.auth.passwords import hash_password, verify_password


def test_hash_then_verify() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse")


def test_same_password_hashes_differently() -> None:
    assert hash_password("correct horse") != hash_password("correct horse")


def test_wrong_password_is_refused() -> None:
    stored = hash_password("correct horse")
    assert not verify_password(stored, "battery staple")


def test_cached_success_does_not_leak_to_other_passwords() -> None:
    stored = hash_password("correct horse")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct horsE")


def test_corrupt_hash_is_false() -> None:
    assert not verify_password("not-a-hash", "anything")
    assert not verify_password("$argon2id$v=19$m=65536,t=3,p=4$garbage", "anything")
    assert not verify_password("", "")
