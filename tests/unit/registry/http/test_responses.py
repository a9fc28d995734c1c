"""Range requests on blobs (RFC 9110 as the OCI spec uses it)."""

from __future__ import annotations

import pytest

from conveyor.registry.errors import RegistryError
from conveyor.registry.http.responses import error_response, parse_range

SIZE = 2048


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=500-1499", (500, 1499)),
        ("bytes=500-", (500, 2047)),
        ("bytes=-500", (1548, 2047)),
        ("bytes=2000-5000", (2000, 2047)),
        ("bytes=0-0", (0, 0)),
        ("bytes=0-2047", (0, 2047)),
        ("bytes=2047-2047", (2047, 2047)),
        ("bytes=-5000", (0, 2047)),
        (" bytes=500-1499 ", (500, 1499)),
    ],
)
def test_satisfiable_ranges(header: str, expected: tuple[int, int]) -> None:
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize(
    "header", ["bytes=500-0", "bytes=5000-10000", "bytes=2048-", "bytes=2048-4000", "bytes=-0"]
)
def test_unsatisfiable_ranges_are_range_invalid(header: str) -> None:
    with pytest.raises(RegistryError) as info:
        parse_range(header, SIZE)
    assert info.value.code == "RANGE_INVALID"
    assert info.value.status == 416


@pytest.mark.parametrize("header", [None, ""])
def test_no_range_header_means_the_whole_blob(header: str | None) -> None:
    assert parse_range(header, SIZE) is None


@pytest.mark.parametrize(
    "header", ["bytes=0-10,20-30", "bytes=-", "items=0-10", "bytes=a-b", "bytes 0-10"]
)
def test_multi_range_and_malformed_mean_the_whole_blob(header: str) -> None:
    assert parse_range(header, SIZE) is None


def test_error_response_has_spec_body_and_api_version_header() -> None:
    response = error_response(RegistryError("BLOB_UNKNOWN"), {"X-Extra": "1"})
    assert response.status_code == 404
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert response.headers["X-Extra"] == "1"
    assert response.headers["content-type"] == "application/json"
    assert b'"code":"BLOB_UNKNOWN"' in response.body
