"""Docker registry token auth against a real `conveyor serve`
(/work/shared/specs/registry-token-auth-and-notifications.md, §1-§5)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest

from tests.support.conveyor_server import ConveyorServer

SERVICE = "conveyor"
BOB = ("bob", "bob-Secret-1")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass
class Registry:
    server: ConveyorServer
    http: httpx.Client

    @property
    def admin(self) -> tuple[str, str]:
        return (self.server.admin_user, self.server.admin_password)

    def token_response(
        self, *scopes: str, auth: tuple[str, str] | None = None, **params: str
    ) -> httpx.Response:
        query = [("service", SERVICE), *(("scope", s) for s in scopes), *params.items()]
        return self.http.get("/auth/token", params=query, auth=auth)

    def token(self, *scopes: str, auth: tuple[str, str] | None = None) -> str:
        response = self.token_response(*scopes, auth=auth)
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def actions_in(token: str, name: str) -> list[str]:
    return [a for item in claims(token)["access"] if item["name"] == name for a in item["actions"]]


def challenge_params(header: str) -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    assert scheme == "Bearer", header
    params = {}
    for part in rest.split('",'):
        key, _, value = part.partition("=")
        params[key.strip()] = value.strip().strip('"')
    return params


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def push_blob(reg: Registry, repo: str, data: bytes, creds: dict[str, str]) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    started = reg.http.post(f"/v2/{repo}/blobs/uploads/", headers=creds)
    assert started.status_code == 202, started.text
    location = httpx.URL(started.headers["Location"])
    url = reg.http.base_url.join(location) if location.is_relative_url else location
    done = reg.http.put(
        url,
        params={"digest": digest},
        content=data,
        headers={**creds, "Content-Type": "application/octet-stream"},
    )
    assert done.status_code == 201, done.text
    return digest


def push_image(reg: Registry, repo: str, tag: str, creds: dict[str, str]) -> bytes:
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    layer = b"not really a tarball, but a blob all the same"
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": push_blob(reg, repo, config, creds),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": push_blob(reg, repo, layer, creds),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    response = reg.http.put(
        f"/v2/{repo}/manifests/{tag}",
        content=manifest,
        headers={**creds, "Content-Type": OCI_MANIFEST},
    )
    assert response.status_code == 201, response.text
    return manifest


@pytest.fixture(scope="module")
def reg(conveyor_server: ConveyorServer) -> Iterator[Registry]:
    conveyor_server.cli("user", "create", BOB[0], "--password-stdin", input=BOB[1] + "\n")
    for namespace in ("privns", "nsa", "nsb"):
        conveyor_server.cli("namespace", "create", namespace)
    conveyor_server.cli("namespace", "create", "pubns", "--public")
    with httpx.Client(base_url=conveyor_server.url, timeout=30) as http:
        yield Registry(conveyor_server, http)


@pytest.fixture(scope="module")
def public_manifest(reg: Registry) -> bytes:
    return push_image(reg, "pubns/app", "v1", basic(*reg.admin))


# ------------------------------------------------------------------ the challenge


def test_base_route_without_credentials_is_challenged_without_scope(reg: Registry) -> None:
    response = reg.http.get("/v2/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{reg.server.url}/auth/token",service="{SERVICE}"'
    )
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_repository_route_without_credentials_names_the_scope(reg: Registry) -> None:
    response = reg.http.get("/v2/privns/app/tags/list")
    assert response.status_code == 401
    params = challenge_params(response.headers["WWW-Authenticate"])
    assert params["scope"] == "repository:privns/app:pull"
    assert params["service"] == SERVICE


# ------------------------------------------------------------------ the token endpoint


def test_token_endpoint_returns_token_and_access_token(reg: Registry) -> None:
    response = reg.token_response("repository:privns/app:pull", auth=reg.admin)
    assert response.status_code == 200
    body = response.json()
    assert body["token"] == body["access_token"]
    assert body["expires_in"] >= 60
    issued = datetime.strptime(body["issued_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(issued.timestamp() - time.time()) < 60
    payload = claims(body["token"])
    assert payload["sub"] == "admin"
    assert payload["aud"] == SERVICE
    assert payload["exp"] - payload["iat"] == body["expires_in"]


def test_repeated_scope_parameters_are_all_granted(reg: Registry) -> None:
    token = reg.token("repository:nsa/app:pull", "repository:nsb/app:pull,push", auth=reg.admin)
    assert actions_in(token, "nsa/app") == ["pull"]
    assert actions_in(token, "nsb/app") == ["pull", "push"]


def test_scope_with_host_port_name_is_not_an_error(reg: Registry) -> None:
    response = reg.token_response("repository:127.0.0.1:5000/nsa/app:pull", auth=reg.admin)
    assert response.status_code == 200


def test_non_member_gets_a_token_without_actions_for_a_private_namespace(reg: Registry) -> None:
    token = reg.token("repository:privns/app:pull,push", auth=BOB)
    assert claims(token)["sub"] == "bob"
    assert actions_in(token, "privns/app") == []


def test_anonymous_token_has_empty_subject_and_only_public_pull(reg: Registry) -> None:
    token = reg.token("repository:pubns/app:pull,push,delete", "repository:privns/app:pull")
    assert claims(token)["sub"] == ""
    assert actions_in(token, "pubns/app") == ["pull"]
    assert actions_in(token, "privns/app") == []


def test_anonymous_catalog_scope_is_not_granted(reg: Registry) -> None:
    assert claims(reg.token("registry:catalog:*"))["access"] == []


def test_bad_credentials_at_the_token_endpoint_are_401(reg: Registry) -> None:
    response = reg.token_response("repository:pubns/app:pull", auth=("admin", "wrong-password"))
    assert response.status_code == 401


def test_unknown_user_at_the_token_endpoint_is_401(reg: Registry) -> None:
    response = reg.token_response("repository:pubns/app:pull", auth=("nobody", "whatever-1"))
    assert response.status_code == 401


# ------------------------------------------------------------------ bearer tokens on /v2


def test_valid_token_opens_the_base_route(reg: Registry) -> None:
    response = reg.http.get("/v2/", headers=reg.bearer(reg.token(auth=reg.admin)))
    assert response.status_code == 200


def test_pull_only_token_cannot_start_an_upload(reg: Registry) -> None:
    token = reg.token("repository:nsa/app:pull", auth=reg.admin)
    response = reg.http.post("/v2/nsa/app/blobs/uploads/", headers=reg.bearer(token))
    assert response.status_code == 401
    params = challenge_params(response.headers["WWW-Authenticate"])
    assert params["error"] == "insufficient_scope"
    assert params["scope"] == "repository:nsa/app:pull,push"
    assert params["realm"] == f"{reg.server.url}/auth/token"


def test_garbage_bearer_token_is_invalid_token(reg: Registry) -> None:
    response = reg.http.get("/v2/", headers=reg.bearer("not.a.token"))
    assert response.status_code == 401
    assert challenge_params(response.headers["WWW-Authenticate"])["error"] == "invalid_token"


def test_tampered_token_is_invalid_token(reg: Registry) -> None:
    header, _, signature = reg.token("repository:nsa/app:pull", auth=BOB).split(".")
    forged = reg.token("repository:nsa/app:pull,push", auth=reg.admin).split(".")[1]
    response = reg.http.post(
        "/v2/nsa/app/blobs/uploads/", headers=reg.bearer(f"{header}.{forged}.{signature}")
    )
    assert response.status_code == 401
    assert challenge_params(response.headers["WWW-Authenticate"])["error"] == "invalid_token"


def test_token_for_one_namespace_cannot_read_another(reg: Registry) -> None:
    token = reg.token("repository:nsa/app:pull", auth=reg.admin)
    response = reg.http.get("/v2/nsb/app/tags/list", headers=reg.bearer(token))
    assert response.status_code == 401
    params = challenge_params(response.headers["WWW-Authenticate"])
    assert params["error"] == "insufficient_scope"
    assert params["scope"] == "repository:nsb/app:pull"


# ------------------------------------------------------------------ Basic on /v2


def test_basic_auth_on_v2_works_for_admin(reg: Registry) -> None:
    assert reg.http.get("/v2/", auth=reg.admin).status_code == 200


def test_bad_basic_auth_on_v2_is_401(reg: Registry) -> None:
    response = reg.http.get("/v2/", auth=("admin", "wrong-password"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")


def test_signed_in_user_without_rights_gets_403_denied(reg: Registry) -> None:
    response = reg.http.post("/v2/privns/app/blobs/uploads/", auth=BOB)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "DENIED"


# ------------------------------------------------------------------ OAuth2 POST form


def test_oauth2_password_grant_returns_access_token_and_scope(reg: Registry) -> None:
    response = reg.http.post(
        "/auth/token",
        data={
            "grant_type": "password",
            "username": reg.admin[0],
            "password": reg.admin[1],
            "service": SERVICE,
            "client_id": "conveyor-tests",
            "scope": "repository:nsa/app:pull repository:nsb/app:pull,push",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert actions_in(body["access_token"], "nsb/app") == ["pull", "push"]
    assert body["scope"] == "repository:nsa/app:pull repository:nsb/app:pull,push"
    assert body["expires_in"] >= 60


def test_oauth2_password_grant_with_wrong_password_is_401(reg: Registry) -> None:
    response = reg.http.post(
        "/auth/token",
        data={
            "grant_type": "password",
            "username": "admin",
            "password": "nope-nope",
            "service": SERVICE,
        },
    )
    assert response.status_code == 401


def test_oauth2_unsupported_grant_type_is_400(reg: Registry) -> None:
    response = reg.http.post(
        "/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": "x",
            "service": SERVICE,
            "client_id": "t",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


# ------------------------------------------------------------------ public namespaces


def test_anonymous_pull_from_a_public_namespace_through_the_token_flow(
    reg: Registry, public_manifest: bytes
) -> None:
    token = reg.token("repository:pubns/app:pull")
    response = reg.http.get(
        "/v2/pubns/app/manifests/v1", headers={**reg.bearer(token), "Accept": OCI_MANIFEST}
    )
    assert response.status_code == 200
    assert response.content == public_manifest


def test_anonymous_push_to_a_public_namespace_is_refused(
    reg: Registry, public_manifest: bytes
) -> None:
    challenged = reg.http.post("/v2/pubns/app/blobs/uploads/")
    assert challenged.status_code == 401
    scope = challenge_params(challenged.headers["WWW-Authenticate"])["scope"]
    assert scope == "repository:pubns/app:pull,push"
    token = reg.token(scope)
    assert actions_in(token, "pubns/app") == ["pull"]
    response = reg.http.post("/v2/pubns/app/blobs/uploads/", headers=reg.bearer(token))
    assert response.status_code == 401
    assert challenge_params(response.headers["WWW-Authenticate"])["error"] == "insufficient_scope"


def test_anonymous_manifest_push_to_a_public_namespace_is_refused(
    reg: Registry, public_manifest: bytes
) -> None:
    token = reg.token("repository:pubns/app:pull,push")
    response = reg.http.put(
        "/v2/pubns/app/manifests/v2",
        content=public_manifest,
        headers={**reg.bearer(token), "Content-Type": OCI_MANIFEST},
    )
    assert response.status_code == 401
    assert reg.http.get("/v2/pubns/app/manifests/v2", auth=reg.admin).status_code == 404


# ------------------------------------------------------------------ namespaces made by pushing


def test_user_who_creates_a_namespace_through_the_token_flow_owns_it(reg: Registry) -> None:
    token = reg.token("repository:bobns/app:pull,push", auth=BOB)
    assert actions_in(token, "bobns/app") == ["pull", "push"]
    push_image(reg, "bobns/app", "v1", reg.bearer(token))
    again = reg.token("repository:bobns/app:pull,push", auth=BOB)
    assert actions_in(again, "bobns/app") == ["pull", "push"]
    assert reg.http.get("/v2/bobns/app/manifests/v1", auth=BOB).status_code == 200


def test_user_who_creates_a_namespace_with_basic_auth_owns_it(reg: Registry) -> None:
    push_image(reg, "bobns2/app", "v1", basic(*BOB))
    token = reg.token("repository:bobns2/app:pull,push", auth=BOB)
    assert actions_in(token, "bobns2/app") == ["pull", "push"]
