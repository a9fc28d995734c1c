"""schemathesis against /api/v1/openapi.json of a running server, signed in as an administrator
with a personal API token: no 5xx, and every response fits the document (bodies of 2xx as
declared; refusals in the one error shape).

Bounded: at most 30 generated cases per operation in the fuzzing phase, plus the coverage
phase's boundary cases (about 20 s in all). The examples phase finds no examples in the
document and says so; the stateful phase needs OpenAPI links, which the document lacks.

One operation runs in a second pass, with the administrator's password instead of the token:
DELETE /api/v1/tokens/{token_id}. In the first pass it would be handed the id of the very token
the run signs in with (schemathesis learns ids from responses) and revoke it, so that every
later request of the run would be a 401.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.e2e.chain_helpers import push_image
from tests.support.conveyor_server import ConveyorServer

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
SELF_REVOKING = "/api/v1/tokens/{token_id}"


def schemathesis(server: ConveyorServer, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{server.url}/api/v1/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "30",
            "--request-timeout",
            "20",
            "--seed",
            "20261126",
            # Repository names are `{name:path}` parameters (any string); schemathesis drops
            # the values it cannot put in a URL path itself and then finds "too many filtered".
            "--suppress-health-check",
            "filter_too_much",
            *args,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=150,
    )


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    conveyor_factory: Callable[..., ConveyorServer], tmp_path: Path
) -> None:
    server = conveyor_factory()
    admin = (server.admin_user, server.admin_password)
    with httpx.Client(base_url=server.url, auth=admin, timeout=30) as http:
        token = http.post("/api/v1/tokens", json={"name": "schemathesis"}).json()["token"]
        # Some data, so that operations get past "not found" to their logic.
        http.post("/api/v1/namespaces", json={"name": "st"})
        push_image(http, "st/app", "v1")
        http.put("/api/v1/secrets/st-secret", json={"value": "st-value-1"})

    main = schemathesis(
        server,
        tmp_path,
        "--header",
        f"Authorization: Bearer {token}",
        "--exclude-path",
        SELF_REVOKING,
    )
    assert main.returncode == 0, main.stdout[-6000:] + main.stderr[-2000:]
    assert "Tested: " in main.stdout and "passed" in main.stdout

    second = schemathesis(
        server, tmp_path, "--auth", ":".join(admin), "--include-path", SELF_REVOKING
    )
    assert second.returncode == 0, second.stdout[-6000:] + second.stderr[-2000:]
