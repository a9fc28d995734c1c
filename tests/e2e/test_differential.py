# ruff: noqa: E501 - the table in the docstring has long rows
"""Differential tests: the same request sequences against CNCF distribution 2.8 and Conveyor.

Each scenario runs once against `docker-registry` (no auth) and once against Conveyor (Basic,
admin), in repositories of the same names. Every step records the status, the headers that matter
(normalised: `Location` as a path shape with upload ids replaced, `Content-Type` without
parameters) and the error codes of a JSON error body (with its `Content-Type`); the two records
must be equal.

Where distribution 2.8 (Debian's 2.8.2) departs from the OCI distribution spec v1.1 (and its main
branch, see /work/shared/specs/oci-distribution-conformance.md), the behaviours are not compared.
Each such case is listed here, and its test asserts distribution's documented behaviour (so the
table stays true) and that Conveyor follows the spec:

| case | distribution 2.8 | Conveyor (spec) |
|---|---|---|
| referrers API `GET /v2/<name>/referrers/<digest>` | 404 `text/plain` "404 page not found" (no such route) | 200, `application/vnd.oci.image.index.v1+json`, an index of the referrers (empty for an unknown subject); `?artifactType=` filters and answers `OCI-Filters-Applied: artifactType`; malformed digest → 400 |
| manifest PUT with a `subject` | 201 without `OCI-Subject` | 201 with `OCI-Subject: <subject digest>`, also when the subject does not exist |
| blob GET with an unsatisfiable `Range` (`bytes=500-900` of 42 bytes, `bytes=30-2`) | broken reply: status 416 announced with the blob's `Content-Length`, then a shorter body and a closed connection | 416 |
| mount without `from` (`POST ?mount=<digest>` of a blob in another repository) | 202, a new upload session | 201, `Location: /v2/<name>/blobs/<digest>` (automatic content discovery, DESIGN §4.5) |
| tags list `n`, `last`, `Link` | both ignored: every tag, unsorted, no `Link` | sorted; at most `n`; `Link: <...?last=..&n=..>; rel="next"` when more remain; `last` starts strictly after; `n=0` → `[]` and no `Link` |
| tags list of a repository that has blobs but no tag / whose last tag was deleted | 404 `NAME_UNKNOWN` / 200 `{"tags": null}` | 200 with `"tags": []` or 404 `NAME_UNKNOWN`; never `null` |
| chunk out of order (`PATCH` with `Content-Range` not starting at the current size) | 202: `Content-Range` is ignored, the bytes are appended | 416, the session unchanged (status `GET` keeps `Range: 0-<last good byte>`), the upload can go on |
| a chunk sent again on the session URL it was first sent to (stale) | 404 `BLOB_UPLOAD_INVALID` (stale `_state`) | 416 (conformance A.3 step 13) |
| last chunk in the closing `PUT` out of order (main) | 400 `DIGEST_INVALID` (bytes appended) | 416 |
| single `POST ?digest=` with the body | 202, body ignored, nothing stored | 201, `Location: /v2/<name>/blobs/<digest>`, the blob readable (DESIGN §4.5: POST-only with digest) |
| single `POST ?digest=<malformed>` | 202, digest ignored | 400 `DIGEST_INVALID` |
| status of an unknown upload id | 404 `BLOB_UPLOAD_INVALID` | 404 `BLOB_UPLOAD_UNKNOWN` |
| manifest `DELETE` by tag | 400 `DIGEST_INVALID` | 202; the tag is gone and the manifest stays reachable by digest (A.5 allows 400 only with `UNSUPPORTED`) |
| manifest `GET` without `Accept`, or an `Accept` that does not list the stored type | OCI manifest or index: 404 `MANIFEST_UNKNOWN` ("accept header does not support OCI"); Docker v2: 400 `MANIFEST_INVALID` (schema 1 conversion) | 200 with the stored bytes and `Content-Type` = the stored media type |
| manifest path with a malformed digest (`sha256:totallywrong`, `sha256:baddigeststring`) | 500 `UNKNOWN` (looked up as a tag) | GET → 400 or 404 with an error code; PUT → 400 (C5) |
| invalid repository name (`Bad/Name`, `a/-b`) | 404 `text/plain` from the router, no error body | 400 or 404 with a JSON error body, code `NAME_INVALID` |
| OCI manifest with `schemaVersion: 1` | 500 `UNKNOWN` | 400 `MANIFEST_INVALID` |
| invalid tag in a manifest `PUT` (`.bad`, `-bad`, 129 characters) | 404 `text/plain` from the router, no error body | 400 with a JSON error body whose codes are spec codes (e.g. `TAG_INVALID`, `MANIFEST_INVALID`) |

Compared on the status only, since the spec leaves the code open: an upload URL used under another
repository (distribution: 404 `BLOB_UPLOAD_INVALID`), a blob or manifest of a repository that does
not exist (distribution: `BLOB_UNKNOWN` / `MANIFEST_UNKNOWN`; `NAME_UNKNOWN` is as right), and
`GET manifests/.INVALID_MANIFEST_NAME` (404 in the conformance suite, A.2 steps 5 and 9;
distribution answers from its router, without an error body).

Not compared at all, since the spec leaves them open: `Range` on the POST reply and on the status of
a session that has no byte yet (distribution: `0-0`), `Docker-Upload-UUID`, absolute vs relative
`Location` (both allowed; compared as paths), the text of error messages and `detail`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest

from tests.support.conveyor_server import ConveyorServer
from tests.support.distribution import DistributionRegistry

pytestmark = pytest.mark.timeout(120)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCTET = "application/octet-stream"
ALL_MANIFESTS = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob_bytes(label: str, size: int = 42) -> bytes:
    """Deterministic, distinct bytes per label."""
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return out[:size]


def with_query(url: str, **params: str) -> str:
    """Add query parameters, keeping the ones already in an upload URL."""
    return url + ("&" if "?" in url else "?") + urlencode(params)


# --------------------------------------------------------------------------- normalising replies

UPLOAD_PATH = re.compile(r"^(/v2/.+/blobs/uploads/)[^/?]+$")


def location_shape(value: str | None) -> str | None:
    if value is None:
        return None
    path = urlsplit(value).path
    match = UPLOAD_PATH.match(path)
    return f"{match.group(1)}<id>" if match else path


def link_shape(value: str | None) -> Any:
    if value is None:
        return None
    match = re.match(r"\s*<([^>]*)>\s*;\s*rel=\"?next\"?", value)
    if not match:
        return f"unparsed: {value}"
    parts = urlsplit(match.group(1))
    return (parts.path, sorted(parse_qs(parts.query).items()))


def media_type(value: str | None) -> str | None:
    return value.split(";", 1)[0].strip().lower() if value is not None else None


NORMALISE: dict[str, Callable[[str | None], Any]] = {
    "location": location_shape,
    "link": link_shape,
    "content-type": media_type,
}


def error_codes(response: httpx.Response) -> list[str] | None:
    if response.status_code < 400 or not response.content:
        return None
    try:
        body = response.json()
    except ValueError:
        return ["<not json>"]
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ["<no errors array>"]
    return [str(e.get("code")) for e in errors if isinstance(e, dict)]


# --------------------------------------------------------------------------- the two registries


@dataclass
class Registry:
    name: str
    url: str
    auth: tuple[str, str] | None
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, auth=self.auth, timeout=30)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """`url` is a path, or a `Location` from an earlier reply (absolute or relative)."""
        return self.client.request(method, urljoin(self.url + "/", url), **kwargs)

    def upload_blob(self, repository: str, data: bytes) -> str:
        """POST + PUT; fails the test if the registry does not take it (set-up, not compared)."""
        started = self.request("POST", f"/v2/{repository}/blobs/uploads/")
        assert started.status_code == 202, (self.name, started.status_code, started.text)
        done = self.request(
            "PUT",
            with_query(started.headers["Location"], digest=sha256(data)),
            content=data,
            headers={"Content-Type": OCTET},
        )
        assert done.status_code == 201, (self.name, done.status_code, done.text)
        return sha256(data)

    def put_manifest(self, repository: str, reference: str, body: bytes, kind: str) -> None:
        response = self.request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            content=body,
            headers={"Content-Type": kind},
        )
        assert response.status_code == 201, (self.name, response.status_code, response.text)


@dataclass
class Run:
    """The record of one scenario on one registry."""

    registry: Registry
    steps: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(
        self,
        label: str,
        method: str,
        url: str,
        *,
        compare: tuple[str, ...] = (),
        codes: bool = True,
        body: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        response = self.registry.request(method, url, **kwargs)
        self.record(label, response, compare=compare, codes=codes, body=body)
        return response

    def record(
        self,
        label: str,
        response: httpx.Response,
        *,
        compare: tuple[str, ...] = (),
        codes: bool = True,
        body: bool = False,
    ) -> None:
        seen: dict[str, Any] = {"status": response.status_code}
        for name in compare:
            value = response.headers.get(name)
            normalise = NORMALISE.get(name.lower())
            seen[name] = normalise(value) if normalise else value
        if codes:
            seen["codes"] = error_codes(response)
            if seen["codes"] is not None:
                seen["error Content-Type"] = media_type(response.headers.get("Content-Type"))
        if body:
            seen["body"] = sha256(response.content) if response.content else "<empty>"
        self.steps.append((label, seen))

    def note(self, label: str, value: Any) -> None:
        self.steps.append((label, {"value": value}))


def assert_same(distribution: Run, conveyor: Run) -> None:
    differences = []
    for index in range(max(len(distribution.steps), len(conveyor.steps))):
        left = distribution.steps[index] if index < len(distribution.steps) else ("<missing>", {})
        right = conveyor.steps[index] if index < len(conveyor.steps) else ("<missing>", {})
        if left != right:
            differences.append(
                f"step {index} {left[0]!r}:\n  distribution: {left[1]}\n  conveyor:     {right[1]}"
            )
    assert not differences, "Conveyor differs from distribution 2.8:\n" + "\n".join(differences)


Scenario = Callable[[Run, str], None]


@dataclass
class Both:
    distribution: Registry
    conveyor: Registry

    def compare(self, scenario: Scenario, repository: str) -> None:
        runs = []
        for registry in (self.distribution, self.conveyor):
            run = Run(registry)
            try:
                scenario(run, repository)
            except (KeyError, AssertionError, httpx.HTTPError) as error:
                if registry is self.distribution:
                    raise  # the scenario itself is wrong
                run.note("scenario stopped", repr(error))
            runs.append(run)
        assert_same(*runs)


@pytest.fixture(scope="module")
def both(
    distribution_registry: DistributionRegistry, conveyor_server: ConveyorServer
) -> Iterator[Both]:
    pair = Both(
        Registry("distribution", distribution_registry.url, None),
        Registry(
            "conveyor",
            conveyor_server.url,
            (conveyor_server.admin_user, conveyor_server.admin_password),
        ),
    )
    yield pair
    pair.distribution.client.close()
    pair.conveyor.client.close()


@pytest.fixture
def dist(both: Both) -> Registry:
    return both.distribution


@pytest.fixture
def conveyor(both: Both) -> Registry:
    return both.conveyor


# --------------------------------------------------------------------------- content


@dataclass
class Image:
    config: bytes
    layer: bytes
    manifest: bytes
    kind: str = OCI_MANIFEST

    @property
    def digest(self) -> str:
        return sha256(self.manifest)

    def push_blobs(self, registry: Registry, repository: str) -> None:
        registry.upload_blob(repository, self.config)
        registry.upload_blob(repository, self.layer)


def make_image(label: str, *, docker: bool = False, subject: bytes | None = None) -> Image:
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "author": label,
            "rootfs": {"type": "layers", "diff_ids": [sha256(label.encode())]},
        }
    ).encode()
    layer = blob_bytes(f"layer/{label}", 300)
    kind = DOCKER_MANIFEST if docker else OCI_MANIFEST
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": kind,
        "config": {
            "mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
            "digest": sha256(config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": DOCKER_LAYER if docker else OCI_LAYER,
                "digest": sha256(layer),
                "size": len(layer),
            }
        ],
    }
    if subject is not None:
        document["subject"] = {
            "mediaType": OCI_MANIFEST,
            "digest": sha256(subject),
            "size": len(subject),
        }
    return Image(config, layer, json.dumps(document, indent="\t").encode(), kind)


def make_index(children: list[Image], *, docker: bool = False) -> bytes:
    kind = DOCKER_LIST if docker else OCI_INDEX
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": kind,
            "manifests": [
                {
                    "mediaType": child.kind,
                    "digest": child.digest,
                    "size": len(child.manifest),
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
                for child in children
            ],
        }
    ).encode()


BLOB_HEADERS = ("Content-Length", "Docker-Content-Digest", "Content-Type")
MANIFEST_HEADERS = ("Content-Length", "Docker-Content-Digest", "Content-Type")
PUSHED_HEADERS = ("Location", "Docker-Content-Digest")


def check_blob(run: Run, repository: str, data: bytes, label: str) -> None:
    digest = sha256(data)
    run(
        f"{label}: HEAD blob",
        "HEAD",
        f"/v2/{repository}/blobs/{digest}",
        compare=BLOB_HEADERS,
        body=True,
    )
    run(
        f"{label}: GET blob",
        "GET",
        f"/v2/{repository}/blobs/{digest}",
        compare=BLOB_HEADERS,
        body=True,
    )


# =========================================================================== compared scenarios


def test_base_endpoint(both: Both) -> None:
    def scenario(run: Run, repository: str) -> None:
        run("GET /v2/", "GET", "/v2/", codes=False)

    both.compare(scenario, "diff/base")


def test_monolithic_push(both: Both) -> None:
    data = blob_bytes("monolithic")

    def scenario(run: Run, repository: str) -> None:
        started = run("POST", "POST", f"/v2/{repository}/blobs/uploads/", compare=("Location",))
        run(
            "PUT ?digest= with the body",
            "PUT",
            with_query(started.headers["Location"], digest=sha256(data)),
            content=data,
            headers={"Content-Type": OCTET},
            compare=PUSHED_HEADERS,
        )
        check_blob(run, repository, data, "pushed")

    both.compare(scenario, "diff/monolithic")


def test_chunked_push(both: Both) -> None:
    data = blob_bytes("chunked")

    def scenario(run: Run, repository: str) -> None:
        started = run(
            "POST",
            "POST",
            f"/v2/{repository}/blobs/uploads/",
            headers={"Content-Length": "0"},
            compare=("Location",),
        )
        first = run(
            "PATCH 0-21",
            "PATCH",
            started.headers["Location"],
            content=data[:22],
            headers={"Content-Type": OCTET, "Content-Range": "0-21"},
            compare=("Location", "Range"),
        )
        status = run(
            "GET upload status",
            "GET",
            first.headers["Location"],
            compare=("Location", "Range"),
        )
        second = run(
            "PATCH 22-41",
            "PATCH",
            status.headers["Location"],
            content=data[22:],
            headers={"Content-Type": OCTET, "Content-Range": "22-41"},
            compare=("Location", "Range"),
        )
        run(
            "GET upload status after both chunks",
            "GET",
            second.headers["Location"],
            compare=("Location", "Range"),
        )
        run(
            "PUT ?digest= without body",
            "PUT",
            with_query(second.headers["Location"], digest=sha256(data)),
            headers={"Content-Length": "0"},
            compare=PUSHED_HEADERS,
        )
        check_blob(run, repository, data, "pushed")

    both.compare(scenario, "diff/chunked")


def test_chunked_push_with_the_last_chunk_in_the_put(both: Both) -> None:
    data = blob_bytes("last-chunk-in-put", 100)

    def scenario(run: Run, repository: str) -> None:
        started = run("POST", "POST", f"/v2/{repository}/blobs/uploads/", compare=("Location",))
        first = run(
            "PATCH 0-49",
            "PATCH",
            started.headers["Location"],
            content=data[:50],
            headers={"Content-Type": OCTET, "Content-Range": "0-49"},
            compare=("Location", "Range"),
        )
        run(
            "PUT 50-99 ?digest=",
            "PUT",
            with_query(first.headers["Location"], digest=sha256(data)),
            content=data[50:],
            headers={"Content-Type": OCTET, "Content-Range": "50-99"},
            compare=PUSHED_HEADERS,
        )
        check_blob(run, repository, data, "pushed")

    both.compare(scenario, "diff/last-chunk")


def test_streamed_patch(both: Both) -> None:
    data = blob_bytes("streamed", 1000)

    def scenario(run: Run, repository: str) -> None:
        started = run("POST", "POST", f"/v2/{repository}/blobs/uploads/", compare=("Location",))
        streamed = run(
            "PATCH without Content-Range",
            "PATCH",
            started.headers["Location"],
            content=data,
            headers={"Content-Type": OCTET},
            compare=("Location", "Range"),
        )
        more = blob_bytes("streamed-more", 24)
        streamed = run(
            "second PATCH without Content-Range",
            "PATCH",
            streamed.headers["Location"],
            content=more,
            headers={"Content-Type": OCTET},
            compare=("Location", "Range"),
        )
        run(
            "PUT ?digest= without body",
            "PUT",
            with_query(streamed.headers["Location"], digest=sha256(data + more)),
            compare=PUSHED_HEADERS,
        )
        check_blob(run, repository, data + more, "pushed")

    both.compare(scenario, "diff/streamed")


def test_status_of_a_fresh_upload_session(both: Both) -> None:
    def scenario(run: Run, repository: str) -> None:
        started = run("POST", "POST", f"/v2/{repository}/blobs/uploads/", compare=("Location",))
        # `Range` before the first byte is left open by the spec (distribution says 0-0).
        run("GET upload status", "GET", started.headers["Location"], compare=("Location",))

    both.compare(scenario, "diff/fresh-session")


def test_upload_cancel(both: Both) -> None:
    def scenario(run: Run, repository: str) -> None:
        started = run("POST", "POST", f"/v2/{repository}/blobs/uploads/", compare=("Location",))
        patched = run(
            "PATCH",
            "PATCH",
            started.headers["Location"],
            content=b"abc",
            headers={"Content-Type": OCTET},
            compare=("Location", "Range"),
        )
        location = patched.headers["Location"]
        run("DELETE the session", "DELETE", location, headers={"Content-Length": "0"})
        run("GET status of the cancelled session", "GET", location)
        run("PATCH the cancelled session", "PATCH", location, content=b"d")
        run("DELETE it again", "DELETE", location, headers={"Content-Length": "0"})

    both.compare(scenario, "diff/cancel")


def test_cross_repository_mount_with_from(both: Both) -> None:
    data = blob_bytes("mounted")
    unknown = sha256(b"never pushed anywhere")

    def scenario(run: Run, repository: str) -> None:
        run.registry.upload_blob(f"{repository}-source", data)
        run(
            "mount with from",
            "POST",
            f"/v2/{repository}/blobs/uploads/?mount={sha256(data)}&from={repository}-source",
            compare=PUSHED_HEADERS,
        )
        check_blob(run, repository, data, "mounted")
        run(
            "mount of an unknown blob with from",
            "POST",
            f"/v2/{repository}-other/blobs/uploads/?mount={unknown}&from={repository}-source",
            compare=("Location",),
        )

    both.compare(scenario, "diff/mount")


def test_tags_list(both: Both) -> None:
    """The full list; `n`, `last` and `Link` are departures of distribution 2.8 (see the table)."""
    image = make_image("tags")
    tags = ["v2", "a", "latest", "v1.0", "B", "v10", "v1_0"]

    def scenario(run: Run, repository: str) -> None:
        image.push_blobs(run.registry, repository)
        for tag in tags:
            run.registry.put_manifest(repository, tag, image.manifest, image.kind)
        listed = run(
            "GET tags/list", "GET", f"/v2/{repository}/tags/list", compare=("Content-Type",)
        )
        document = listed.json()
        run.note("name", document.get("name"))
        run.note("tags as a set", sorted(document.get("tags") or []))

    both.compare(scenario, "diff/tags")


def test_manifest_push_by_tag_and_digest_then_get_and_head(both: Both) -> None:
    image = make_image("manifests")
    other = make_image("manifests-by-digest")

    def scenario(run: Run, repository: str) -> None:
        image.push_blobs(run.registry, repository)
        other.push_blobs(run.registry, repository)
        run(
            "PUT by tag",
            "PUT",
            f"/v2/{repository}/manifests/v1",
            content=image.manifest,
            headers={"Content-Type": image.kind},
            compare=PUSHED_HEADERS,
        )
        run(
            "PUT by digest",
            "PUT",
            f"/v2/{repository}/manifests/{other.digest}",
            content=other.manifest,
            headers={"Content-Type": other.kind},
            compare=PUSHED_HEADERS,
        )
        run(
            "PUT the same bytes under a second tag",
            "PUT",
            f"/v2/{repository}/manifests/v1-again",
            content=image.manifest,
            headers={"Content-Type": image.kind},
            compare=PUSHED_HEADERS,
        )
        for reference in ("v1", image.digest, other.digest):
            for method in ("GET", "HEAD"):
                run(
                    f"{method} {reference} with Accept",
                    method,
                    f"/v2/{repository}/manifests/{reference}",
                    headers={"Accept": OCI_MANIFEST},
                    compare=MANIFEST_HEADERS,
                    body=True,
                )
        run(
            "GET with an Accept listing every type",
            "GET",
            f"/v2/{repository}/manifests/v1",
            headers={"Accept": ALL_MANIFESTS},
            compare=MANIFEST_HEADERS,
            body=True,
        )
        run(
            "PUT another manifest under the tag v1 (the tag moves)",
            "PUT",
            f"/v2/{repository}/manifests/v1",
            content=other.manifest,
            headers={"Content-Type": other.kind},
            compare=PUSHED_HEADERS,
        )
        run(
            "HEAD v1 after the move",
            "HEAD",
            f"/v2/{repository}/manifests/v1",
            headers={"Accept": OCI_MANIFEST},
            compare=MANIFEST_HEADERS,
        )
        run(
            "GET the first manifest by digest, still there",
            "GET",
            f"/v2/{repository}/manifests/{image.digest}",
            headers={"Accept": OCI_MANIFEST},
            compare=MANIFEST_HEADERS,
            body=True,
        )
        run(
            "GET with a weighted Accept",
            "GET",
            f"/v2/{repository}/manifests/v1",
            headers={"Accept": f"{DOCKER_MANIFEST};q=0.5, {OCI_MANIFEST};q=0.9"},
            compare=MANIFEST_HEADERS,
            body=True,
        )

    both.compare(scenario, "diff/manifests")


def test_docker_schema2_manifest_and_manifest_list(both: Both) -> None:
    image = make_image("docker", docker=True)
    listing = make_index([image], docker=True)

    def scenario(run: Run, repository: str) -> None:
        image.push_blobs(run.registry, repository)
        run(
            "PUT Docker v2 manifest",
            "PUT",
            f"/v2/{repository}/manifests/docker",
            content=image.manifest,
            headers={"Content-Type": DOCKER_MANIFEST},
            compare=PUSHED_HEADERS,
        )
        run(
            "PUT manifest list",
            "PUT",
            f"/v2/{repository}/manifests/list",
            content=listing,
            headers={"Content-Type": DOCKER_LIST},
            compare=PUSHED_HEADERS,
        )
        for reference, accept in (
            ("docker", DOCKER_MANIFEST),
            ("list", DOCKER_LIST),
            ("list", ALL_MANIFESTS),
            (sha256(listing), DOCKER_LIST),
        ):
            for method in ("GET", "HEAD"):
                run(
                    f"{method} {reference} Accept {accept}",
                    method,
                    f"/v2/{repository}/manifests/{reference}",
                    headers={"Accept": accept},
                    compare=MANIFEST_HEADERS,
                    body=True,
                )

    both.compare(scenario, "diff/docker")


def test_oci_index(both: Both) -> None:
    children = [make_image("index-a"), make_image("index-b")]
    index = make_index(children)

    def scenario(run: Run, repository: str) -> None:
        for child in children:
            child.push_blobs(run.registry, repository)
            run(
                "PUT child by digest",
                "PUT",
                f"/v2/{repository}/manifests/{child.digest}",
                content=child.manifest,
                headers={"Content-Type": OCI_MANIFEST},
                compare=PUSHED_HEADERS,
            )
        run(
            "PUT index",
            "PUT",
            f"/v2/{repository}/manifests/multi",
            content=index,
            headers={"Content-Type": OCI_INDEX},
            compare=PUSHED_HEADERS,
        )
        for method in ("GET", "HEAD"):
            run(
                f"{method} index",
                method,
                f"/v2/{repository}/manifests/multi",
                headers={"Accept": OCI_INDEX},
                compare=MANIFEST_HEADERS,
                body=True,
            )

    both.compare(scenario, "diff/index")


def test_manifest_delete_by_digest_removes_its_tags(both: Both) -> None:
    image = make_image("delete-manifest")
    keep = make_image("delete-manifest-keep")

    def scenario(run: Run, repository: str) -> None:
        for each in (image, keep):
            each.push_blobs(run.registry, repository)
        for tag in ("one", "two"):
            run.registry.put_manifest(repository, tag, image.manifest, OCI_MANIFEST)
        run.registry.put_manifest(repository, "kept", keep.manifest, OCI_MANIFEST)
        run("DELETE by digest", "DELETE", f"/v2/{repository}/manifests/{image.digest}")
        for reference in ("one", "two", image.digest):
            run(
                f"GET {reference} after delete",
                "GET",
                f"/v2/{repository}/manifests/{reference}",
                headers={"Accept": OCI_MANIFEST},
            )
            run(
                f"HEAD {reference} after delete",
                "HEAD",
                f"/v2/{repository}/manifests/{reference}",
                headers={"Accept": OCI_MANIFEST},
            )
        run("DELETE it again", "DELETE", f"/v2/{repository}/manifests/{image.digest}")
        run(
            "GET the other tag",
            "GET",
            f"/v2/{repository}/manifests/kept",
            headers={"Accept": OCI_MANIFEST},
            compare=MANIFEST_HEADERS,
            body=True,
        )
        listed = run("GET tags/list", "GET", f"/v2/{repository}/tags/list")
        run.note("tags", sorted(listed.json().get("tags") or []))
        run(
            "DELETE an unknown manifest",
            "DELETE",
            f"/v2/{repository}/manifests/{sha256(b'nothing')}",
        )

    both.compare(scenario, "diff/delete-manifest")


def test_blob_delete(both: Both) -> None:
    data = blob_bytes("delete-blob")

    def scenario(run: Run, repository: str) -> None:
        digest = run.registry.upload_blob(repository, data)
        run("DELETE blob", "DELETE", f"/v2/{repository}/blobs/{digest}")
        run("HEAD after delete", "HEAD", f"/v2/{repository}/blobs/{digest}")
        run("GET after delete", "GET", f"/v2/{repository}/blobs/{digest}")
        run("DELETE again", "DELETE", f"/v2/{repository}/blobs/{digest}")
        run("DELETE an unknown blob", "DELETE", f"/v2/{repository}/blobs/{sha256(b'none')}")

    both.compare(scenario, "diff/delete-blob")


def test_blob_range_reads(both: Both) -> None:
    data = blob_bytes("ranges", 1024)
    ranges = ("bytes=5-9", "bytes=1000-", "bytes=-10", "bytes=1000-5000", "bytes=0-1023")

    def scenario(run: Run, repository: str) -> None:
        digest = run.registry.upload_blob(repository, data)
        for value in ranges:
            run(
                f"GET Range {value}",
                "GET",
                f"/v2/{repository}/blobs/{digest}",
                headers={"Range": value},
                compare=("Content-Length", "Content-Range", "Docker-Content-Digest"),
                body=True,
            )

    both.compare(scenario, "diff/ranges")


def test_bad_digests(both: Both) -> None:
    data = blob_bytes("bad-digests")
    image = make_image("bad-digests")

    def scenario(run: Run, repository: str) -> None:
        run.registry.upload_blob(repository, data)
        image.push_blobs(run.registry, repository)
        for bad in ("sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e"):
            run(f"GET blob {bad}", "GET", f"/v2/{repository}/blobs/{bad}")
            run(f"DELETE blob {bad}", "DELETE", f"/v2/{repository}/blobs/{bad}")
        for query in ({"digest": "sha256:zzz"}, {}):
            started = run.registry.request("POST", f"/v2/{repository}/blobs/uploads/")
            location = started.headers["Location"]
            run(
                f"PUT upload with {query or 'no digest'}",
                "PUT",
                with_query(location, **query) if query else location,
                content=data,
                headers={"Content-Type": OCTET},
            )
        run(
            "PUT manifest under the digest of other bytes",
            "PUT",
            f"/v2/{repository}/manifests/{sha256(b'other bytes')}",
            content=image.manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        run(
            "GET the manifest under that digest",
            "GET",
            f"/v2/{repository}/manifests/{sha256(b'other bytes')}",
            headers={"Accept": OCI_MANIFEST},
        )

    both.compare(scenario, "diff/bad-digests")


def test_unknown_blobs_manifests_and_uploads(both: Both) -> None:
    image = make_image("unknown")
    data = blob_bytes("unknown")

    def scenario(run: Run, repository: str) -> None:
        image.push_blobs(run.registry, repository)
        run.registry.put_manifest(repository, "present", image.manifest, OCI_MANIFEST)
        unknown = sha256(b"unknown content")
        run("HEAD unknown blob", "HEAD", f"/v2/{repository}/blobs/{unknown}", body=True)
        run("GET unknown blob", "GET", f"/v2/{repository}/blobs/{unknown}")
        run(
            "GET unknown tag",
            "GET",
            f"/v2/{repository}/manifests/absent",
            headers={"Accept": OCI_MANIFEST},
        )
        run(
            "HEAD unknown tag",
            "HEAD",
            f"/v2/{repository}/manifests/absent",
            headers={"Accept": OCI_MANIFEST},
            body=True,
        )
        run(
            "GET unknown digest",
            "GET",
            f"/v2/{repository}/manifests/{unknown}",
            headers={"Accept": OCI_MANIFEST},
        )
        run(
            "HEAD unknown digest",
            "HEAD",
            f"/v2/{repository}/manifests/{unknown}",
            headers={"Accept": OCI_MANIFEST},
            body=True,
        )
        # An invalid reference: both 404; distribution's body is its router's text (see table).
        for method in ("HEAD", "GET"):
            run(
                f"{method} .INVALID_MANIFEST_NAME",
                method,
                f"/v2/{repository}/manifests/.INVALID_MANIFEST_NAME",
                headers={"Accept": OCI_MANIFEST},
                codes=False,
            )
        # A blob pushed to another repository is not visible here.
        run.registry.upload_blob(f"{repository}-elsewhere", data)
        run("GET a blob of another repository", "GET", f"/v2/{repository}/blobs/{sha256(data)}")
        # Nor is a manifest, by digest or by tag.
        image.push_blobs(run.registry, f"{repository}-elsewhere")
        run.registry.put_manifest(f"{repository}-elsewhere", "there", image.manifest, OCI_MANIFEST)
        run(
            "GET by tag a manifest of another repository",
            "GET",
            f"/v2/{repository}/manifests/there",
            headers={"Accept": OCI_MANIFEST},
        )
        # An upload session belongs to its repository (codes differ: see the table).
        started = run.registry.request("POST", f"/v2/{repository}-elsewhere/blobs/uploads/")
        foreign = started.headers["Location"].replace(
            f"/{repository}-elsewhere/", f"/{repository}/"
        )
        run("PATCH a session of another repository", "PATCH", foreign, content=b"abc", codes=False)
        run(
            "PUT a session of another repository",
            "PUT",
            with_query(foreign, digest=sha256(b"abc")),
            content=b"abc",
            codes=False,
        )
        run("HEAD that blob", "HEAD", f"/v2/{repository}/blobs/{sha256(b'abc')}")
        # Repositories that do not exist: 404 (the code may be BLOB_UNKNOWN or NAME_UNKNOWN).
        run(
            "GET blob of an unknown repository",
            "GET",
            f"/v2/diff/nothing-here/blobs/{unknown}",
            codes=False,
        )
        run(
            "GET manifest of an unknown repository",
            "GET",
            "/v2/diff/nothing-here/manifests/latest",
            headers={"Accept": OCI_MANIFEST},
            codes=False,
        )
        run("GET tags of an unknown repository", "GET", "/v2/diff/nothing-here/tags/list")

    both.compare(scenario, "diff/unknown")


def test_digest_mismatch(both: Both) -> None:
    data = blob_bytes("mismatch")
    claimed = sha256(b"something else")

    def scenario(run: Run, repository: str) -> None:
        started = run.registry.request("POST", f"/v2/{repository}/blobs/uploads/")
        run(
            "monolithic PUT with the wrong digest",
            "PUT",
            with_query(started.headers["Location"], digest=claimed),
            content=data,
            headers={"Content-Type": OCTET},
        )
        started = run.registry.request("POST", f"/v2/{repository}/blobs/uploads/")
        patched = run(
            "PATCH",
            "PATCH",
            started.headers["Location"],
            content=data,
            headers={"Content-Type": OCTET, "Content-Range": f"0-{len(data) - 1}"},
            compare=("Range",),
        )
        run(
            "closing PUT with the wrong digest",
            "PUT",
            with_query(patched.headers["Location"], digest=claimed),
        )
        for digest in (claimed, sha256(data)):
            run(f"HEAD {digest}", "HEAD", f"/v2/{repository}/blobs/{digest}")

    both.compare(scenario, "diff/mismatch")


def test_manifest_referencing_missing_content(both: Both) -> None:
    present = make_image("missing-present")
    missing_layer = make_image("missing-layer")
    missing_config = make_image("missing-config")
    missing_child = make_image("missing-child")

    def scenario(run: Run, repository: str) -> None:
        present.push_blobs(run.registry, repository)
        run.registry.upload_blob(repository, missing_layer.config)  # the layer is not pushed
        run.registry.upload_blob(repository, missing_config.layer)  # the config is not pushed
        run(
            "PUT manifest whose layer is missing",
            "PUT",
            f"/v2/{repository}/manifests/no-layer",
            content=missing_layer.manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        run(
            "PUT manifest whose config is missing",
            "PUT",
            f"/v2/{repository}/manifests/no-config",
            content=missing_config.manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
        run.registry.put_manifest(repository, present.digest, present.manifest, OCI_MANIFEST)
        run(
            "PUT index whose child is missing",
            "PUT",
            f"/v2/{repository}/manifests/no-child",
            content=make_index([present, missing_child]),
            headers={"Content-Type": OCI_INDEX},
        )
        for tag in ("no-layer", "no-config", "no-child"):
            run(
                f"GET {tag}",
                "GET",
                f"/v2/{repository}/manifests/{tag}",
                headers={"Accept": ALL_MANIFESTS},
            )

    both.compare(scenario, "diff/missing")


def test_invalid_manifests(both: Both) -> None:
    def scenario(run: Run, repository: str) -> None:
        for label, body in (
            ("not JSON", b"blablabla"),
            ("empty body", b""),
            ("a JSON array", b"[]"),
            ("an OCI index sent as an OCI manifest", make_index([make_image("invalid")])),
        ):
            run(
                f"PUT {label}",
                "PUT",
                f"/v2/{repository}/manifests/bad",
                content=body,
                headers={"Content-Type": OCI_MANIFEST},
            )
        run(
            "GET the tag",
            "GET",
            f"/v2/{repository}/manifests/bad",
            headers={"Accept": OCI_MANIFEST},
        )

    both.compare(scenario, "diff/invalid-manifests")


def test_manifest_with_a_subject_is_accepted(both: Both) -> None:
    """Status, digest and location are compared; `OCI-Subject` is a departure (see the table)."""
    subject = make_image("subject")
    referrer = make_image("referrer", subject=subject.manifest)

    def scenario(run: Run, repository: str) -> None:
        referrer.push_blobs(run.registry, repository)
        run(
            "PUT a referrer before its subject exists",
            "PUT",
            f"/v2/{repository}/manifests/{referrer.digest}",
            content=referrer.manifest,
            headers={"Content-Type": OCI_MANIFEST},
            compare=PUSHED_HEADERS,
        )
        run(
            "GET it",
            "GET",
            f"/v2/{repository}/manifests/{referrer.digest}",
            headers={"Accept": OCI_MANIFEST},
            compare=MANIFEST_HEADERS,
            body=True,
        )

    both.compare(scenario, "diff/subject")


def test_catalog_pagination_shape(both: Both) -> None:
    """The repositories differ between the two servers; the paging mechanics must not."""

    def scenario(run: Run, repository: str) -> None:
        for name in (f"{repository}-a", f"{repository}-b"):
            run.registry.upload_blob(name, blob_bytes(name))
            image = make_image(name)
            image.push_blobs(run.registry, name)
            run.registry.put_manifest(name, "latest", image.manifest, OCI_MANIFEST)
        first = run("GET _catalog?n=1", "GET", "/v2/_catalog?n=1", compare=("Content-Type",))
        names = first.json()["repositories"]
        run.note("one repository on the page", len(names))
        link = link_shape(first.headers.get("Link"))
        run.note("Link path and parameters", link and (link[0], [k for k, _ in link[1]]))
        run.note(
            "Link last= is the page's last repository", link and dict(link[1])["last"] == names
        )
        following = run("GET the next page", "GET", f"/v2/_catalog?n=1&last={names[0]}")
        run.note("the next page starts after", following.json()["repositories"][0] > names[0])

    both.compare(scenario, "diff/catalog")


# =========================================================================== departures (table)


def test_referrers_api(dist: Registry, conveyor: Registry) -> None:
    subject = make_image("referrers-subject")
    signature = make_image("referrers-signature", subject=subject.manifest)
    repository = "diff/referrers"

    absent = dist.request("GET", f"/v2/{repository}/referrers/{subject.digest}")
    assert absent.status_code == 404
    assert media_type(absent.headers.get("Content-Type")) == "text/plain"

    subject.push_blobs(conveyor, repository)
    conveyor.put_manifest(repository, "subject", subject.manifest, OCI_MANIFEST)
    signature.push_blobs(conveyor, repository)
    conveyor.put_manifest(repository, signature.digest, signature.manifest, OCI_MANIFEST)

    listed = conveyor.request("GET", f"/v2/{repository}/referrers/{subject.digest}")
    assert listed.status_code == 200, listed.text
    assert media_type(listed.headers.get("Content-Type")) == OCI_INDEX
    index = listed.json()
    assert index["schemaVersion"] == 2
    assert index.get("mediaType") == OCI_INDEX
    assert [m["digest"] for m in index["manifests"]] == [signature.digest]
    descriptor = index["manifests"][0]
    assert descriptor["size"] == len(signature.manifest)
    assert descriptor["mediaType"] == OCI_MANIFEST
    assert descriptor["artifactType"] == OCI_CONFIG  # no artifactType: the config's media type

    filtered = conveyor.request(
        "GET", f"/v2/{repository}/referrers/{subject.digest}?artifactType=application/x-other"
    )
    assert filtered.status_code == 200
    assert filtered.json()["manifests"] == []
    assert "artifactType" in filtered.headers.get("OCI-Filters-Applied", "")

    unknown = conveyor.request("GET", f"/v2/{repository}/referrers/{sha256(b'no such subject')}")
    assert unknown.status_code == 200
    assert unknown.json()["manifests"] == []
    malformed = conveyor.request("GET", f"/v2/{repository}/referrers/sha256:abc")
    assert malformed.status_code == 400


def test_oci_subject_header(dist: Registry, conveyor: Registry) -> None:
    subject = make_image("oci-subject-subject")
    referrer = make_image("oci-subject-referrer", subject=subject.manifest)
    repository = "diff/oci-subject"
    responses = {}
    for registry in (dist, conveyor):
        referrer.push_blobs(registry, repository)
        responses[registry.name] = registry.request(
            "PUT",
            f"/v2/{repository}/manifests/{referrer.digest}",
            content=referrer.manifest,
            headers={"Content-Type": OCI_MANIFEST},
        )
    assert responses["distribution"].status_code == 201
    assert "OCI-Subject" not in responses["distribution"].headers
    assert responses["conveyor"].status_code == 201
    assert responses["conveyor"].headers.get("OCI-Subject") == subject.digest


def test_unsatisfiable_range(dist: Registry, conveyor: Registry) -> None:
    data = blob_bytes("unsatisfiable")
    repository = "diff/unsatisfiable"
    for registry in (dist, conveyor):
        registry.upload_blob(repository, data)
    for value in ("bytes=500-900", "bytes=30-2"):
        with pytest.raises(httpx.RemoteProtocolError):
            dist.request("GET", f"/v2/{repository}/blobs/{sha256(data)}", headers={"Range": value})
        response = conveyor.request(
            "GET", f"/v2/{repository}/blobs/{sha256(data)}", headers={"Range": value}
        )
        assert response.status_code == 416, (value, response.status_code)


def test_mount_without_from(dist: Registry, conveyor: Registry) -> None:
    data = blob_bytes("mount-without-from")
    digest = sha256(data)
    for registry in (dist, conveyor):
        registry.upload_blob("diff/automount-source", data)
    assert (
        dist.request("POST", f"/v2/diff/automount/blobs/uploads/?mount={digest}").status_code == 202
    )

    mounted = conveyor.request("POST", f"/v2/diff/automount/blobs/uploads/?mount={digest}")
    assert mounted.status_code == 201, mounted.status_code
    assert location_shape(mounted.headers.get("Location")) == f"/v2/diff/automount/blobs/{digest}"
    fetched = conveyor.request("GET", f"/v2/diff/automount/blobs/{digest}")
    assert fetched.status_code == 200
    assert fetched.content == data


def test_tags_list_pagination(dist: Registry, conveyor: Registry) -> None:
    image = make_image("pagination")
    repository = "diff/pagination"
    tags = ["e", "c", "a", "d", "b", "B", "a1"]
    for registry in (dist, conveyor):
        image.push_blobs(registry, repository)
        for tag in tags:
            registry.put_manifest(repository, tag, image.manifest, OCI_MANIFEST)

    every = sorted(tags)
    ignored = dist.request("GET", f"/v2/{repository}/tags/list?n=2&last=b")
    assert ignored.status_code == 200
    assert sorted(ignored.json()["tags"]) == every and "Link" not in ignored.headers

    def page(query: str) -> httpx.Response:
        response = conveyor.request("GET", f"/v2/{repository}/tags/list{query}")
        assert response.status_code == 200, (query, response.status_code, response.text)
        assert response.json()["name"] == repository
        return response

    assert page("").json()["tags"] == every
    first = page("?n=2")
    assert first.json()["tags"] == every[:2]
    assert link_shape(first.headers.get("Link")) == (
        f"/v2/{repository}/tags/list",
        [("last", [every[1]]), ("n", ["2"])],
    )
    # Follow the Link to the end.
    seen = list(first.json()["tags"])
    link = first.headers.get("Link")
    for _ in range(len(tags)):
        if not link:
            break
        target = re.match(r"\s*<([^>]*)>", link)
        assert target
        response = conveyor.request("GET", target.group(1))
        assert response.status_code == 200
        seen += response.json()["tags"]
        link = response.headers.get("Link")
    assert seen == every

    after = page(f"?last={every[2]}")
    assert after.json()["tags"] == every[3:]
    assert page(f"?n=2&last={every[2]}").json()["tags"] == every[3:5]
    assert page(f"?n={len(tags)}").json()["tags"] == every
    assert "Link" not in page(f"?n={len(tags)}").headers
    nothing = page("?n=0")
    assert nothing.json()["tags"] == []
    assert "Link" not in nothing.headers
    assert page(f"?last={every[-1]}").json()["tags"] == []


def test_tags_list_of_a_repository_without_tags(dist: Registry, conveyor: Registry) -> None:
    image = make_image("untagged")
    for registry in (dist, conveyor):
        registry.upload_blob("diff/blobs-only", blob_bytes("blobs-only"))
        image.push_blobs(registry, "diff/emptied")
        registry.put_manifest("diff/emptied", "only", image.manifest, OCI_MANIFEST)
        deleted = registry.request("DELETE", f"/v2/diff/emptied/manifests/{image.digest}")
        assert deleted.status_code == 202

    blobs_only = dist.request("GET", "/v2/diff/blobs-only/tags/list")
    assert (blobs_only.status_code, error_codes(blobs_only)) == (404, ["NAME_UNKNOWN"])
    emptied = dist.request("GET", "/v2/diff/emptied/tags/list")
    assert emptied.status_code == 200 and emptied.json()["tags"] is None

    for repository in ("diff/blobs-only", "diff/emptied"):
        response = conveyor.request("GET", f"/v2/{repository}/tags/list")
        if response.status_code == 200:
            assert response.json() == {"name": repository, "tags": []}
        else:
            assert (response.status_code, error_codes(response)) == (404, ["NAME_UNKNOWN"])


def test_chunk_out_of_order(dist: Registry, conveyor: Registry) -> None:
    data = blob_bytes("out-of-order")
    repository = "diff/out-of-order"

    started = dist.request("POST", f"/v2/{repository}/blobs/uploads/")
    appended = dist.request(
        "PATCH",
        started.headers["Location"],
        content=data[22:],
        headers={"Content-Type": OCTET, "Content-Range": "22-41"},
    )
    assert appended.status_code == 202 and appended.headers["Range"] == "0-19"

    started = conveyor.request(
        "POST", f"/v2/{repository}/blobs/uploads/", headers={"Content-Length": "0"}
    )
    assert started.status_code == 202
    session = started.headers["Location"]
    refused = conveyor.request(
        "PATCH",
        session,
        content=data[22:],
        headers={"Content-Type": OCTET, "Content-Range": "22-41"},
    )
    assert refused.status_code == 416, "a first chunk that does not start at 0"
    first = conveyor.request(
        "PATCH",
        session,
        content=data[:22],
        headers={"Content-Type": OCTET, "Content-Range": "0-21"},
    )
    assert (first.status_code, first.headers.get("Range")) == (202, "0-21")
    location = first.headers["Location"]
    gap = conveyor.request(
        "PATCH",
        location,
        content=data[30:],
        headers={"Content-Type": OCTET, "Content-Range": "30-41"},
    )
    assert gap.status_code == 416, "a chunk that leaves a gap"
    again = conveyor.request(
        "PATCH",
        location,
        content=data[:22],
        headers={"Content-Type": OCTET, "Content-Range": "0-21"},
    )
    assert again.status_code == 416, "a chunk already accepted"
    status = conveyor.request("GET", location)
    assert (status.status_code, status.headers.get("Range")) == (204, "0-21")
    second = conveyor.request(
        "PATCH",
        status.headers["Location"],
        content=data[22:],
        headers={"Content-Type": OCTET, "Content-Range": "22-41"},
    )
    assert (second.status_code, second.headers.get("Range")) == (202, "0-41")
    done = conveyor.request("PUT", with_query(second.headers["Location"], digest=sha256(data)))
    assert done.status_code == 201
    assert conveyor.request("GET", f"/v2/{repository}/blobs/{sha256(data)}").content == data


def test_chunk_sent_again_on_its_first_session_url(dist: Registry, conveyor: Registry) -> None:
    data = blob_bytes("stale-url")
    repository = "diff/stale-url"
    results = {}
    for registry in (dist, conveyor):
        started = registry.request(
            "POST", f"/v2/{repository}/blobs/uploads/", headers={"Content-Length": "0"}
        )
        session = started.headers["Location"]
        first = registry.request(
            "PATCH",
            session,
            content=data[:22],
            headers={"Content-Type": OCTET, "Content-Range": "0-21"},
        )
        assert first.status_code == 202
        results[registry.name] = registry.request(
            "PATCH",
            session,
            content=data[:22],
            headers={"Content-Type": OCTET, "Content-Range": "0-21"},
        )
    stale = results["distribution"]
    assert (stale.status_code, error_codes(stale)) == (404, ["BLOB_UPLOAD_INVALID"])
    assert results["conveyor"].status_code == 416


def test_last_chunk_out_of_order_in_the_put(dist: Registry, conveyor: Registry) -> None:
    data = blob_bytes("put-out-of-order", 100)
    repository = "diff/put-out-of-order"
    results = {}
    for registry in (dist, conveyor):
        started = registry.request("POST", f"/v2/{repository}/blobs/uploads/")
        first = registry.request(
            "PATCH",
            started.headers["Location"],
            content=data[:50],
            headers={"Content-Type": OCTET, "Content-Range": "0-49"},
        )
        assert first.status_code == 202
        results[registry.name] = registry.request(
            "PUT",
            with_query(first.headers["Location"], digest=sha256(data)),
            content=data[60:],
            headers={"Content-Type": OCTET, "Content-Range": "60-99"},
        )
    appended = results["distribution"]
    assert (appended.status_code, error_codes(appended)) == (400, ["DIGEST_INVALID"])
    assert results["conveyor"].status_code == 416


def test_single_post_with_digest(dist: Registry, conveyor: Registry) -> None:
    data = blob_bytes("single-post")
    repository = "diff/single-post"
    digest = sha256(data)
    path = f"/v2/{repository}/blobs/uploads/?digest={digest}"
    headers = {"Content-Type": OCTET}

    ignored = dist.request("POST", path, content=data, headers=headers)
    assert ignored.status_code == 202
    assert dist.request("HEAD", f"/v2/{repository}/blobs/{digest}").status_code == 404

    stored = conveyor.request("POST", path, content=data, headers=headers)
    assert stored.status_code == 201, stored.status_code
    assert location_shape(stored.headers.get("Location")) == f"/v2/{repository}/blobs/{digest}"
    assert stored.headers.get("Docker-Content-Digest") == digest
    assert conveyor.request("GET", f"/v2/{repository}/blobs/{digest}").content == data


def test_single_post_with_a_malformed_digest(dist: Registry, conveyor: Registry) -> None:
    data = blob_bytes("single-post-malformed")
    path = "/v2/diff/single-post-bad/blobs/uploads/?digest=sha256:abc"
    headers = {"Content-Type": OCTET}
    assert dist.request("POST", path, content=data, headers=headers).status_code == 202
    refused = conveyor.request("POST", path, content=data, headers=headers)
    assert (refused.status_code, error_codes(refused)) == (400, ["DIGEST_INVALID"])


def test_status_of_an_unknown_upload(dist: Registry, conveyor: Registry) -> None:
    path = "/v2/diff/unknown-upload/blobs/uploads/0b5e8f3c-7f64-4b2e-9b0e-5c6f8f1d2a3b"
    for registry in (dist, conveyor):
        registry.upload_blob("diff/unknown-upload", blob_bytes("unknown-upload"))
    invalid = dist.request("GET", path)
    assert (invalid.status_code, error_codes(invalid)) == (404, ["BLOB_UPLOAD_INVALID"])
    unknown = conveyor.request("GET", path)
    assert (unknown.status_code, error_codes(unknown)) == (404, ["BLOB_UPLOAD_UNKNOWN"])
    patched = conveyor.request("PATCH", path, content=b"x", headers={"Content-Type": OCTET})
    assert (patched.status_code, error_codes(patched)) == (404, ["BLOB_UPLOAD_UNKNOWN"])


def test_manifest_delete_by_tag(dist: Registry, conveyor: Registry) -> None:
    image = make_image("delete-by-tag")
    repository = "diff/delete-by-tag"
    for registry in (dist, conveyor):
        image.push_blobs(registry, repository)
        for tag in ("gone", "stays"):
            registry.put_manifest(repository, tag, image.manifest, OCI_MANIFEST)

    refused = dist.request("DELETE", f"/v2/{repository}/manifests/gone")
    assert (refused.status_code, error_codes(refused)) == (400, ["DIGEST_INVALID"])

    deleted = conveyor.request("DELETE", f"/v2/{repository}/manifests/gone")
    assert deleted.status_code == 202, (deleted.status_code, deleted.text)
    accept = {"Accept": OCI_MANIFEST}
    assert (
        conveyor.request("GET", f"/v2/{repository}/manifests/gone", headers=accept).status_code
        == 404
    )
    assert (
        conveyor.request("GET", f"/v2/{repository}/manifests/stays", headers=accept).status_code
        == 200
    )
    by_digest = conveyor.request(
        "GET", f"/v2/{repository}/manifests/{image.digest}", headers=accept
    )
    assert by_digest.status_code == 200
    assert conveyor.request("GET", f"/v2/{repository}/tags/list").json()["tags"] == ["stays"]


@pytest.mark.parametrize(
    ("accept", "docker"),
    [
        (None, False),
        (DOCKER_MANIFEST, False),
        (None, True),
        (OCI_MANIFEST, True),
    ],
    ids=["oci-no-accept", "oci-accept-docker", "docker-no-accept", "docker-accept-oci"],
)
def test_manifest_get_without_a_matching_accept(
    dist: Registry, conveyor: Registry, accept: str | None, docker: bool
) -> None:
    image = make_image(f"accept-{accept}-{docker}", docker=docker)
    repository = "diff/accept"
    tag = f"{'docker' if docker else 'oci'}-{'none' if accept is None else 'other'}"
    for registry in (dist, conveyor):
        image.push_blobs(registry, repository)
        registry.put_manifest(repository, tag, image.manifest, image.kind)
    headers = {"Accept": accept} if accept else {}

    refused = dist.request("GET", f"/v2/{repository}/manifests/{tag}", headers=headers)
    expected = (400, ["MANIFEST_INVALID"]) if docker else (404, ["MANIFEST_UNKNOWN"])
    assert (refused.status_code, error_codes(refused)) == expected

    served = conveyor.request("GET", f"/v2/{repository}/manifests/{tag}", headers=headers)
    assert served.status_code == 200, (served.status_code, served.text)
    assert served.content == image.manifest
    assert media_type(served.headers.get("Content-Type")) == image.kind
    assert served.headers.get("Docker-Content-Digest") == image.digest


def test_malformed_digest_in_a_manifest_path(dist: Registry, conveyor: Registry) -> None:
    image = make_image("malformed-reference")
    repository = "diff/malformed-reference"
    for registry in (dist, conveyor):
        image.push_blobs(registry, repository)
    for reference in ("sha256:totallywrong", "sha256:baddigeststring"):
        path = f"/v2/{repository}/manifests/{reference}"
        broken = dist.request("GET", path, headers={"Accept": OCI_MANIFEST})
        assert (broken.status_code, error_codes(broken)) == (500, ["UNKNOWN"])
        got = conveyor.request("GET", path, headers={"Accept": OCI_MANIFEST})
        assert got.status_code in (400, 404), (reference, got.status_code)
        assert error_codes(got) and set(error_codes(got) or []) <= SPEC_CODES

        put = conveyor.request(
            "PUT", path, content=image.manifest, headers={"Content-Type": OCI_MANIFEST}
        )
        assert put.status_code == 400, (reference, put.status_code)
        assert set(error_codes(put) or ["<none>"]) <= SPEC_CODES


SPEC_CODES = {
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "NAME_INVALID",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "UNAUTHORIZED",
    "DENIED",
    "UNSUPPORTED",
    "TOOMANYREQUESTS",
    "TAG_INVALID",
}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/Bad/Name/tags/list"),
        ("POST", "/v2/Bad/Name/blobs/uploads/"),
        ("GET", "/v2/diff/-bad/manifests/latest"),
        ("HEAD", f"/v2/diff/bad__-name/blobs/{sha256(b'x')}"),
        ("PUT", "/v2/diff/UPPER/manifests/latest"),
    ],
)
def test_invalid_repository_name(
    dist: Registry, conveyor: Registry, method: str, path: str
) -> None:
    body = {"content": b"{}", "headers": {"Content-Type": OCI_MANIFEST}} if method == "PUT" else {}
    routed = dist.request(method, path, **body)
    assert routed.status_code == 404
    assert media_type(routed.headers.get("Content-Type")) == "text/plain"

    refused = conveyor.request(method, path, **body)
    assert refused.status_code in (400, 404), refused.status_code
    if method != "HEAD":
        assert error_codes(refused) == ["NAME_INVALID"], refused.text


def test_invalid_tag_in_a_manifest_put(dist: Registry, conveyor: Registry) -> None:
    image = make_image("invalid-tag")
    repository = "diff/invalid-tag"
    for registry in (dist, conveyor):
        image.push_blobs(registry, repository)
    for tag in (".bad", "-bad", "a" * 129):
        path = f"/v2/{repository}/manifests/{tag}"
        routed = dist.request(
            "PUT", path, content=image.manifest, headers={"Content-Type": OCI_MANIFEST}
        )
        assert (
            routed.status_code == 404
            and media_type(routed.headers.get("Content-Type")) == "text/plain"
        )
        refused = conveyor.request(
            "PUT", path, content=image.manifest, headers={"Content-Type": OCI_MANIFEST}
        )
        assert refused.status_code == 400, (tag, refused.status_code)
        codes = error_codes(refused)
        assert codes and set(codes) <= SPEC_CODES, refused.text


def test_manifest_with_schema_version_1(dist: Registry, conveyor: Registry) -> None:
    body = json.dumps({"schemaVersion": 1, "mediaType": OCI_MANIFEST}).encode()
    path = "/v2/diff/schema-version-1/manifests/bad"
    headers = {"Content-Type": OCI_MANIFEST}
    broken = dist.request("PUT", path, content=body, headers=headers)
    assert (broken.status_code, error_codes(broken)) == (500, ["UNKNOWN"])
    refused = conveyor.request("PUT", path, content=body, headers=headers)
    assert (refused.status_code, error_codes(refused)) == (400, ["MANIFEST_INVALID"])
