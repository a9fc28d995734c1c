"""Resource scopes of the token spec: `type:name:actions`, space-separated."""

from __future__ import annotations

import pytest

from conveyor.auth.scopes import Access, ScopeError, parse_scope


def test_single_scope() -> None:
    assert parse_scope("repository:shop/web:pull,push") == [
        Access("repository", "shop/web", ("pull", "push"))
    ]


def test_several_space_separated_scopes() -> None:
    assert parse_scope("repository:a:pull repository:b/c:pull,push") == [
        Access("repository", "a", ("pull",)),
        Access("repository", "b/c", ("pull", "push")),
    ]


def test_empty_scope_is_no_access() -> None:
    assert parse_scope("") == []


def test_name_with_host_port_keeps_its_colon() -> None:
    assert parse_scope("repository:host:5000/repo:pull") == [
        Access("repository", "host:5000/repo", ("pull",))
    ]


def test_resource_class_is_normalised_away() -> None:
    assert parse_scope("repository(plugin):shop/plugin:pull") == [
        Access("repository", "shop/plugin", ("pull",))
    ]


def test_registry_catalog_wildcard() -> None:
    assert parse_scope("registry:catalog:*") == [Access("registry", "catalog", ("*",))]


def test_empty_actions_are_allowed() -> None:
    assert parse_scope("repository:shop/web:") == [Access("repository", "shop/web", ())]


def test_to_claim_and_str() -> None:
    access = Access("repository", "shop/web", ("pull", "push"))
    assert access.to_claim() == {
        "type": "repository",
        "name": "shop/web",
        "actions": ["pull", "push"],
    }
    assert str(access) == "repository:shop/web:pull,push"


@pytest.mark.parametrize(
    "text",
    [
        "repository",
        "repository:shop/web",
        "Repository:shop/web:pull",
        "repository::pull",
        ":shop/web:pull",
        "repository:shop/web:PULL",
        "repository:shop/web:pu-ll",
        "repo(Plugin):x:pull",
        "repository:a:pull repository:b",
    ],
)
def test_invalid_scopes_raise(text: str) -> None:
    with pytest.raises(ScopeError):
        parse_scope(text)
