"""Digests: `algorithm:encoded`, with only sha256 and sha512 supported."""

from __future__ import annotations

import hashlib

import pytest

from conveyor.oci.digest import Digest, DigestError

SHA256 = "sha256:" + hashlib.sha256(b"hello").hexdigest()
SHA512 = "sha512:" + hashlib.sha512(b"hello").hexdigest()


@pytest.mark.parametrize("text", [SHA256, SHA512])
def test_valid_digest_round_trips(text: str) -> None:
    digest = Digest.parse(text)
    assert str(digest) == text
    assert digest.algorithm == text.split(":")[0]


def test_uppercase_hex_is_rejected() -> None:
    with pytest.raises(DigestError) as info:
        Digest.parse(SHA256.upper().replace("SHA256", "sha256"))
    assert not info.value.unsupported


@pytest.mark.parametrize("text", [SHA256[:-1], SHA256 + "0", "sha512:" + "a" * 64])
def test_wrong_length_is_rejected(text: str) -> None:
    with pytest.raises(DigestError) as info:
        Digest.parse(text)
    assert not info.value.unsupported


def test_unregistered_algorithm_is_flagged_unsupported() -> None:
    with pytest.raises(DigestError) as info:
        Digest.parse("md5:" + hashlib.md5(b"x").hexdigest())
    assert info.value.unsupported


@pytest.mark.parametrize(
    "text", ["", "sha256", "sha256:", ":abc", "latest", "sha256:a b", "SHA256:aa"]
)
def test_garbage_is_invalid(text: str) -> None:
    with pytest.raises(DigestError) as info:
        Digest.parse(text)
    assert not info.value.unsupported


def test_of_hashes_bytes() -> None:
    assert str(Digest.of(b"hello")) == SHA256
    assert str(Digest.of(b"hello", "sha512")) == SHA512


def test_hasher_matches_algorithm() -> None:
    hasher = Digest.parse(SHA512).hasher()
    hasher.update(b"hello")
    assert hasher.hexdigest() == SHA512.split(":")[1]
