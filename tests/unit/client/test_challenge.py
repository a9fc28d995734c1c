"""WWW-Authenticate parsing and resource scopes (pure functions)."""

from __future__ import annotations

from conveyor.client.challenge import Scope, parse_challenges, preferred_challenge, pull, push


def test_bearer_challenge_with_every_parameter() -> None:
    header = (
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",'
        'scope="repository:samalba/my-app:pull,push",error="insufficient_scope"'
    )
    [challenge] = parse_challenges(header)
    assert challenge.scheme == "bearer"
    assert challenge.realm == "https://auth.example.com/token"
    assert challenge.service == "registry.example.com"
    assert challenge.scopes == ("repository:samalba/my-app:pull,push",)
    assert challenge.error == "insufficient_scope"


def test_scheme_is_case_insensitive_and_spaces_are_tolerated() -> None:
    [challenge] = parse_challenges('BEARER  Realm = "http://r/token" , Service=reg')
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "http://r/token", "service": "reg"}


def test_several_scopes_share_one_quoted_value() -> None:
    [challenge] = parse_challenges('Bearer realm="r",scope="repository:a:pull repository:b:push"')
    assert challenge.scopes == ("repository:a:pull", "repository:b:push")


def test_quoted_values_may_hold_commas_and_escapes() -> None:
    [challenge] = parse_challenges(r'Basic realm="a, \"quoted\" realm"')
    assert challenge.realm == 'a, "quoted" realm'


def test_several_challenges_in_one_header_and_bearer_preferred() -> None:
    header = 'Basic realm="basic-realm", Bearer realm="http://t/token",service="svc"'
    assert [c.scheme for c in parse_challenges(header)] == ["basic", "bearer"]
    preferred = preferred_challenge(header)
    assert preferred is not None and preferred.realm == "http://t/token"
    basic_only = preferred_challenge('Basic realm="distribution-test"')
    assert basic_only is not None and basic_only.scheme == "basic"


def test_unusable_headers() -> None:
    assert parse_challenges("") == []
    assert preferred_challenge("Negotiate") is None
    assert preferred_challenge('Digest realm="x"') is None


def test_scope_names_may_hold_a_port_colon() -> None:
    scope = Scope.parse("repository:localhost:5000/shop/web:push,pull")
    assert scope == Scope("repository", "localhost:5000/shop/web", ("pull", "push"))
    assert str(scope) == "repository:localhost:5000/shop/web:pull,push"
    assert Scope.parse("repository-only") is None


def test_scope_coverage() -> None:
    assert push("a").covers(pull("a"))
    assert not pull("a").covers(push("a"))
    assert not push("a").covers(pull("b"))
    assert Scope("registry", "catalog", ("*",)).covers(Scope("registry", "catalog", ("*",)))
