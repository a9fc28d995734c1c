"""Repository names and tags, with the distribution spec's grammar."""

from __future__ import annotations

import pytest

from conveyor.oci.reference import is_valid_name, is_valid_tag, split_namespace


@pytest.mark.parametrize(
    "name",
    ["a", "shop/web", "shop/web/api", "a.b/c_d", "a__b", "a--b", "a---b", "a-b.c_d/e", "0/1"],
)
def test_valid_names(name: str) -> None:
    assert is_valid_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Shop/web",
        "shop/Web",
        "/shop",
        "-shop",
        ".shop",
        "_shop",
        "shop/",
        "shop//web",
        "shop/-web",
        "a..b",
        "shop/../web",
        "a___b",
        "a._b",
        "a-",
        "shop web",
        "shop:5000/web",
    ],
)
def test_invalid_names(name: str) -> None:
    assert not is_valid_name(name)


def test_name_length_limit_is_255() -> None:
    ok = "/".join(["a" * 50] * 5) + "a"  # 255 characters
    assert len(ok) == 255
    assert is_valid_name(ok)
    assert not is_valid_name(ok + "a")


@pytest.mark.parametrize("tag", ["latest", "v1.0.0", "_x", "A-b_C.d", "a" * 128, "1"])
def test_valid_tags(tag: str) -> None:
    assert is_valid_tag(tag)


@pytest.mark.parametrize("tag", ["", "a" * 129, ".hidden", "-dash", "a/b", "a:b", "a+b"])
def test_invalid_tags(tag: str) -> None:
    assert not is_valid_tag(tag)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("shop/web", ("shop", "web")),
        ("shop/web/api", ("shop", "web/api")),
        ("busybox", ("library", "busybox")),
    ],
)
def test_split_namespace(name: str, expected: tuple[str, str]) -> None:
    assert split_namespace(name) == expected
