"""The secrets box with a current key and previous ones (key rotation)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from conveyor.auth.secrets import SecretBox, SecretError

OLD, NEW = b"o" * 32, b"n" * 32


def test_values_seal_with_the_current_key_and_open_with_any() -> None:
    old = SecretBox(OLD)
    sealed_old = old.seal("hook", "value-1")
    both = SecretBox(NEW, [OLD])
    assert both.open("hook", *sealed_old) == "value-1"
    sealed_new = both.seal("hook", "value-2")
    assert SecretBox(NEW).open("hook", *sealed_new) == "value-2"
    with pytest.raises(SecretError):
        old.open("hook", *sealed_new)  # sealed with the new key only
    assert both.key_id == SecretBox(NEW).key_id != old.key_id
    assert both.previous_key_ids == (old.key_id,)


def test_a_value_is_bound_to_its_name_under_every_key() -> None:
    sealed = SecretBox(OLD).seal("hook", "value")
    with pytest.raises(SecretError):
        SecretBox(NEW, [OLD]).open("other", *sealed)


def test_keys_must_be_32_bytes() -> None:
    with pytest.raises(SecretError):
        SecretBox(NEW, [b"short"])


def test_settings_read_previous_keys_and_the_old_key_file(tmp_path: Path) -> None:
    embedded = SecretBox.from_settings("", tmp_path)  # makes <data>/secret.key
    sealed = embedded.seal("hook", "from-the-key-file")
    configured = SecretBox.from_settings(base64.b64encode(NEW).decode(), tmp_path)
    assert configured.open("hook", *sealed) == "from-the-key-file"
    older = SecretBox(OLD).seal("hook", "from-a-previous-key")
    with_previous = SecretBox.from_settings(
        base64.b64encode(NEW).decode(), tmp_path, [base64.b64encode(OLD).decode()]
    )
    assert with_previous.open("hook", *older) == "from-a-previous-key"
    with pytest.raises(SecretError):
        SecretBox.from_settings(base64.b64encode(NEW).decode(), tmp_path, ["not base64!"])
