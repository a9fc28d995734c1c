"""The error-code table and the spec's body shape."""

from __future__ import annotations

import pytest

from conveyor.registry.errors import RegistryError


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("BLOB_UNKNOWN", 404),
        ("MANIFEST_UNKNOWN", 404),
        ("NAME_UNKNOWN", 404),
        ("NAME_INVALID", 400),
        ("DIGEST_INVALID", 400),
        ("MANIFEST_INVALID", 400),
        ("UNAUTHORIZED", 401),
        ("DENIED", 403),
        ("UNSUPPORTED", 415),
        ("TOOMANYREQUESTS", 429),
        ("RANGE_INVALID", 416),
        ("MANIFEST_TOO_LARGE", 413),
        ("METHOD_NOT_ALLOWED", 405),
        ("UNKNOWN", 500),
    ],
)
def test_status_of_each_code(code: str, status: int) -> None:
    assert RegistryError(code).status == status


def test_body_shape() -> None:
    detail = [{"Type": "repository", "Name": "shop/web", "Action": "pull"}]
    body = RegistryError("UNAUTHORIZED", "who are you", detail).body()
    assert body == {
        "errors": [{"code": "UNAUTHORIZED", "message": "who are you", "detail": detail}]
    }


def test_default_message_and_empty_detail() -> None:
    error = RegistryError("MANIFEST_UNKNOWN")
    assert str(error) == "manifest unknown"
    assert error.body() == {
        "errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": {}}]
    }


@pytest.mark.parametrize(
    ("code", "body_code"),
    [
        ("RANGE_INVALID", "BLOB_UPLOAD_INVALID"),
        ("MANIFEST_TOO_LARGE", "SIZE_INVALID"),
        ("METHOD_NOT_ALLOWED", "UNSUPPORTED"),
    ],
)
def test_codes_outside_the_spec_are_reported_under_a_spec_code(code: str, body_code: str) -> None:
    assert RegistryError(code).body()["errors"][0]["code"] == body_code


def test_unknown_code_is_a_client_error() -> None:
    assert RegistryError("SOMETHING_ELSE").status == 400
