"""The authorization matrix (DESIGN §6, issue 7) against a running `conveyor serve`.

Registry cells go through real clients: skopeo for pulls and pushes (it follows the Bearer
challenge through /auth/token with the principal's credentials, or anonymously), and the token
flow by hand for tag deletion and the catalog. API cells are plain HTTP with Basic credentials
(robots sign in as `robot$<namespace>+<name>`).

The world: `pubm` is public, `privm` private with a guest, a developer and an owner; `outsider`
owns another namespace; the robots belong to `privm`. Every cell as designed:

|who       |pull pub|pull priv|push|del tag|catalog |chain r|chain w|record|secrets|
|----------|--------|---------|----|-------|--------|-------|-------|------|-------|
|anonymous |✓       |✗        |✗   |✗      |✗ 401   |✗ 401  |✗ 401  |✗ 401 |✗ 401  |
|guest     |✓       |✓        |✗   |✗      |✓       |✓      |✗ 403  |✓     |✗ 403  |
|developer |✓       |✓        |✓   |✓      |✓       |✓      |✗ 403  |✓     |✗ 403  |
|owner     |✓       |✓        |✓   |✓      |✓       |✓      |✓      |✓     |✗ 403  |
|robot-pull|✓       |✓        |✗   |✗      |✓       |✗ 403  |✗ 403  |✗ 403 |✗ 403  |
|robot-push|✓       |✓        |✓   |✗      |✓       |✗ 403  |✗ 403  |✗ 403 |✗ 403  |
|outsider  |✓       |✗        |✗   |✗      |✗ hidden|✗ 404  |✗ 403  |✗ 404 |✗ 403  |
|admin     |✓       |✓        |✓   |✓      |✓       |✓      |✓      |✓     |✓      |

Columns: pull public, pull private, push, delete tag, catalog, read chain (r), change chain
(w), read record, list secrets.

catalog: ✓ = `privm/app` is listed; "✗ hidden" = the catalog answers but leaves it out (it lists
only what the caller may pull). Robots hold pull (or pull+push) on their own namespace and what
anybody holds elsewhere (public pull) — never delete, never the REST API (403). A chain or record
the caller may not read is 404, as if it did not exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.chain_helpers import wait_records
from tests.e2e.identity_helpers import (
    Principal,
    bearer,
    create_robot,
    create_user,
    registry_token,
    skopeo,
    skopeo_creds,
)
from tests.support.conveyor_server import ConveyorServer
from tests.support.images import busybox_layout, oci_ref, storage_env
from tests.support.receiver import Receiver

ACCESS_COLUMNS = (
    "pull public",
    "pull private",
    "push",
    "delete tag",
    "catalog",
    "read chain",
    "change chain",
    "read record",
    "list secrets",
)
Y, N = "✓", "✗"
EXPECTED: dict[str, tuple[str, ...]] = {
    "anonymous": (Y, N, N, N, "✗ 401", "✗ 401", "✗ 401", "✗ 401", "✗ 401"),
    "guest": (Y, Y, N, N, Y, Y, "✗ 403", Y, "✗ 403"),
    "developer": (Y, Y, Y, Y, Y, Y, "✗ 403", Y, "✗ 403"),
    "owner": (Y, Y, Y, Y, Y, Y, Y, Y, "✗ 403"),
    "robot-pull": (Y, Y, N, N, Y, "✗ 403", "✗ 403", "✗ 403", "✗ 403"),
    "robot-push": (Y, Y, Y, N, Y, "✗ 403", "✗ 403", "✗ 403", "✗ 403"),
    "outsider": (Y, N, N, N, "✗ hidden", "✗ 404", "✗ 403", "✗ 404", "✗ 403"),
    "admin": (Y, Y, Y, Y, Y, Y, Y, Y, Y),
}
MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json"


@dataclass
class World:
    server: ConveyorServer
    admin: httpx.Client
    who: dict[str, Principal]
    chain: dict[str, object]
    record_id: int
    layout: Path
    env: dict[str, str]

    def ref(self, repository: str) -> str:
        return f"docker://{self.server.host}/{repository}"


@pytest.fixture(scope="module")
def world(
    conveyor_server: ConveyorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    server = conveyor_server
    receiver = Receiver()
    receiver.start()
    env = storage_env(tmp_path_factory.mktemp("containers"))
    layout = busybox_layout("amd64")
    admin = httpx.Client(base_url=server.url, auth=(server.admin_user, server.admin_password))
    who = {"anonymous": Principal("anonymous"), "admin": Principal("admin", *admin_auth(server))}
    for label, user in (("guest", "gina"), ("developer", "dev"), ("owner", "olga")):
        create_user(server, user, f"{user}-Secret-1")
        who[label] = Principal(label, user, f"{user}-Secret-1")
    create_user(server, "otto", "otto-Secret-1")
    who["outsider"] = Principal("outsider", "otto", "otto-Secret-1")
    admin.post("/api/v1/namespaces", json={"name": "pubm", "public": True})
    admin.post("/api/v1/namespaces", json={"name": "privm"})
    admin.post("/api/v1/namespaces", json={"name": "elsewhere"})
    for label, role in (("guest", "guest"), ("developer", "developer"), ("owner", "owner")):
        member = {"user": who[label].user, "role": role}
        assert admin.put("/api/v1/namespaces/privm/members", json=member).status_code == 200
    admin.put("/api/v1/namespaces/elsewhere/members", json={"user": "otto", "role": "owner"})
    for label, access in (("robot-pull", "pull"), ("robot-push", "push")):
        robot = create_robot(admin, "privm", access + "er", access)
        who[label] = Principal(label, robot["fullName"], robot["token"])
    chain: dict[str, object] = {
        "apiVersion": "conveyor/v1",
        "kind": "Chain",
        "metadata": {"name": "privm-chain", "description": "matrix"},
        "spec": {
            "scope": {"namespace": "privm", "repository": "app"},
            "distribute": [{"name": "hook", "url": receiver.url, "trigger": {"type": "all"}}],
        },
    }
    assert admin.post("/api/v1/chains", json=chain).status_code == 200
    for repository in ("pubm/app:v1", "privm/app:v1"):
        copied = skopeo(
            env,
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--dest-creds",
            ":".join(admin_auth(server)),
            oci_ref(layout),
            f"docker://{server.host}/{repository}",
        )
        assert copied.returncode == 0, copied.stderr
    record = wait_records(admin, "privm-chain", 1, timeout=20)[0]
    manifest = admin.get("/v2/privm/app/manifests/v1", headers={"Accept": MANIFEST_TYPES})
    for label in who:  # a tag for each principal to try to delete
        tagged = admin.put(
            f"/v2/privm/app/manifests/del-{label}",
            content=manifest.content,
            headers={"Content-Type": manifest.headers["content-type"]},
        )
        assert tagged.status_code == 201, tagged.text
    yield World(server, admin, who, chain, int(record["id"]), layout, env)
    admin.close()
    receiver.stop()


def admin_auth(server: ConveyorServer) -> tuple[str, str]:
    return (server.admin_user, server.admin_password)


# ------------------------------------------------------------------------------ the cells


def pull(world: World, who: Principal, repository: str) -> str:
    result = skopeo(
        world.env,
        "inspect",
        "--raw",
        "--tls-verify=false",
        *skopeo_creds("--creds", who),
        world.ref(repository),
    )
    return Y if result.returncode == 0 else N


def push(world: World, who: Principal) -> str:
    result = skopeo(
        world.env,
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        *skopeo_creds("--dest-creds", who),
        oci_ref(world.layout),
        world.ref(f"privm/app:push-{who.label}"),
    )
    return Y if result.returncode == 0 else N


def delete_tag(world: World, who: Principal, http: httpx.Client) -> str:
    """As a client does it: ask the token endpoint for delete, then DELETE with the token."""
    token = registry_token(http, who, "repository:privm/app:delete")
    assert token.status_code == 200, token.text
    reply = http.delete(
        f"/v2/privm/app/manifests/del-{who.label}", headers=bearer(token.json()["token"])
    )
    return Y if reply.status_code == 202 else N


def catalog(who: Principal, http: httpx.Client) -> str:
    token = registry_token(http, who, "registry:catalog:*").json()["token"]
    reply = http.get("/v2/_catalog", headers=bearer(token))
    if reply.status_code != 200:
        return f"✗ {reply.status_code}"
    return Y if "privm/app" in reply.json()["repositories"] else "✗ hidden"


def api(call: Callable[[], httpx.Response]) -> str:
    status = call().status_code
    return Y if status < 300 else f"✗ {status}"


def row(world: World, who: Principal) -> tuple[str, ...]:
    with httpx.Client(base_url=world.server.url, timeout=60) as http:
        auth = who.auth or httpx.USE_CLIENT_DEFAULT
        changed = json.loads(json.dumps(world.chain))
        changed["metadata"]["description"] = f"changed by {who.label}"
        return (
            pull(world, who, "pubm/app:v1"),
            pull(world, who, "privm/app:v1"),
            push(world, who),
            delete_tag(world, who, http),
            catalog(who, http),
            api(lambda: http.get("/api/v1/chains/privm-chain", auth=auth)),
            api(lambda: http.post("/api/v1/chains", json=changed, auth=auth)),
            api(lambda: http.get(f"/api/v1/records/{world.record_id}", auth=auth)),
            api(lambda: http.get("/api/v1/secrets", auth=auth)),
        )


@pytest.mark.parametrize("label", list(EXPECTED))
def test_every_cell_is_as_designed(world: World, label: str) -> None:
    actual = dict(zip(ACCESS_COLUMNS, row(world, world.who[label]), strict=True))
    assert actual == dict(zip(ACCESS_COLUMNS, EXPECTED[label], strict=True))


def test_a_robot_token_for_one_namespace_cannot_reach_another(world: World) -> None:
    robot = world.who["robot-push"]
    with httpx.Client(base_url=world.server.url, timeout=60) as http:
        token = registry_token(
            http, robot, "repository:elsewhere/app:pull,push", "repository:privm/app:pull"
        ).json()["token"]
        refused = http.post("/v2/elsewhere/app/blobs/uploads/", headers=bearer(token))
        assert refused.status_code == 401
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
        with_basic = http.post("/v2/elsewhere/app/blobs/uploads/", auth=robot.auth)
        assert with_basic.status_code == 403
        # A push to a namespace nobody has made yet does not create it for a robot.
        assert http.post("/v2/robotland/app/blobs/uploads/", auth=robot.auth).status_code == 403
    copied = skopeo(
        world.env,
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"{robot.user}:{robot.secret}",
        oci_ref(world.layout),
        world.ref("elsewhere/app:sneaky"),
    )
    assert copied.returncode != 0
    assert world.admin.get("/v2/elsewhere/app/tags/list").status_code == 404
