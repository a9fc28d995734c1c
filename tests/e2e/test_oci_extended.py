"""OCI conformance, Part C: the checks of the 2026 suite, against a real `conveyor serve`.

Blob APIs for sha256 and sha512 (single POST, POST+PUT, chunked, out of order, streamed, mount,
cancel), Range reads, known blobs, bad digests; the C4 data sets (push, tag list, HEAD, GET,
referrers, delete); tag-list pagination; delete semantics; the C5 manifest errors.

Conveyor supports every optional API, so the answers the suite records as "unsupported" (202 for
a single POST or a mount, 405 for deletes, 200 for a Range request, a missing
`OCI-Filters-Applied`) are failures here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.oci_client import (
    DATA_SETS,
    DCD,
    EMPTY_BLOB_DIGEST,
    EMPTY_JSON_DIGEST,
    MANIFEST_ACCEPT,
    OCI_INDEX,
    OCI_MANIFEST,
    SUBJECT_DATA_SETS,
    Blob,
    DataSet,
    Manifest,
    OCIClient,
    Push,
    chunks,
    content_range,
    describe,
    empty_json_blob,
    error_codes,
    image_config,
    image_manifest,
    next_link,
    oci_tags,
    parse_challenge,
    random_digest,
    random_text,
    tar_layer,
)
from tests.support.conveyor_server import ConveyorServer

REPO1 = "conformance/repo1"
REPO2 = "conformance/repo2"
ALGORITHMS = ["sha256", "sha512"]


@pytest.fixture(scope="module")
def oci(conveyor_server: ConveyorServer) -> Iterator[OCIClient]:
    with OCIClient.for_server(conveyor_server) as client:
        yield client


def new_blob(algorithm: str, size: int = 512) -> Blob:
    return Blob(os.urandom(size), algorithm=algorithm)


def assert_never_pushed(oci: OCIClient, repo: str, blob: Blob) -> None:
    response = oci.get_blob(repo, blob.digest)
    assert response.status_code == 404, describe(response)


def verify_blob(oci: OCIClient, repo: str, blob: Blob, pushed: httpx.Response) -> None:
    """The checks the suite makes after every successful blob push."""
    head = oci.head_blob(repo, blob.digest)
    assert head.status_code == 200, describe(head)
    assert head.content == b""
    assert head.headers.get("Content-Length") == str(blob.size), describe(head)
    assert head.headers.get(DCD) == blob.digest, describe(head)
    got = oci.get_blob(repo, blob.digest)
    assert got.status_code == 200, describe(got)
    assert got.content == blob.data
    assert got.headers.get("Content-Length") == str(blob.size), describe(got)
    at_location = oci.get(oci.location(pushed))
    assert at_location.status_code == 200, describe(at_location)
    assert at_location.content == blob.data


def open_upload(oci: OCIClient, repo: str = REPO1) -> httpx.URL:
    started = oci.start_upload(repo, headers={"Content-Length": "0"})
    assert started.status_code == 202, describe(started)
    return oci.location(started)


# ===================================================================== C1 ping and auth


def test_ping_with_credentials_is_200(oci: OCIClient) -> None:
    response = oci.get("/v2/")
    assert response.status_code == 200, describe(response)


def test_ping_with_basic_credentials_is_200(conveyor_server: ConveyorServer) -> None:
    auth = (conveyor_server.admin_user, conveyor_server.admin_password)
    response = httpx.get(f"{conveyor_server.url}/v2/", auth=auth)
    assert response.status_code == 200, describe(response)


def test_ping_without_credentials_is_a_bearer_challenge(conveyor_server: ConveyorServer) -> None:
    url = conveyor_server.url
    response = httpx.get(f"{url}/v2/")
    assert response.status_code == 401, describe(response)
    scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
    assert scheme == "bearer", describe(response)
    assert params.get("realm") == f"{url}/auth/token", params
    assert params.get("service") == "conveyor", params


def test_token_from_realm_opens_the_registry(conveyor_server: ConveyorServer) -> None:
    url = conveyor_server.url
    auth = (conveyor_server.admin_user, conveyor_server.admin_password)
    issued = httpx.get(
        f"{url}/auth/token",
        params=[("service", "conveyor"), ("scope", f"repository:{REPO1}:pull")],
        auth=auth,
        headers={"Accept": "application/json"},
    )
    assert issued.status_code == 200, describe(issued)
    token = issued.json().get("token") or issued.json().get("access_token")
    assert token, issued.text
    response = httpx.get(f"{url}/v2/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, describe(response)


# ===================================================================== C2 empty repository


def test_tag_list_of_empty_repository_is_empty_or_404(oci: OCIClient) -> None:
    response = oci.list_tags("conformance/empty")
    assert response.status_code in (200, 404), describe(response)
    if response.status_code == 200:
        assert response.json().get("tags") in ([], None), response.text


def test_referrers_in_empty_repository_is_an_empty_index(oci: OCIClient) -> None:
    response = oci.referrers("conformance/empty", random_digest())
    assert response.status_code == 200, describe(response)
    assert response.headers.get("Content-Type") == OCI_INDEX, describe(response)
    body = response.json()
    assert body.get("mediaType") == OCI_INDEX and body.get("schemaVersion") == 2, body
    assert body.get("manifests") == [], body


# ===================================================================== C3 blob APIs


@pytest.fixture(scope="module")
def min_chunk(oci: OCIClient) -> int:
    """The chunk size for multi-chunk uploads: OCI-Chunk-Min-Length, at least 1024."""
    started = oci.start_upload(REPO1, headers={"Content-Length": "0"})
    assert started.status_code == 202, describe(started)
    oci.cancel_upload(oci.location(started))
    return max(int(started.headers.get("OCI-Chunk-Min-Length") or 0), 1024)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_single_post_with_digest_is_201(oci: OCIClient, algorithm: str) -> None:
    blob = new_blob(algorithm)
    assert_never_pushed(oci, REPO1, blob)
    response = oci.start_upload(REPO1, params={"digest": blob.digest}, content=blob.data)
    # A 202 is "single POST unsupported" for the suite; Conveyor supports it.
    assert response.status_code == 201, describe(response)
    verify_blob(oci, REPO1, blob, response)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_post_then_put_is_201(oci: OCIClient, algorithm: str) -> None:
    blob = new_blob(algorithm)
    assert_never_pushed(oci, REPO1, blob)
    response = oci.finish_upload(open_upload(oci), blob.digest, blob.data)
    assert response.status_code == 201, describe(response)
    verify_blob(oci, REPO1, blob, response)


def upload_in_chunks(
    oci: OCIClient,
    blob: Blob,
    size: int,
    *,
    last_in_put: bool = False,
    out_of_order: bool = False,
    data: bytes | None = None,
) -> httpx.Response:
    """POST, PATCH every chunk (checking 202, Location and Range), then the closing PUT."""
    body = blob.data if data is None else data
    location = open_upload(oci)
    pieces = list(chunks(body, size))
    patched = pieces[:-1] if last_in_put else pieces
    for i, (offset, piece) in enumerate(patched):
        if out_of_order:
            location = refuse_out_of_order(oci, location, pieces, i)
        response = oci.patch_chunk(location, piece, content_range(offset, piece))
        assert response.status_code == 202, describe(response)
        assert response.headers.get("Range") == f"0-{offset + len(piece) - 1}", describe(response)
        location = oci.location(response)
    if not last_in_put:
        return oci.finish_upload(location, blob.digest)
    offset, piece = pieces[-1]
    if out_of_order:
        first = pieces[0][1]
        bad = oci.finish_upload(location, blob.digest, first, content_range(0, first))
        assert bad.status_code == 416, f"out-of-order final PUT: {describe(bad)}"
        location = check_status(oci, location, accepted=offset)
    return oci.finish_upload(location, blob.digest, piece, content_range(offset, piece))


def refuse_out_of_order(
    oci: OCIClient, location: httpx.URL, pieces: list[tuple[int, bytes]], i: int
) -> httpx.URL:
    """Send a chunk that skips ahead (or restarts at 0): 416; then the status is unchanged."""
    offset, bad = pieces[i + 1] if i + 1 < len(pieces) else pieces[0]
    response = oci.patch_chunk(location, bad, content_range(offset, bad))
    assert response.status_code == 416, f"out-of-order chunk {i}: {describe(response)}"
    return check_status(oci, location, accepted=pieces[i][0])


def check_status(oci: OCIClient, location: httpx.URL, accepted: int) -> httpx.URL:
    """GET the upload: 204, Location, Range `0-<last accepted byte>` (only `0-` before any)."""
    status = oci.upload_status(location)
    assert status.status_code == 204, describe(status)
    assert status.headers.get("Location"), describe(status)
    reported = status.headers.get("Range", "")
    assert reported.startswith("0-"), describe(status)
    if accepted > 0:
        assert reported == f"0-{accepted - 1}", describe(status)
    return oci.location(status)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_chunked_single_chunk_is_201(oci: OCIClient, algorithm: str) -> None:
    blob = new_blob(algorithm)
    assert_never_pushed(oci, REPO1, blob)
    response = upload_in_chunks(oci, blob, blob.size)
    assert response.status_code == 201, describe(response)
    verify_blob(oci, REPO1, blob, response)


@pytest.mark.parametrize("last_in_put", [False, True], ids=["patches", "put-chunk"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_chunked_multi_is_201(
    oci: OCIClient, min_chunk: int, algorithm: str, last_in_put: bool
) -> None:
    blob = new_blob(algorithm, 3 * min_chunk - 5)
    assert_never_pushed(oci, REPO1, blob)
    response = upload_in_chunks(oci, blob, min_chunk, last_in_put=last_in_put)
    assert response.status_code == 201, describe(response)
    verify_blob(oci, REPO1, blob, response)


@pytest.mark.parametrize("last_in_put", [False, True], ids=["patches", "put-chunk"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_chunked_out_of_order_is_416_and_upload_continues(
    oci: OCIClient, min_chunk: int, algorithm: str, last_in_put: bool
) -> None:
    blob = new_blob(algorithm, 3 * min_chunk - 5)
    assert_never_pushed(oci, REPO1, blob)
    response = upload_in_chunks(oci, blob, min_chunk, last_in_put=last_in_put, out_of_order=True)
    assert response.status_code == 201, describe(response)
    verify_blob(oci, REPO1, blob, response)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_streamed_upload_is_201(oci: OCIClient, algorithm: str) -> None:
    blob = new_blob(algorithm)
    assert_never_pushed(oci, REPO1, blob)
    patched = oci.patch_chunk(open_upload(oci), blob.data)
    assert patched.status_code == 202, describe(patched)
    assert patched.headers.get("Location"), describe(patched)
    response = oci.finish_upload(oci.location(patched), blob.digest)
    assert response.status_code == 201, describe(response)
    assert response.headers.get("Location"), describe(response)
    verify_blob(oci, REPO1, blob, response)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_mount_from_other_repository_is_201(oci: OCIClient, algorithm: str) -> None:
    blob = new_blob(algorithm)
    oci.ensure_blob(REPO2, blob)
    assert_never_pushed(oci, REPO1, blob)
    response = oci.start_upload(REPO1, params={"mount": blob.digest, "from": REPO2})
    assert response.status_code == 201, describe(response)
    if DCD in response.headers:
        assert response.headers[DCD] == blob.digest, describe(response)
    verify_blob(oci, REPO1, blob, response)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_anonymous_mount_without_from_is_201(oci: OCIClient, algorithm: str) -> None:
    # Conveyor mounts automatically a blob the caller can read in another repository.
    blob = new_blob(algorithm)
    oci.ensure_blob(REPO2, blob)
    assert_never_pushed(oci, REPO1, blob)
    response = oci.start_upload(REPO1, params={"mount": blob.digest})
    assert response.status_code == 201, describe(response)
    if DCD in response.headers:
        assert response.headers[DCD] == blob.digest, describe(response)
    verify_blob(oci, REPO1, blob, response)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_mount_of_missing_blob_opens_an_upload_session(oci: OCIClient, algorithm: str) -> None:
    response = oci.start_upload(REPO1, params={"mount": random_digest(algorithm), "from": REPO2})
    assert response.status_code == 202, describe(response)
    assert oci.location(response).path.startswith(f"/v2/{REPO1}/blobs/uploads/")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_upload_with_digest_algorithm_parameter_is_201(oci: OCIClient, algorithm: str) -> None:
    # end-4c (main): POST ?digest-algorithm=<alg> opens a session hashed with that algorithm.
    blob = new_blob(algorithm)
    started = oci.start_upload(REPO1, params={"digest-algorithm": algorithm})
    assert started.status_code == 202, describe(started)
    patched = oci.patch_chunk(oci.location(started), blob.data, content_range(0, blob.data))
    assert patched.status_code == 202, describe(patched)
    response = oci.finish_upload(oci.location(patched), blob.digest)
    assert response.status_code == 201, describe(response)
    verify_blob(oci, REPO1, blob, response)


def test_cancelled_upload_is_204_and_then_unknown(oci: OCIClient) -> None:
    location = open_upload(oci)
    response = oci.cancel_upload(location)
    assert response.status_code == 204, describe(response)
    status = oci.upload_status(location)
    assert status.status_code == 404, describe(status)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_blob_delete_is_202_and_then_404(oci: OCIClient, algorithm: str) -> None:
    blob = new_blob(algorithm)
    oci.ensure_blob(REPO1, blob)
    response = oci.delete_blob(REPO1, blob.digest)
    assert response.status_code == 202, describe(response)
    assert oci.head_blob(REPO1, blob.digest).status_code == 404
    assert oci.get_blob(REPO1, blob.digest).status_code == 404


# --------------------------------------------------------------------- Range reads


@pytest.fixture(scope="module")
def range_blob(oci: OCIClient) -> Blob:
    blob = new_blob("sha256", 2048)
    oci.ensure_blob(REPO1, blob)
    return blob


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=500-1499", 500, 1499),
        ("bytes=500-", 500, 2047),
        ("bytes=-500", 1548, 2047),
        ("bytes=2000-5000", 2000, 2047),
    ],
)
def test_range_read_is_206_with_the_slice(
    oci: OCIClient, range_blob: Blob, header: str, start: int, end: int
) -> None:
    response = oci.get_blob(REPO1, range_blob.digest, headers={"Range": header})
    assert response.status_code == 206, describe(response)
    assert response.content == range_blob.data[start : end + 1]
    assert response.headers.get("Content-Length") == str(end - start + 1), describe(response)
    # The spec also allows `/*`; Conveyor knows the size, so it must give it.
    assert response.headers.get("Content-Range") == f"bytes {start}-{end}/2048", describe(response)


@pytest.mark.parametrize("header", ["bytes=500-0", "bytes=5000-10000"])
def test_unsatisfiable_range_is_416(oci: OCIClient, range_blob: Blob, header: str) -> None:
    response = oci.get_blob(REPO1, range_blob.digest, headers={"Range": header})
    assert response.status_code == 416, describe(response)


# --------------------------------------------------------------------- known blobs


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("content", [b"", b"{}"], ids=["empty-blob", "empty-json"])
def test_known_blob_push_head_get_delete(oci: OCIClient, content: bytes, algorithm: str) -> None:
    blob = Blob(content, algorithm=algorithm)
    if algorithm == "sha256":
        assert blob.digest == (EMPTY_BLOB_DIGEST if content == b"" else EMPTY_JSON_DIGEST)
    repo = f"conformance/known-{algorithm}"
    assert_never_pushed(oci, repo, blob)
    response = oci.push_blob(repo, blob)
    assert response.status_code == 201, describe(response)
    verify_blob(oci, repo, blob, response)
    deleted = oci.delete_blob(repo, blob.digest)
    assert deleted.status_code == 202, describe(deleted)
    assert oci.head_blob(repo, blob.digest).status_code == 404


# --------------------------------------------------------------------- bad digests


def closing_response_with_bad_body(
    oci: OCIClient, method: str, blob: Blob, bad: bytes, min_chunk: int
) -> httpx.Response:
    if method == "post-only":
        return oci.start_upload(REPO1, params={"digest": blob.digest}, content=bad)
    if method == "post-put":
        return oci.finish_upload(open_upload(oci), blob.digest, bad)
    if method == "stream":
        patched = oci.patch_chunk(open_upload(oci), bad)
        assert patched.status_code == 202, describe(patched)
        return oci.finish_upload(oci.location(patched), blob.digest)
    return upload_in_chunks(oci, blob, min_chunk, last_in_put=method == "chunked-put", data=bad)


@pytest.mark.parametrize("method", ["post-only", "post-put", "chunked", "chunked-put", "stream"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_body_not_matching_digest_is_400_and_not_stored(
    oci: OCIClient, min_chunk: int, algorithm: str, method: str
) -> None:
    size = 3 * min_chunk - 5 if method.startswith("chunked") else 512
    blob = new_blob(algorithm, size)
    bad = blob.data + b"oh no"
    response = closing_response_with_bad_body(oci, method, blob, bad, min_chunk)
    # The suite tolerates 202 for the single POST (then the PUT fails); Conveyor verifies
    # the single POST itself.
    assert response.status_code == 400, describe(response)
    assert "DIGEST_INVALID" in error_codes(response), describe(response)
    assert oci.head_blob(REPO1, blob.digest).status_code == 404
    assert oci.head_blob(REPO1, Blob(bad, algorithm=algorithm).digest).status_code == 404


# ===================================================================== C4 data sets


@dataclass
class PutRecord:
    push: Push
    reference: str
    response: httpx.Response


class DataSetRuns:
    """Pushes each data set once (blobs, then manifests by digest and by every tag)."""

    def __init__(self, oci: OCIClient) -> None:
        self.oci = oci
        self.runs: dict[str, tuple[DataSet, list[PutRecord]]] = {}

    def __call__(self, name: str) -> tuple[DataSet, list[PutRecord]]:
        if name not in self.runs:
            data_set = DATA_SETS[name]()
            for blob in data_set.unique_blobs():
                self.oci.ensure_blob(data_set.repository, blob)
            records = []
            for push in data_set.pushes:
                references = [push.manifest.digest] if push.by_digest else []
                for reference in [*references, *push.tags]:
                    response = self.oci.put_manifest(data_set.repository, reference, push.manifest)
                    records.append(PutRecord(push, reference, response))
            self.runs[name] = (data_set, records)
        return self.runs[name]


@pytest.fixture(scope="module")
def data_sets(oci: OCIClient) -> DataSetRuns:
    return DataSetRuns(oci)


ALL_SETS = list(DATA_SETS)
TAGGED_SETS = [name for name in DATA_SETS if name != "sha512"]  # sha512 is pushed by digest


def failures_of(checks: list[str]) -> str:
    return "\n".join(checks)


@pytest.mark.parametrize("name", ALL_SETS)
def test_data_set_manifest_put_is_201_with_location_and_digest(
    data_sets: DataSetRuns, name: str
) -> None:
    _, records = data_sets(name)
    failures = []
    for record in records:
        response, manifest = record.response, record.push.manifest
        if response.status_code != 201 or not response.headers.get("Location"):
            failures.append(describe(response))
        elif response.headers.get(DCD) != manifest.digest:
            failures.append(f"digest header != {manifest.digest}: {describe(response)}")
    assert not failures, failures_of(failures)


@pytest.mark.parametrize("name", SUBJECT_DATA_SETS)
def test_data_set_put_with_subject_returns_oci_subject(data_sets: DataSetRuns, name: str) -> None:
    _, records = data_sets(name)
    failures = []
    for record in records:
        subject = record.push.manifest.document.get("subject")
        if subject and record.response.headers.get("OCI-Subject") != subject["digest"]:
            failures.append(f"want OCI-Subject {subject['digest']}: {describe(record.response)}")
    assert not failures, failures_of(failures)


@pytest.mark.parametrize("name", ALL_SETS)
def test_data_set_location_serves_the_exact_manifest(
    oci: OCIClient, data_sets: DataSetRuns, name: str
) -> None:
    _, records = data_sets(name)
    failures = []
    for record in records:
        manifest = record.push.manifest
        if "Location" not in record.response.headers:
            failures.append(f"no Location: {describe(record.response)}")
            continue
        got = oci.get(oci.location(record.response), headers={"Accept": MANIFEST_ACCEPT})
        if not _serves(got, manifest, with_body=True):
            failures.append(describe(got))
    assert not failures, failures_of(failures)


def _serves(response: httpx.Response, manifest: Manifest, *, with_body: bool) -> bool:
    return (
        response.status_code == 200
        and response.headers.get("Content-Type") == manifest.media_type
        and response.headers.get("Content-Length") == str(manifest.size)
        and response.headers.get(DCD, manifest.digest) == manifest.digest
        and response.content == (manifest.data if with_body else b"")
    )


@pytest.mark.parametrize("name", TAGGED_SETS)
def test_data_set_tag_list_has_every_tag(oci: OCIClient, data_sets: DataSetRuns, name: str) -> None:
    data_set, _ = data_sets(name)
    response = oci.list_tags(data_set.repository)
    assert response.status_code == 200, describe(response)
    assert set(data_set.tags) <= set(response.json()["tags"]), response.text


@pytest.mark.parametrize("name", TAGGED_SETS)
def test_data_set_tag_list_last_skips_earlier_tags(
    oci: OCIClient, data_sets: DataSetRuns, name: str
) -> None:
    data_set, _ = data_sets(name)
    tags = sorted(data_set.tags)
    last = tags[len(tags) // 2 - 1]
    response = oci.list_tags(data_set.repository, last=last)
    assert response.status_code == 200, describe(response)
    listed = response.json()["tags"]
    assert not [tag for tag in listed if tag <= last], listed
    assert set(tags[len(tags) // 2 :]) <= set(listed), listed


@pytest.mark.parametrize("method", ["HEAD", "GET"])
@pytest.mark.parametrize("name", ALL_SETS)
def test_data_set_manifest_by_tag_and_digest(
    oci: OCIClient, data_sets: DataSetRuns, name: str, method: str
) -> None:
    data_set, _ = data_sets(name)
    failures = []
    for push in data_set.pushes:
        for reference in [push.manifest.digest, *push.tags]:
            path = oci.manifest_path(data_set.repository, reference)
            got = oci.request(method, path, headers={"Accept": MANIFEST_ACCEPT})
            if not _serves(got, push.manifest, with_body=method == "GET"):
                failures.append(describe(got))
            elif got.headers.get(DCD) != push.manifest.digest:
                failures.append(f"no digest header: {describe(got)}")
    assert not failures, failures_of(failures)


@pytest.mark.parametrize("name", SUBJECT_DATA_SETS)
def test_data_set_referrers_list_each_referrer(
    oci: OCIClient, data_sets: DataSetRuns, name: str
) -> None:
    data_set, _ = data_sets(name)
    for subject, referrers in data_set.referrers.items():
        response = oci.referrers(data_set.repository, subject)
        assert response.status_code == 200, describe(response)
        assert response.headers.get("Content-Type") == OCI_INDEX, describe(response)
        listed = {entry["digest"]: entry for entry in response.json()["manifests"]}
        assert set(listed) == {m.digest for m in referrers}, response.text
        for manifest in referrers:
            want = manifest.referrer_descriptor()
            entry = listed[manifest.digest]
            for key in ("mediaType", "size", "artifactType"):
                assert entry.get(key) == want.get(key), (key, entry)
            assert want.get("annotations", {}).items() <= entry.get("annotations", {}).items()


@pytest.mark.parametrize("name", SUBJECT_DATA_SETS)
def test_data_set_referrers_filter_by_artifact_type(
    oci: OCIClient, data_sets: DataSetRuns, name: str
) -> None:
    data_set, _ = data_sets(name)
    for subject, referrers in data_set.referrers.items():
        for manifest in referrers:
            artifact_type = manifest.referrer_descriptor()["artifactType"]
            response = oci.referrers(data_set.repository, subject, artifact_type=artifact_type)
            assert response.status_code == 200, describe(response)
            applied = response.headers.get("OCI-Filters-Applied", "")
            assert "artifactType" in [f.strip() for f in applied.split(",")], describe(response)
            entries = response.json()["manifests"]
            assert all(e.get("artifactType") == artifact_type for e in entries), entries
            want = {
                m.digest
                for m in referrers
                if m.referrer_descriptor()["artifactType"] == artifact_type
            }
            assert {e["digest"] for e in entries} == want, entries


@pytest.mark.parametrize("name", ALL_SETS)
def test_data_set_delete_tags_then_manifests_then_blobs(
    oci: OCIClient, data_sets: DataSetRuns, name: str
) -> None:
    data_set, _ = data_sets(name)
    repo = data_set.repository
    for tag in data_set.tags:
        response = oci.delete_manifest(repo, tag)
        assert response.status_code == 202, describe(response)
        assert oci.head_manifest(repo, tag).status_code == 404, tag
    for push in reversed(data_set.pushes):
        response = oci.delete_manifest(repo, push.manifest.digest)
        assert response.status_code == 202, describe(response)
        assert oci.head_manifest(repo, push.manifest.digest).status_code == 404
    for blob in data_set.unique_blobs():
        response = oci.delete_blob(repo, blob.digest)
        assert response.status_code == 202, describe(response)
        assert oci.head_blob(repo, blob.digest).status_code == 404


# --------------------------------------------------------------------- tag parameters


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_by_digest_with_tag_params_answers_oci_tag(oci: OCIClient, algorithm: str) -> None:
    repo = f"conformance/tag-param-{algorithm}"
    config = image_config(algorithm=algorithm)
    layer = tar_layer({"tagged.txt": b"tags"}, algorithm=algorithm)
    for blob in (config, layer):
        oci.ensure_blob(repo, blob)
    manifest = image_manifest(config, [layer], algorithm=algorithm)
    # At least 10 tags SHOULD be supported; Conveyor supports them.
    tags = [f"param-{i}" for i in range(10)]
    response = oci.put_manifest(
        repo, manifest.digest, manifest, params=[("tag", tag) for tag in tags]
    )
    assert response.status_code == 201, describe(response)
    assert response.headers.get("Location"), describe(response)
    assert sorted(oci_tags(response)) == sorted(tags), describe(response)
    for tag in tags:
        got = oci.get_manifest(repo, tag)
        assert got.status_code == 200, describe(got)
        assert got.content == manifest.data
    assert set(tags) <= set(oci.list_tags(repo).json()["tags"])


def test_manifest_with_bytes_not_matching_its_digest_is_400(oci: OCIClient) -> None:
    repo = "conformance/bad-digest-image"
    config, layer = image_config(), tar_layer({"bad.txt": b"bad"})
    for blob in (config, layer):
        oci.ensure_blob(repo, blob)
    manifest = image_manifest(config, [layer])
    response = oci.put_manifest(repo, manifest.digest, manifest.data + b"  ", OCI_MANIFEST)
    assert response.status_code == 400, describe(response)
    assert oci.head_manifest(repo, manifest.digest).status_code == 404
    padded = Manifest(manifest.data + b"  ", OCI_MANIFEST)
    assert oci.head_manifest(repo, padded.digest).status_code == 404


# ===================================================================== tag list pagination

PAGE_TAGS = ["alpha", "beta", "delta", "epsilon", "gamma", "v1", "v1.0", "v1.0.1", "v2", "zeta"]
PAGE_REPO = "conformance/paging"


@pytest.fixture(scope="module")
def paging(oci: OCIClient) -> list[str]:
    config, layer = image_config(), tar_layer({"page.txt": b"page"})
    for blob in (config, layer):
        oci.ensure_blob(PAGE_REPO, blob)
    manifest = image_manifest(config, [layer])
    for tag in PAGE_TAGS:
        oci.ensure_manifest(PAGE_REPO, tag, manifest)
    return sorted(PAGE_TAGS)


def test_tag_list_is_complete_and_sorted(oci: OCIClient, paging: list[str]) -> None:
    response = oci.list_tags(PAGE_REPO)
    assert response.status_code == 200, describe(response)
    assert response.json() == {"name": PAGE_REPO, "tags": paging}


def test_tag_list_n_zero_is_empty_without_link(oci: OCIClient, paging: list[str]) -> None:
    response = oci.list_tags(PAGE_REPO, n=0)
    assert response.status_code == 200, describe(response)
    assert response.json()["tags"] == []
    assert next_link(response) is None, describe(response)


def test_tag_list_n_caps_the_page_and_links_to_the_rest(oci: OCIClient, paging: list[str]) -> None:
    response = oci.list_tags(PAGE_REPO, n=3)
    assert response.status_code == 200, describe(response)
    assert response.json()["tags"] == paging[:3]
    assert next_link(response) is not None, describe(response)


def test_tag_list_link_pages_through_every_tag(oci: OCIClient, paging: list[str]) -> None:
    response = oci.list_tags(PAGE_REPO, n=3)
    seen: list[str] = []
    for _ in range(10):
        assert response.status_code == 200, describe(response)
        seen += response.json()["tags"]
        link = next_link(response)
        if link is None:
            break
        response = oci.get(link)
    assert seen == paging


def test_tag_list_without_more_tags_has_no_link(oci: OCIClient, paging: list[str]) -> None:
    response = oci.list_tags(PAGE_REPO, n=100)
    assert response.json()["tags"] == paging
    assert next_link(response) is None, describe(response)


@pytest.mark.parametrize(
    ("last", "n", "expected"),
    [
        ("delta", None, ["epsilon", "gamma", "v1", "v1.0", "v1.0.1", "v2", "zeta"]),
        ("c", None, ["delta", "epsilon", "gamma", "v1", "v1.0", "v1.0.1", "v2", "zeta"]),
        ("beta", 2, ["delta", "epsilon"]),
        ("v1", 2, ["v1.0", "v1.0.1"]),
        ("zeta", None, []),
        ("zzz", 5, []),
    ],
)
def test_tag_list_last_starts_strictly_after_it(
    oci: OCIClient, paging: list[str], last: str, n: int | None, expected: list[str]
) -> None:
    params: dict[str, str | int] = {"last": last}
    if n is not None:
        params["n"] = n
    response = oci.list_tags(PAGE_REPO, **params)
    assert response.status_code == 200, describe(response)
    assert response.json()["tags"] == expected


# ===================================================================== delete semantics


def push_tagged_image(oci: OCIClient, repo: str, tags: list[str]) -> Manifest:
    config, layer = image_config(), tar_layer({"x.txt": random_text().encode()})
    for blob in (config, layer):
        oci.ensure_blob(repo, blob)
    manifest = image_manifest(config, [layer])
    for tag in tags:
        oci.ensure_manifest(repo, tag, manifest)
    return manifest


def test_deleted_manifest_is_gone_by_digest_and_every_tag(oci: OCIClient) -> None:
    repo, tags = "conformance/deletes", ["one", "two", "three"]
    manifest = push_tagged_image(oci, repo, tags)
    response = oci.delete_manifest(repo, manifest.digest)
    assert response.status_code == 202, describe(response)
    for reference in [manifest.digest, *tags]:
        assert oci.get_manifest(repo, reference).status_code == 404, reference
        assert oci.head_manifest(repo, reference).status_code == 404, reference
    listed = oci.list_tags(repo)
    if listed.status_code == 200:
        assert not set(tags) & set(listed.json()["tags"] or []), listed.text


def test_deleted_tag_leaves_the_manifest_and_its_other_tags(oci: OCIClient) -> None:
    repo = "conformance/deletes"
    manifest = push_tagged_image(oci, repo, ["keep", "drop"])
    response = oci.delete_manifest(repo, "drop")
    assert response.status_code == 202, describe(response)
    assert oci.get_manifest(repo, "drop").status_code == 404
    assert oci.get_manifest(repo, "keep").content == manifest.data
    assert oci.get_manifest(repo, manifest.digest).status_code == 200
    assert "drop" not in oci.list_tags(repo).json()["tags"]


def test_deleted_referrer_leaves_the_referrers_list(oci: OCIClient) -> None:
    repo = "conformance/deletes"
    subject = push_tagged_image(oci, repo, ["subject"])
    empty, payload = empty_json_blob(), Blob(b"signature", "application/vnd.conformance.sig")
    for blob in (empty, payload):
        oci.ensure_blob(repo, blob)
    referrer = image_manifest(
        empty, [payload], subject=subject, artifact_type="application/vnd.conformance.sig"
    )
    oci.ensure_manifest(repo, referrer.digest, referrer)
    listed = oci.referrers(repo, subject.digest).json()["manifests"]
    assert [e["digest"] for e in listed] == [referrer.digest]
    assert oci.delete_manifest(repo, referrer.digest).status_code == 202
    assert oci.referrers(repo, subject.digest).json()["manifests"] == []


# ===================================================================== C5 manifest errors


def test_get_of_unknown_manifest_digest_is_404(oci: OCIClient, paging: list[str]) -> None:
    response = oci.get_manifest(PAGE_REPO, random_digest())
    assert response.status_code == 404, describe(response)


def test_get_of_unknown_tag_is_404(oci: OCIClient, paging: list[str]) -> None:
    response = oci.get_manifest(PAGE_REPO, f"missing-{random_text(8)}")
    assert response.status_code == 404, describe(response)


def test_put_by_malformed_digest_is_400(oci: OCIClient) -> None:
    repo = "conformance/errors"
    config, layer = image_config(), tar_layer({"e.txt": b"e"})
    for blob in (config, layer):
        oci.ensure_blob(repo, blob)
    response = oci.put_manifest(repo, "sha256:baddigeststring", image_manifest(config, [layer]))
    assert response.status_code == 400, describe(response)


def test_get_by_malformed_digest_is_400_or_404(oci: OCIClient, paging: list[str]) -> None:
    response = oci.get_manifest(PAGE_REPO, "sha256:baddigeststring")
    assert response.status_code in (400, 404), describe(response)


# ===================================================================== more of DESIGN §4.5


def test_moving_a_tag_points_it_at_the_new_manifest(oci: OCIClient) -> None:
    repo = "conformance/deletes"
    first = push_tagged_image(oci, repo, ["moving", "first"])
    second = push_tagged_image(oci, repo, ["second"])
    oci.ensure_manifest(repo, "moving", second)
    got = oci.get_manifest(repo, "moving")
    assert got.content == second.data
    assert got.headers.get(DCD) == second.digest, describe(got)
    assert oci.get_manifest(repo, "first").content == first.data


def test_pull_ignores_an_unused_ns_parameter(oci: OCIClient, paging: list[str]) -> None:
    # Conveyor is no proxy: an `ns=<upstream>` parameter (main spec) changes nothing.
    manifest = oci.get_manifest(PAGE_REPO, paging[0])
    config = manifest.json()["config"]["digest"]
    params = [("ns", "registry.example.com")]
    with_ns = oci.get(oci.manifest_path(PAGE_REPO, paging[0]), params=params)
    assert with_ns.status_code == 200, describe(with_ns)
    assert with_ns.content == manifest.content
    blob = oci.get(oci.blob_path(PAGE_REPO, config), params=params)
    assert blob.status_code == 200, describe(blob)


def catalog(oci: OCIClient, **params: str | int) -> httpx.Response:
    return oci.get("/v2/_catalog", params=[(k, str(v)) for k, v in params.items()])


@pytest.fixture(scope="module")
def catalog_repos(oci: OCIClient) -> list[str]:
    repositories = [f"conformance/catalog-{i}" for i in range(3)]
    for repo in repositories:
        push_tagged_image(oci, repo, ["latest"])
    return repositories


def test_catalog_lists_repositories_sorted(oci: OCIClient, catalog_repos: list[str]) -> None:
    response = catalog(oci)
    assert response.status_code == 200, describe(response)
    repositories = response.json()["repositories"]
    assert set(catalog_repos) <= set(repositories)
    assert repositories == sorted(repositories)


def test_catalog_pages_with_n_last_and_link(oci: OCIClient, catalog_repos: list[str]) -> None:
    everything = catalog(oci).json()["repositories"]
    response = catalog(oci, n=2)
    assert response.json()["repositories"] == everything[:2]
    seen: list[str] = []
    for _ in range(len(everything) + 1):
        assert response.status_code == 200, describe(response)
        seen += response.json()["repositories"]
        link = next_link(response)
        if link is None:
            break
        response = oci.get(link)
    assert seen == everything
    after = catalog(oci, last=everything[0]).json()["repositories"]
    assert after == everything[1:]
