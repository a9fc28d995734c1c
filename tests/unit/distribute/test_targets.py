"""Trigger matching, the URL deny list, redaction and signatures."""

from __future__ import annotations

import pytest

from conveyor.chains.schema import Trigger
from conveyor.distribute.signing import signature, verify
from conveyor.distribute.targets import TargetRefused, check_url, redact, triggered


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_trigger_modes() -> None:
    assert triggered(Trigger(type="all"), "anything")
    assert triggered(Trigger(type="tags", tags=["v1", "v2"]), "v2")
    assert not triggered(Trigger(type="tags", tags=["v1"]), "v10")
    regexp = Trigger(type="regexp", regexp="v.*")
    assert triggered(regexp, "v1.2")
    assert not triggered(regexp, "nightly-v1"), "regexps match the whole tag"


@pytest.mark.anyio
async def test_denied_networks_and_schemes() -> None:
    deny = ["169.254.0.0/16", "fe80::/10"]
    await check_url("http://127.0.0.1:9/hook", deny)
    with pytest.raises(TargetRefused, match="denied"):
        await check_url("http://169.254.169.254/latest/meta-data", deny)
    with pytest.raises(TargetRefused, match="http"):
        await check_url("file:///etc/passwd", deny)
    with pytest.raises(TargetRefused, match="denied"):
        await check_url("http://127.0.0.1/", ["127.0.0.0/8"])


def test_redact_keeps_tokens_out_of_records() -> None:
    assert redact("https://user:pw@h.example.com:8443/hook/x?token=abc") == (
        "https://h.example.com:8443/hook/x?…"
    )
    assert redact("http://h/p") == "http://h/p"


def test_signature_round_trip_and_tampering() -> None:
    header = signature("s3cret", b'{"a":1}', 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify("s3cret", b'{"a":1}', header, 1_700_000_010)
    assert not verify("s3cret", b'{"a":2}', header, 1_700_000_010)
    assert not verify("other", b'{"a":1}', header, 1_700_000_010)
    assert not verify("s3cret", b'{"a":1}', header, 1_700_009_999), "stale timestamps fail"
    assert not verify("s3cret", b'{"a":1}', "garbage", 1_700_000_010)
