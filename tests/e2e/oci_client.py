"""A small OCI distribution client for the conformance tests, and the content they push.

The client wraps httpx: it resolves relative `Location` headers against the request URL, keeps
the query string of upload URLs, and answers 401 challenges (Basic, or Bearer through the token
realm, one `scope` parameter per scope, tokens cached per scope).

The builders make the test content the way the conformance suite describes it
(`/work/shared/specs/oci-distribution-conformance.md`, A.1 and C4): image configs, a gzip tar
layer made in code, manifests serialised once as tab-indented JSON (the same bytes are hashed and
sent), referrer manifests and the Part C data sets.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import random
import re
import string
import tarfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

# --------------------------------------------------------------------------- media types, headers

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_NONDISTRIBUTABLE = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCTET_STREAM = "application/octet-stream"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MANIFEST_ACCEPT = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST])

DCD = "Docker-Content-Digest"
ANNOTATION = "org.opencontainers.conformance.test"
USER_AGENT = "conveyor-oci-conformance-tests"

# The spec's error-code table (A.6) plus the two legacy Docker codes the suite still accepts.
SPEC_ERROR_CODES = frozenset(
    {
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
        "MANIFEST_UNVERIFIED",
    }
)

# --------------------------------------------------------------------------- digests, constants


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def random_digest(algorithm: str = "sha256") -> str:
    """The digest of random bytes: a digest nobody ever pushed."""
    return digest_of(os.urandom(32), algorithm)


def random_text(length: int = 16) -> str:
    return "".join(random.choices(string.ascii_letters + string.digits, k=length))


DUMMY_DIGEST = "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
EMPTY_JSON_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
EMPTY_BLOB_DIGEST = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
INVALID_MANIFEST_NAME = ".INVALID_MANIFEST_NAME"
INVALID_MANIFEST_CONTENT = b"blablabla"

# --------------------------------------------------------------------------- content objects


def dump(document: Mapping[str, Any]) -> bytes:
    """Serialise once, pretty-printed with tabs; these exact bytes are hashed and pushed."""
    return json.dumps(document, indent="\t").encode()


@dataclass(frozen=True)
class Blob:
    data: bytes
    media_type: str = OCTET_STREAM
    algorithm: str = "sha256"

    @property
    def digest(self) -> str:
        return digest_of(self.data, self.algorithm)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size, **extra}


@dataclass(frozen=True)
class Manifest:
    data: bytes
    media_type: str
    algorithm: str = "sha256"

    @property
    def digest(self) -> str:
        return digest_of(self.data, self.algorithm)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def document(self) -> dict[str, Any]:
        return dict(json.loads(self.data))

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size, **extra}

    def referrer_descriptor(self) -> dict[str, Any]:
        """What the referrers API must list for this manifest (A.7)."""
        doc = self.document
        expected = self.descriptor()
        artifact_type = doc.get("artifactType")
        if not artifact_type and self.media_type == OCI_MANIFEST:
            artifact_type = doc["config"]["mediaType"]
        if artifact_type:
            expected["artifactType"] = artifact_type
        if doc.get("annotations"):
            expected["annotations"] = doc["annotations"]
        return expected


def empty_json_blob(algorithm: str = "sha256") -> Blob:
    return Blob(b"{}", OCI_EMPTY, algorithm)


def image_config(author: str | None = None, *, algorithm: str = "sha256", **extra: Any) -> Blob:
    """An image config; the random author makes every config (and manifest) unique."""
    doc = {
        "author": author if author is not None else random_text(16),
        "architecture": extra.pop("architecture", "amd64"),
        "os": extra.pop("os", "linux"),
        "rootfs": {"type": "layers", "diff_ids": []},
        **extra,
    }
    return Blob(dump(doc), OCI_CONFIG, algorithm)


def tar_bytes(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def tar_layer(
    files: Mapping[str, bytes], *, compress: bool = True, algorithm: str = "sha256"
) -> Blob:
    """A layer made in code; gzip with mtime 0 so the bytes (and digest) are stable."""
    raw = tar_bytes(files)
    if not compress:
        return Blob(raw, OCI_LAYER_TAR, algorithm)
    return Blob(gzip.compress(raw, mtime=0), OCI_LAYER_GZIP, algorithm)


def conformance_layer() -> Blob:
    """The suite's one small layer: a gzip tar holding `test.txt`."""
    return tar_layer({"test.txt": b"conformance test layer\n"})


def image_manifest(
    config: Blob | Mapping[str, Any],
    layers: Sequence[Blob | Mapping[str, Any]],
    *,
    subject: Manifest | None = None,
    artifact_type: str | None = None,
    annotations: Mapping[str, str] | None = None,
    with_media_type: bool = True,
    algorithm: str = "sha256",
    **extra: Any,
) -> Manifest:
    """An OCI image manifest; descriptors may be Blobs or ready-made dicts."""
    doc: dict[str, Any] = {"schemaVersion": 2}
    if with_media_type:
        doc["mediaType"] = OCI_MANIFEST
    if artifact_type:
        doc["artifactType"] = artifact_type
    doc["config"] = _descriptor(config)
    doc["layers"] = [_descriptor(layer) for layer in layers]
    if subject is not None:
        doc["subject"] = subject.descriptor()
    if annotations:
        doc["annotations"] = dict(annotations)
    doc.update(extra)
    return Manifest(dump(doc), OCI_MANIFEST, algorithm)


def image_index(
    manifests: Sequence[Manifest | Mapping[str, Any]],
    *,
    subject: Manifest | None = None,
    artifact_type: str | None = None,
    annotations: Mapping[str, str] | None = None,
    algorithm: str = "sha256",
    **extra: Any,
) -> Manifest:
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX}
    if artifact_type:
        doc["artifactType"] = artifact_type
    doc["manifests"] = [_descriptor(m) for m in manifests]
    if subject is not None:
        doc["subject"] = subject.descriptor()
    if annotations:
        doc["annotations"] = dict(annotations)
    doc.update(extra)
    return Manifest(dump(doc), OCI_INDEX, algorithm)


def _descriptor(item: Blob | Manifest | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(item, Blob | Manifest):
        return item.descriptor()
    return dict(item)


# --------------------------------------------------------------------------- A.1 fixtures

NUM_WORKFLOWS = 16  # the legacy suite's bit-flag bound: 16 configs and 16 manifests
REF_TYPE_A = "application/vnd.nhl.peanut.butter.bagel"
REF_TYPE_B = "application/vnd.nba.strawberry.jam.croissant"
REF_INDEX_TYPE = "application/vnd.food.stand"


def conformance_manifest(config: Blob, layer: Blob) -> Manifest:
    """manifests[i]: the config descriptor carries `data` and an unknown field."""
    config_descriptor = config.descriptor(
        data=base64.b64encode(config.data).decode(),
        newUnspecifiedField=base64.b64encode(b"hello world").decode(),
    )
    return image_manifest(config_descriptor, [layer])


@dataclass
class Referrers:
    """The referrers of A.1: five on manifests[4], C-layer on the never-pushed manifests[3]."""

    empty_json: Blob
    blob_a: Blob
    blob_b: Blob
    a_config: Manifest
    b_config: Manifest
    a_layer: Manifest
    b_layer: Manifest
    c_layer: Manifest
    index: Manifest

    @classmethod
    def build(cls, subject: Manifest, missing_subject: Manifest) -> Referrers:
        empty = empty_json_blob()
        blob_a = Blob(b"NHL Peanut Butter on my NHL bagel", REF_TYPE_A)
        blob_b = Blob(b"NBA Strawberry Jam on my NBA croissant", REF_TYPE_B)

        def config_artifact(blob: Blob, note: str) -> Manifest:
            return image_manifest(blob, [empty], subject=subject, annotations={ANNOTATION: note})

        def layer_artifact(blob: Blob, target: Manifest, note: str | None) -> Manifest:
            return image_manifest(
                empty,
                [blob],
                subject=target,
                artifact_type=blob.media_type,
                annotations={ANNOTATION: note} if note else None,
            )

        a_config = config_artifact(blob_a, "test config a")
        a_layer = layer_artifact(blob_a, subject, "test layer a")
        return cls(
            empty_json=empty,
            blob_a=blob_a,
            blob_b=blob_b,
            a_config=a_config,
            b_config=config_artifact(blob_b, "test config b"),
            a_layer=a_layer,
            b_layer=layer_artifact(blob_b, subject, "test layer b"),
            c_layer=layer_artifact(blob_b, missing_subject, None),
            index=image_index(
                [a_config, a_layer],
                subject=subject,
                artifact_type=REF_INDEX_TYPE,
                annotations={ANNOTATION: "test index"},
            ),
        )

    @property
    def on_subject(self) -> list[Manifest]:
        """The five referrers of manifests[4]."""
        return [self.a_config, self.a_layer, self.b_config, self.b_layer, self.index]


@dataclass
class Fixtures:
    """Everything of A.1, freshly randomised (each workflow module builds its own)."""

    configs: list[Blob]
    manifests: list[Manifest]
    layer: Blob
    empty_layer_manifest: Manifest
    blob_a: Blob
    blob_b: Blob
    referrers: Referrers

    @classmethod
    def build(cls) -> Fixtures:
        layer = conformance_layer()
        configs = [image_config() for _ in range(NUM_WORKFLOWS)]
        manifests = [conformance_manifest(config, layer) for config in configs]
        return cls(
            configs=configs,
            manifests=manifests,
            layer=layer,
            empty_layer_manifest=image_manifest(configs[1], [], with_media_type=False),
            blob_a=Blob(os.urandom(42)),
            blob_b=Blob(os.urandom(42)),
            referrers=Referrers.build(subject=manifests[4], missing_subject=manifests[3]),
        )


def split_blob_b(min_chunk: int | None) -> tuple[bytes, bytes, bytes]:
    """testBlobB and its two chunks; rebuilt bigger when the registry wants larger chunks."""
    size = 42
    if min_chunk and min_chunk > 22:
        size = 2 * min_chunk - 2
    data = os.urandom(size)
    cut = size // 2 + 1
    return data, data[:cut], data[cut:]


# --------------------------------------------------------------------------- error bodies


def error_codes(response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    return [str(e.get("code", "")) for e in errors if isinstance(e, dict)]


def describe(response: httpx.Response) -> str:
    """One line for assertion messages: request, status, interesting headers, body excerpt."""
    request = response.request
    headers = {
        k: v
        for k, v in response.headers.items()
        if k.lower()
        in {
            "location",
            "range",
            "content-range",
            "content-type",
            "content-length",
            "docker-content-digest",
            "oci-subject",
            "oci-tag",
            "oci-filters-applied",
            "oci-chunk-min-length",
            "link",
            "www-authenticate",
        }
    }
    body = response.content[:300] if request.method != "HEAD" else b""
    return f"{request.method} {request.url} -> {response.status_code} {headers} {body!r}"


# --------------------------------------------------------------------------- the client

_CHALLENGE_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_REPOSITORY_PATH = re.compile(r"^/v2/(.+?)/(?:blobs|manifests|tags|referrers)/")


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="..",service="..",scope=".."` -> ("bearer", {...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _CHALLENGE_PARAM.finditer(rest)
    }
    return scheme.lower(), params


class OCIClient:
    """A registry client for one base URL; anonymous when no username is given."""

    def __init__(
        self,
        base_url: str,
        username: str | None = None,
        password: str | None = None,
        *,
        timeout: float = 60.0,
    ) -> None:
        self.base_url = httpx.URL(base_url.rstrip("/") + "/")
        self._basic = httpx.BasicAuth(username, password or "") if username is not None else None
        self._credentials = (username, password or "") if username is not None else None
        self._http = httpx.Client(
            timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
        )
        self._tokens: dict[tuple[str, ...], str] = {}
        self._authorization: dict[str, str] = {}  # repository -> last header that worked

    @classmethod
    def for_server(cls, server: Any) -> OCIClient:
        """A client logged in as the admin of a `tests.support.conveyor_server` server."""
        return cls(server.url, server.admin_user, server.admin_password)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OCIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- raw requests

    def url(self, target: str | httpx.URL) -> httpx.URL:
        return self.base_url.join(str(target))

    def request(
        self,
        method: str,
        target: str | httpx.URL,
        *,
        params: Iterable[tuple[str, str]] | Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        authenticate: bool = True,
    ) -> httpx.Response:
        url = self.url(target)
        if params:
            items = list(params.items()) if isinstance(params, Mapping) else list(params)
            url = url.copy_merge_params(items)
        sent = dict(headers or {})
        repository = self._repository_of(url)
        # Like docker and containerd, a mount asks up front for pull on the `from` repository
        # (the token for the target alone would not let the registry read the source).
        mount_from = url.params.get("from") if "mount" in url.params else None
        extra_scopes = (f"repository:{mount_from}:pull",) if mount_from else ()
        if authenticate and repository in self._authorization and not mount_from:
            sent.setdefault("Authorization", self._authorization[repository])
        response = self._http.request(method, url, headers=sent, content=content)
        if response.status_code != 401 or not authenticate:
            return response
        authorization = self._answer(response, sent.get("Authorization"), extra_scopes)
        if authorization is None:
            return response
        sent["Authorization"] = authorization
        retried = self._http.request(method, url, headers=sent, content=content)
        if retried.status_code != 401 and not mount_from:
            self._authorization[repository] = authorization
        return retried

    def get(self, target: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        return self.request("GET", target, **kwargs)

    def head(self, target: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        return self.request("HEAD", target, **kwargs)

    def location(self, response: httpx.Response) -> httpx.URL:
        """The response's Location, resolved against the request URL (query kept)."""
        value = response.headers.get("Location")
        assert value, f"no Location header: {describe(response)}"
        return response.request.url.join(value)

    # ----------------------------------------------------------------- auth

    @staticmethod
    def _repository_of(url: httpx.URL) -> str:
        """The key for the remembered Authorization: the repository, else the path."""
        match = _REPOSITORY_PATH.match(url.path)
        return match.group(1) if match else url.path

    def _answer(
        self, response: httpx.Response, tried: str | None, extra_scopes: Sequence[str] = ()
    ) -> str | None:
        scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "basic":
            if self._basic is None:
                return None
            user, password = self._credentials or ("", "")
            raw = base64.b64encode(f"{user}:{password}".encode()).decode()
            return f"Basic {raw}"
        if scheme != "bearer" or "realm" not in params:
            return None
        scopes = tuple(params.get("scope", "").split())
        scopes += tuple(scope for scope in extra_scopes if scope not in scopes)
        token = self._tokens.get(scopes)
        if token is None or f"Bearer {token}" == tried:
            token = self.fetch_token(params["realm"], params.get("service"), scopes)
            if token is None:
                return None
            self._tokens[scopes] = token
        return f"Bearer {token}"

    def fetch_token(self, realm: str, service: str | None, scopes: Sequence[str]) -> str | None:
        query = [("service", service)] if service else []
        query += [("scope", scope) for scope in scopes]
        response = self._http.get(
            self.url(realm).copy_merge_params(query),
            auth=self._basic,
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            return None
        body = response.json()
        token = body.get("token") or body.get("access_token")
        return str(token) if token else None

    # ----------------------------------------------------------------- blobs

    def blob_path(self, name: str, digest: str) -> str:
        return f"/v2/{name}/blobs/{digest}"

    def head_blob(self, name: str, digest: str) -> httpx.Response:
        return self.head(self.blob_path(name, digest))

    def get_blob(
        self, name: str, digest: str, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        return self.get(self.blob_path(name, digest), headers=headers)

    def delete_blob(self, name: str, digest: str) -> httpx.Response:
        return self.request("DELETE", self.blob_path(name, digest))

    def start_upload(
        self,
        name: str,
        *,
        params: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST /v2/<name>/blobs/uploads/ (a body only for the single-POST upload)."""
        sent = {"Content-Type": OCTET_STREAM} if content is not None else {}
        sent.update(headers or {})
        return self.request(
            "POST", f"/v2/{name}/blobs/uploads/", params=params, content=content, headers=sent
        )

    def patch_chunk(
        self, url: httpx.URL, data: bytes, content_range: str | None = None
    ) -> httpx.Response:
        headers = {"Content-Type": OCTET_STREAM}
        if content_range is not None:
            headers["Content-Range"] = content_range
        return self.request("PATCH", url, content=data, headers=headers)

    def finish_upload(
        self,
        url: httpx.URL,
        digest: str,
        data: bytes = b"",
        content_range: str | None = None,
    ) -> httpx.Response:
        """PUT <location>?digest=, optionally carrying the last chunk."""
        headers = {"Content-Type": OCTET_STREAM}
        if content_range is not None:
            headers["Content-Range"] = content_range
        return self.request("PUT", url, params=[("digest", digest)], content=data, headers=headers)

    def upload_status(self, url: httpx.URL) -> httpx.Response:
        return self.get(url)

    def cancel_upload(self, url: httpx.URL) -> httpx.Response:
        return self.request("DELETE", url, headers={"Content-Length": "0"})

    def push_blob(self, name: str, blob: Blob | bytes, digest: str | None = None) -> httpx.Response:
        """POST then PUT ?digest= with the body; the PUT response (201 expected)."""
        data = blob.data if isinstance(blob, Blob) else blob
        if digest is None:
            digest = blob.digest if isinstance(blob, Blob) else digest_of(data)
        started = self.start_upload(name)
        if started.status_code != 202:
            return started
        return self.finish_upload(self.location(started), digest, data)

    def ensure_blob(self, name: str, blob: Blob) -> None:
        """Setup helper: push and fail loudly (with the exchange) unless the push succeeds."""
        response = self.push_blob(name, blob)
        assert response.status_code == 201, f"setup: blob push failed: {describe(response)}"

    # ----------------------------------------------------------------- manifests

    def manifest_path(self, name: str, reference: str) -> str:
        return f"/v2/{name}/manifests/{reference}"

    def put_manifest(
        self,
        name: str,
        reference: str,
        manifest: Manifest | bytes,
        media_type: str | None = None,
        *,
        params: Iterable[tuple[str, str]] | None = None,
    ) -> httpx.Response:
        data = manifest.data if isinstance(manifest, Manifest) else manifest
        if media_type is None:
            media_type = manifest.media_type if isinstance(manifest, Manifest) else OCI_MANIFEST
        return self.request(
            "PUT",
            self.manifest_path(name, reference),
            content=data,
            params=params,
            headers={"Content-Type": media_type},
        )

    def ensure_manifest(self, name: str, reference: str, manifest: Manifest) -> httpx.Response:
        response = self.put_manifest(name, reference, manifest)
        assert response.status_code == 201, f"setup: manifest push failed: {describe(response)}"
        return response

    def get_manifest(
        self, name: str, reference: str, accept: str = MANIFEST_ACCEPT
    ) -> httpx.Response:
        return self.get(self.manifest_path(name, reference), headers={"Accept": accept})

    def head_manifest(
        self, name: str, reference: str, accept: str = MANIFEST_ACCEPT
    ) -> httpx.Response:
        return self.head(self.manifest_path(name, reference), headers={"Accept": accept})

    def delete_manifest(self, name: str, reference: str) -> httpx.Response:
        return self.request("DELETE", self.manifest_path(name, reference))

    # ----------------------------------------------------------------- tags, referrers

    def list_tags(self, name: str, **params: str | int) -> httpx.Response:
        query = [(k, str(v)) for k, v in params.items()]
        return self.get(f"/v2/{name}/tags/list", params=query)

    def referrers(self, name: str, digest: str, artifact_type: str | None = None) -> httpx.Response:
        params = [("artifactType", artifact_type)] if artifact_type else None
        return self.get(f"/v2/{name}/referrers/{digest}", params=params)


def oci_tags(response: httpx.Response) -> list[str]:
    """Every `OCI-Tag` value, whether in several headers or comma-separated in one."""
    values = response.headers.get_list("OCI-Tag")
    return [tag.strip() for value in values for tag in value.split(",") if tag.strip()]


def next_link(response: httpx.Response) -> httpx.URL | None:
    """The `Link: <...>; rel="next"` target, resolved against the request URL."""
    for value in response.headers.get_list("Link"):
        for part in value.split(","):
            match = re.match(r"\s*<([^>]*)>\s*;(.*)", part)
            if match and re.search(r'rel\s*=\s*"?next"?', match.group(2)):
                return response.request.url.join(match.group(1))
    return None


# --------------------------------------------------------------------------- Part C data sets


@dataclass
class Push:
    """One manifest of a data set: pushed by digest (unless tag_param) and by every tag."""

    manifest: Manifest
    tags: tuple[str, ...] = ()
    by_digest: bool = True


@dataclass
class DataSet:
    name: str
    blobs: list[Blob] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    # subject digest -> the referrers the registry must list for it
    referrers: dict[str, list[Manifest]] = field(default_factory=dict)

    @property
    def repository(self) -> str:
        return f"conformance/data-{self.name}"

    @property
    def tags(self) -> list[str]:
        return [tag for push in self.pushes for tag in push.tags]

    def unique_blobs(self) -> list[Blob]:
        seen: dict[str, Blob] = {}
        for blob in self.blobs:
            seen.setdefault(blob.digest, blob)
        return list(seen.values())


def _image(
    *,
    layers: int = 1,
    compress: bool = True,
    algorithm: str = "sha256",
    platform: tuple[str, str] = ("amd64", "linux"),
    annotations: Mapping[str, str] | None = None,
) -> tuple[Manifest, list[Blob]]:
    config = image_config(architecture=platform[0], os=platform[1], algorithm=algorithm)
    blobs = [
        tar_layer({f"file{i}.txt": os.urandom(64)}, compress=compress, algorithm=algorithm)
        for i in range(layers)
    ]
    manifest = image_manifest(config, blobs, annotations=annotations, algorithm=algorithm)
    return manifest, [config, *blobs]


def _artifact(
    artifact_type: str,
    *,
    subject: Manifest | None = None,
    annotations: Mapping[str, str] | None = None,
    layer_type: str = "application/vnd.conformance.data",
) -> tuple[Manifest, list[Blob]]:
    empty = empty_json_blob()
    layer = Blob(os.urandom(128), layer_type)
    manifest = image_manifest(
        empty, [layer], subject=subject, artifact_type=artifact_type, annotations=annotations
    )
    return manifest, [empty, layer]


def ds_image() -> DataSet:
    manifest, blobs = _image(layers=2)
    return DataSet("image", blobs, [Push(manifest, ("image", "image-v1"))])


def ds_image_uncompressed() -> DataSet:
    manifest, blobs = _image(layers=2, compress=False)
    return DataSet("image-uncompressed", blobs, [Push(manifest, ("raw", "raw-v1"))])


def ds_large_manifest() -> DataSet:
    """About 3.9 MB: 390 annotations of 10 000 characters (under the 4 MiB limit)."""
    annotations = {f"org.example.large.{i:03d}": random_text(10_000) for i in range(390)}
    manifest, blobs = _image(annotations=annotations)
    return DataSet("large-manifest", blobs, [Push(manifest, ("large", "large-v1"))])


def ds_index() -> DataSet:
    amd64, amd64_blobs = _image(platform=("amd64", "linux"))
    arm64, arm64_blobs = _image(platform=("arm64", "linux"))
    index = image_index(
        [
            amd64.descriptor(platform={"architecture": "amd64", "os": "linux"}),
            arm64.descriptor(platform={"architecture": "arm64", "os": "linux", "variant": "v8"}),
        ]
    )
    return DataSet(
        "index",
        amd64_blobs + arm64_blobs,
        [Push(amd64), Push(arm64), Push(index, ("multi", "multi-v1"))],
    )


def ds_nested_index() -> DataSet:
    pushes: list[Push] = []
    blobs: list[Blob] = []
    children: list[Manifest] = []
    for arch in ("amd64", "arm64"):
        image, image_blobs = _image(platform=(arch, "linux"))
        child = image_index([image.descriptor(platform={"architecture": arch, "os": "linux"})])
        blobs += image_blobs
        pushes += [Push(image), Push(child)]
        children.append(child)
    top = image_index(children)
    return DataSet("nested-index", blobs, [*pushes, Push(top, ("nested", "nested-v1"))])


def ds_empty_index() -> DataSet:
    return DataSet("empty-index", [], [Push(image_index([]), ("empty", "empty-v1"))])


def ds_artifact() -> DataSet:
    manifest, blobs = _artifact("application/vnd.conformance.artifact")
    return DataSet("artifact", blobs, [Push(manifest, ("artifact", "artifact-v1"))])


def ds_artifact_index() -> DataSet:
    first, first_blobs = _artifact("application/vnd.conformance.artifact.one")
    second, second_blobs = _artifact("application/vnd.conformance.artifact.two")
    index = image_index([first, second], artifact_type="application/vnd.conformance.bundle")
    return DataSet(
        "artifact-index",
        first_blobs + second_blobs,
        [Push(first), Push(second), Push(index, ("bundle", "bundle-v1"))],
    )


def ds_artifact_without_layers() -> DataSet:
    """An artifact whose only layer is the empty JSON `{}`."""
    empty = empty_json_blob()
    manifest = image_manifest(empty, [empty], artifact_type="application/vnd.conformance.marker")
    return DataSet("artifact-no-layers", [empty], [Push(manifest, ("marker", "marker-v1"))])


def ds_artifacts_with_subject() -> DataSet:
    subject, subject_blobs = _image()
    sbom, sbom_blobs = _artifact(
        "application/vnd.conformance.sbom",
        subject=subject,
        annotations={ANNOTATION: "sbom", "org.example.kind": "sbom"},
    )
    sig, sig_blobs = _artifact(
        "application/vnd.conformance.signature",
        subject=subject,
        annotations={ANNOTATION: "signature", "org.example.kind": "signature"},
    )
    return DataSet(
        "artifacts-with-subject",
        subject_blobs + sbom_blobs + sig_blobs,
        [Push(subject, ("app", "app-v1")), Push(sbom, ("app-sbom",)), Push(sig, ("app-sig",))],
        referrers={subject.digest: [sbom, sig]},
    )


def ds_index_with_subject() -> DataSet:
    subject, subject_blobs = _image()
    child, child_blobs = _artifact("application/vnd.conformance.attestation")
    index = image_index(
        [child],
        subject=subject,
        artifact_type="application/vnd.conformance.attestations",
        annotations={ANNOTATION: "index with subject"},
    )
    return DataSet(
        "index-with-subject",
        subject_blobs + child_blobs,
        [Push(subject, ("app", "app-v1")), Push(child), Push(index, ("app-attestations",))],
        referrers={subject.digest: [index]},
    )


def ds_missing_subject() -> DataSet:
    never_pushed, _ = _image()
    artifact, blobs = _artifact(
        "application/vnd.conformance.orphan",
        subject=never_pushed,
        annotations={ANNOTATION: "missing subject"},
    )
    return DataSet(
        "missing-subject",
        blobs,
        [Push(artifact, ("orphan", "orphan-v1"))],
        referrers={never_pushed.digest: [artifact]},
    )


def ds_data_field() -> DataSet:
    config = image_config()
    layer = tar_layer({"data.txt": b"embedded"})
    manifest = image_manifest(
        config.descriptor(data=base64.b64encode(config.data).decode()),
        [layer.descriptor(data=base64.b64encode(layer.data).decode())],
    )
    return DataSet("data-field", [config, layer], [Push(manifest, ("data", "data-v1"))])


def ds_non_distributable() -> DataSet:
    """A foreign layer (urls, never pushed) next to a normal one."""
    config = image_config()
    layer = tar_layer({"local.txt": b"local"})
    foreign = {
        "mediaType": OCI_LAYER_NONDISTRIBUTABLE,
        "digest": random_digest(),
        "size": 123456,
        "urls": ["https://example.com/foreign/layer.tar.gz"],
    }
    manifest = image_manifest(config, [foreign, layer])
    return DataSet(
        "non-distributable", [config, layer], [Push(manifest, ("foreign", "foreign-v1"))]
    )


def ds_custom_fields() -> DataSet:
    config = image_config(**{"org.example.custom": {"nested": [1, 2, 3]}})
    layer = tar_layer({"custom.txt": b"custom"})
    manifest = image_manifest(
        config, [layer], **{"org.example.custom": "manifest field", "zzUnknown": 42}
    )
    index = image_index(
        [manifest.descriptor(**{"org.example.custom": True})],
        **{"org.example.custom": {"index": "field"}},
    )
    return DataSet(
        "custom-fields",
        [config, layer],
        [Push(manifest, ("custom-image",)), Push(index, ("custom", "custom-v1"))],
    )


def ds_no_layers() -> DataSet:
    config = image_config()
    manifest = image_manifest(config, [])
    return DataSet("no-layers", [config], [Push(manifest, ("nolayers", "nolayers-v1"))])


def ds_sha512() -> DataSet:
    """Everything digested with sha512; manifests are pushed by digest only."""
    image, blobs = _image(algorithm="sha512")
    index = image_index([image], algorithm="sha512")
    return DataSet("sha512", blobs, [Push(image), Push(index)])


def _docker_image(arch: str) -> tuple[Manifest, list[Blob]]:
    config = Blob(image_config(architecture=arch).data, DOCKER_CONFIG)
    layer = Blob(tar_layer({f"{arch}.txt": os.urandom(32)}).data, DOCKER_LAYER)
    doc = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": config.descriptor(),
        "layers": [layer.descriptor()],
    }
    return Manifest(dump(doc), DOCKER_MANIFEST), [config, layer]


def ds_docker_image() -> DataSet:
    """Docker image manifest v2 schema 2 (DESIGN §4.5)."""
    manifest, blobs = _docker_image("amd64")
    return DataSet("docker-image", blobs, [Push(manifest, ("docker", "docker-v1"))])


def ds_docker_manifest_list() -> DataSet:
    """Docker manifest list over two schema 2 images (DESIGN §4.5)."""
    amd64, amd64_blobs = _docker_image("amd64")
    arm64, arm64_blobs = _docker_image("arm64")
    doc = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST_LIST,
        "manifests": [
            amd64.descriptor(platform={"architecture": "amd64", "os": "linux"}),
            arm64.descriptor(platform={"architecture": "arm64", "os": "linux"}),
        ],
    }
    listing = Manifest(dump(doc), DOCKER_MANIFEST_LIST)
    return DataSet(
        "docker-manifest-list",
        amd64_blobs + arm64_blobs,
        [Push(amd64), Push(arm64), Push(listing, ("list", "list-v1"))],
    )


DATA_SETS = {
    "image": ds_image,
    "image-uncompressed": ds_image_uncompressed,
    "large-manifest": ds_large_manifest,
    "index": ds_index,
    "nested-index": ds_nested_index,
    "empty-index": ds_empty_index,
    "artifact": ds_artifact,
    "artifact-index": ds_artifact_index,
    "artifact-no-layers": ds_artifact_without_layers,
    "artifacts-with-subject": ds_artifacts_with_subject,
    "index-with-subject": ds_index_with_subject,
    "missing-subject": ds_missing_subject,
    "data-field": ds_data_field,
    "non-distributable": ds_non_distributable,
    "custom-fields": ds_custom_fields,
    "no-layers": ds_no_layers,
    "sha512": ds_sha512,
    "docker-image": ds_docker_image,
    "docker-manifest-list": ds_docker_manifest_list,
}
SUBJECT_DATA_SETS = ["artifacts-with-subject", "index-with-subject", "missing-subject"]


def chunks(data: bytes, size: int) -> Iterator[tuple[int, bytes]]:
    """(offset, piece) pairs of `size` bytes (the last one shorter)."""
    for offset in range(0, len(data), size):
        yield offset, data[offset : offset + size]


def content_range(offset: int, piece: bytes) -> str:
    return f"{offset}-{offset + len(piece) - 1}"
