"""The copy engine between real registries: Conveyor (token auth), CNCF distribution (htpasswd)
and a second Conveyor; a real multi-arch busybox index pushed with `skopeo copy --all`, and
compared with `skopeo inspect --raw` on both sides. Failures are provoked with the flaky proxy
(tests/support/flaky_proxy.py) in front of the destination."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx
import psutil
import pytest

from conveyor.client import Credentials, RegistryClient
from conveyor.oci.digest import Digest
from conveyor.sync.backfill import backfill, backfill_namespace
from conveyor.sync.copy import copy_image
from conveyor.sync.result import CopyProgress, CopyResult
from tests.support.conveyor_server import ConveyorServer
from tests.support.distribution import DistributionRegistry
from tests.support.flaky_proxy import FlakyProxy, proxy_pool, wait_until
from tests.support.sync_content import (
    OCI_CONFIG,
    OCI_LAYER,
    OCI_MANIFEST,
    RandomImage,
    get_manifest,
    multiarch_layout,
    push_blob,
    push_file_blob,
    push_image,
    push_manifest,
    registry_raw,
    sha256,
    skopeo_copy_all,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(300)]
MIB = 1024 * 1024
ProxyMaker = Callable[[str], FlakyProxy]


@dataclass(frozen=True)
class Peer:
    name: str
    url: str
    host: str
    auth: tuple[str, str] | None

    def client(self, url: str | None = None, **options: Any) -> RegistryClient:
        credentials = Credentials(*self.auth) if self.auth else None
        return RegistryClient(url or self.url, credentials=credentials, **options)

    def raw(self, repository: str, reference: str) -> bytes:
        return registry_raw(self.host, repository, reference, self.auth)


def conveyor_peer(server: ConveyorServer, name: str = "conveyor") -> Peer:
    return Peer(name, server.url, server.host, (server.admin_user, server.admin_password))


def distribution_peer(registry: DistributionRegistry) -> Peer:
    return Peer("distribution", registry.url, registry.host, registry.auth)


@pytest.fixture
def proxies() -> Iterator[ProxyMaker]:
    with proxy_pool() as make:
        yield make


@pytest.fixture
def peers(
    request: pytest.FixtureRequest,
    conveyor_server: ConveyorServer,
    distribution_registry_htpasswd: DistributionRegistry,
) -> dict[str, Peer]:
    """conveyor and distribution (module-wide), and conveyor2 (a second server) when asked."""
    found = {
        "conveyor": conveyor_peer(conveyor_server),
        "distribution": distribution_peer(distribution_registry_htpasswd),
    }
    if "conveyor2" in request.node.name:
        factory = request.getfixturevalue("conveyor_factory")
        found["conveyor2"] = conveyor_peer(factory(), "conveyor2")
    return found


@pytest.fixture(scope="module")
def multiarch() -> Path:
    return multiarch_layout()


def assert_same_image(source: Peer, destination: Peer, repo: str, dest_repo: str, tag: str) -> None:
    raw = source.raw(repo, tag)
    assert destination.raw(dest_repo, tag) == raw, "skopeo inspect --raw differs"
    doc = json.loads(raw)
    for child in doc.get("manifests", []):
        assert destination.raw(dest_repo, child["digest"]) == source.raw(repo, child["digest"])


# ------------------------------------------------------------------ a multi-arch index, by digest


@pytest.mark.parametrize(
    ("source_name", "dest_name"),
    [("conveyor", "distribution"), ("conveyor", "conveyor2"), ("distribution", "conveyor")],
)
async def test_multiarch_index_arrives_with_identical_digests(
    peers: dict[str, Peer], multiarch: Path, source_name: str, dest_name: str
) -> None:
    source, destination = peers[source_name], peers[dest_name]
    repo, dest_repo = "e2e/busybox", f"mirror-{source_name}/busybox"
    skopeo_copy_all(multiarch, source.host, repo, "1", source.auth)
    seen: list[CopyProgress] = []

    async with source.client() as src, destination.client() as dst:
        with anyio.fail_after(120):
            first = await copy_image(
                src, repo, "1", dst, dest_repo, "1", overwrite=False, progress=seen.append
            )
        assert first.ok, first.error
        assert first.tag_written
        assert (first.blobs_copied, first.blobs_skipped, first.blobs_mounted) == (4, 0, 0)
        assert first.manifests_copied == 3, "the index and its two children"
        assert first.bytes_copied > 1_000_000 and first.bytes_skipped == 0
        assert seen[-1].blobs_done == seen[-1].blobs_total == 4
        assert seen[-1].bytes_done == seen[-1].bytes_total == first.bytes_copied

        again = await copy_image(src, repo, "1", dst, dest_repo, "1", overwrite=False)
        assert again.ok and again.up_to_date and not again.tag_written
        assert (again.blobs_skipped, again.bytes_skipped) == (4, first.bytes_copied)
        assert again.manifests_skipped == 3

        other_tag = await copy_image(src, repo, "1", dst, dest_repo, "2", overwrite=False)
        assert other_tag.ok and other_tag.tag_written
        assert (other_tag.blobs_copied, other_tag.blobs_skipped) == (0, 4)
        assert (other_tag.manifests_skipped, other_tag.manifests_copied) == (2, 1)
        assert other_tag.bytes_copied == 0

    assert_same_image(source, destination, repo, dest_repo, "1")
    assert destination.raw(dest_repo, "2") == source.raw(repo, "1")
    assert first.to_json()["errorCode"] is None


@pytest.mark.parametrize("name", ["conveyor", "distribution"])
async def test_same_registry_copy_mounts_and_moves_no_bytes(
    peers: dict[str, Peer], multiarch: Path, name: str
) -> None:
    peer = peers[name]
    skopeo_copy_all(multiarch, peer.host, "e2e/busybox", "1", peer.auth)
    async with peer.client() as src, peer.client() as dst:
        result = await copy_image(src, "e2e/busybox", "1", dst, "e2e/mounted", "1", overwrite=False)
    assert result.ok, result.error
    assert result.bytes_copied == 0 and result.blobs_copied == 0
    assert result.blobs_mounted == 4 and result.bytes_mounted > 1_000_000
    assert_same_image(peer, peer, "e2e/busybox", "e2e/mounted", "1")


async def test_tag_conflict_unless_overwrite(peers: dict[str, Peer]) -> None:
    source, destination = peers["conveyor"], peers["distribution"]
    old, new = RandomImage.make(1000), RandomImage.make(1000)
    push_image(destination.url, destination.auth, "conflict/app", "v1", old)
    push_image(source.url, source.auth, "conflict/app", "v1", new)
    async with source.client() as src, destination.client() as dst:
        refused = await copy_image(
            src, "conflict/app", "v1", dst, "conflict/app", "v1", overwrite=False
        )
        assert refused.error_code == "TAG_CONFLICT"
        assert refused.blobs_copied == 0 and not refused.tag_written
        assert refused.to_json()["errorCode"] == "TAG_CONFLICT"
        kept = await dst.head_manifest("conflict/app", "v1")
        assert kept is not None and str(kept.digest) == old.digest
        assert not await dst.blob_exists("conflict/app", Digest.parse(sha256(new.layers[0])))

        moved = await copy_image(
            src, "conflict/app", "v1", dst, "conflict/app", "v1", overwrite=True
        )
        assert moved.ok and moved.tag_written
        now = await dst.head_manifest("conflict/app", "v1")
        assert now is not None and str(now.digest) == new.digest


async def test_missing_source_and_refused_destination_are_recorded(peers: dict[str, Peer]) -> None:
    source, destination = peers["conveyor"], peers["distribution"]
    async with source.client() as src, destination.client() as dst:
        missing = await copy_image(src, "nothing/here", "v1", dst, "x/y", "v1", overwrite=False)
        assert missing.error_code == "NOT_FOUND"
    push_image(source.url, source.auth, "auth/app", "v1", RandomImage.make(100))
    wrong = Peer("distribution", destination.url, destination.host, ("tester", "wrong"))
    async with source.client() as src, wrong.client() as dst:
        refused = await copy_image(src, "auth/app", "v1", dst, "auth/app", "v1", overwrite=False)
    assert refused.error_code == "AUTH_ERROR"


# ------------------------------------------------------------------ transient failures


async def test_destination_answering_429_is_honoured(
    peers: dict[str, Peer], proxies: ProxyMaker
) -> None:
    source, destination = peers["conveyor"], peers["distribution"]
    image = RandomImage.make(50_000, 60_000)
    push_image(source.url, source.auth, "flaky/throttled", "v1", image)
    proxy = proxies(destination.url)
    proxy.throttle(3, retry_after="1")
    async with source.client() as src, destination.client(proxy.url) as dst:
        started = time.monotonic()
        with anyio.fail_after(60):
            result = await copy_image(
                src, "flaky/throttled", "v1", dst, "flaky/throttled", "v1", overwrite=False
            )
        elapsed = time.monotonic() - started
    assert result.ok, result.error
    statuses = [r.status for r in proxy.requests]
    assert statuses.count(429) == 3
    assert elapsed >= 1.0, "Retry-After: 1 was waited for"
    assert (
        get_manifest(destination.url, destination.auth, "flaky/throttled", "v1").content
        == image.manifest
    )


async def test_429_to_a_streamed_upload_starts_the_blob_over_after_the_wait(
    peers: dict[str, Peer], proxies: ProxyMaker
) -> None:
    """A streamed body cannot be sent twice by the client: the engine sends the blob again,
    after the Retry-After the registry asked for."""
    source, destination = peers["conveyor"], peers["distribution"]
    image = RandomImage.make(300_000)
    push_image(source.url, source.auth, "flaky/put429", "v1", image)
    proxy = proxies(destination.url)
    proxy.throttle(2, retry_after="1", match=lambda m, p: m == "PUT" and "/blobs/uploads/" in p)
    async with source.client() as src, destination.client(proxy.url) as dst:
        started = time.monotonic()
        with anyio.fail_after(60):
            result = await copy_image(
                src, "flaky/put429", "v1", dst, "flaky/put429", "v1", overwrite=False
            )
        elapsed = time.monotonic() - started
    assert result.ok, result.error
    assert [r.status for r in proxy.requests].count(429) == 2
    assert elapsed >= 1.0
    assert result.blobs_copied == 2


async def test_destination_down_during_the_copy_is_retried(
    peers: dict[str, Peer], proxies: ProxyMaker
) -> None:
    source, destination = peers["conveyor"], peers["distribution"]
    image = RandomImage.make(*(2 * MIB for _ in range(6)))
    push_image(source.url, source.auth, "flaky/down", "v1", image)
    proxy = proxies(destination.url)
    result: CopyResult | None = None

    async def copy() -> None:
        nonlocal result
        async with source.client() as src, destination.client(proxy.url) as dst:
            result = await copy_image(
                src, "flaky/down", "v1", dst, "flaky/down", "v1", overwrite=False, concurrency=2
            )

    with anyio.fail_after(120):
        async with anyio.create_task_group() as group:
            group.start_soon(copy)
            await anyio.to_thread.run_sync(
                lambda: wait_until(lambda: any(r.method == "PUT" for r in proxy.requests), 30)
            )
            proxy.refuse_for(2.0)  # down in the middle: open connections dropped, new refused
    assert result is not None and result.ok, result and result.error
    assert result.blobs_copied + result.blobs_skipped == 7
    assert (
        get_manifest(destination.url, destination.auth, "flaky/down", "v1").content
        == image.manifest
    )


async def test_lost_upload_session_sends_the_blob_again(
    peers: dict[str, Peer], proxies: ProxyMaker
) -> None:
    """distribution refuses a stale upload location after a lost PATCH answer: the engine starts
    that blob over in a new session and the copy succeeds."""
    source, destination = peers["conveyor"], peers["distribution"]
    image = RandomImage.make(20 * MIB)
    push_image(source.url, source.auth, "flaky/lost", "v1", image)
    proxy = proxies(destination.url)
    proxy.cut(1, after=None, match=lambda method, path: method == "PATCH")
    async with source.client() as src, destination.client(proxy.url) as dst:
        with anyio.fail_after(120):
            result = await copy_image(
                src, "flaky/lost", "v1", dst, "flaky/lost", "v1", overwrite=False
            )
    assert result.ok, result.error
    assert result.bytes_copied == sum(len(b) for b in image.blobs.values())
    posts = [r for r in proxy.requests if r.method == "POST" and r.status == 202]
    assert len(posts) == 3, "config, the layer, and the layer again"


# ------------------------------------------------------------------ memory


class PeakRss:
    """Samples this process's RSS in a thread while a block runs."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join(5)

    @property
    def growth_mib(self) -> float:
        return float(self.peak - self.baseline) / MIB


async def test_256_mib_blob_copies_with_flat_memory(
    peers: dict[str, Peer], distribution_registry: DistributionRegistry, tmp_path: Path
) -> None:
    source = distribution_peer(distribution_registry)  # the open one: no credentials
    destination = peers["conveyor"]
    big = tmp_path / "big.bin"
    with open(big, "wb") as handle:
        for _ in range(256 // 16):
            handle.write(os.urandom(16 * MIB))
    layer = push_file_blob(source.url, None, "big/blob", big)
    big.unlink()
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {}}).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer, "size": 256 * MIB}],
        }
    ).encode()
    with httpx.Client(base_url=source.url, timeout=60) as http:
        push_blob(http, "big/blob", config)
        push_manifest(http, "big/blob", "v1", manifest, OCI_MANIFEST)

    async with source.client() as src, destination.client() as dst:
        with PeakRss() as rss, anyio.fail_after(240):
            result = await copy_image(src, "big/blob", "v1", dst, "big/blob", "v1", overwrite=False)
        size = await dst.blob_size("big/blob", Digest.parse(layer))
    assert result.ok, result.error
    assert result.bytes_copied == 256 * MIB + len(config)
    assert size == 256 * MIB
    assert rss.growth_mib < 100, f"RSS grew by {rss.growth_mib:.0f} MiB while copying 256 MiB"


# ------------------------------------------------------------------ backfill


async def test_backfill_of_a_namespace_copies_the_selected_tags_once(
    peers: dict[str, Peer], proxies: ProxyMaker
) -> None:
    source, destination = peers["conveyor"], peers["distribution"]
    base = os.urandom(200_000)
    tags = ["v1.0", "v1.1", "v2.0", "latest", "dev"]
    expected: dict[str, dict[str, str]] = {}
    for number in range(20):
        repo = f"bf/app{number:02d}"
        for tag in tags:
            image = RandomImage.make(3000, shared=(base,))
            push_image(source.url, source.auth, repo, tag, image)
            if tag.startswith("v1."):
                expected.setdefault(f"mirror/app{number:02d}", {})[tag] = image.digest
    proxy = proxies(destination.url)

    async with source.client() as src, destination.client(proxy.url) as dst:
        with anyio.fail_after(180):
            first = await backfill_namespace(src, "bf", dst, "mirror", ".*", r"v1\.\d+")
        assert len(first) == 20 and all(report.ok for report in first)
        assert all(report.tags_listed == 5 for report in first)
        results = [result for report in first for result in report.results]
        assert len(results) == 40 and all(r.tag_written for r in results)
        # 40 configs and 40 layers of their own, and the base layer: it crosses once, is
        # mounted into each other repository, and found by the second tag of each.
        assert sum(r.blobs_copied for r in results) == 81
        assert sum(r.blobs_mounted for r in results) == 19
        assert sum(r.blobs_skipped for r in results) == 20
        listed = {repo for repo in await dst.list_repositories() if repo.startswith("mirror/")}
        assert listed == set(expected)
        for repo, wanted in expected.items():
            assert sorted(await dst.list_tags(repo)) == sorted(wanted)
            for tag, digest in wanted.items():
                info = await dst.head_manifest(repo, tag)
                assert info is not None and str(info.digest) == digest

        proxy.clear()
        started = time.monotonic()
        with anyio.fail_after(60):
            second = await backfill_namespace(src, "bf", dst, "mirror", ".*", r"v1\.\d+")
        seconds = time.monotonic() - started
    again = [result for report in second for result in report.results]
    assert len(again) == 40 and all(r.ok and r.up_to_date for r in again)
    assert sum(r.bytes_copied for r in again) == 0
    assert all(report.copied == [] for report in second)
    assert {r.method for r in proxy.requests} <= {"GET", "HEAD"}, "a re-run writes nothing"
    assert seconds < 15, f"a no-change backfill took {seconds:.1f}s"


async def test_backfill_of_one_repository_with_a_filter_that_times_out(
    peers: dict[str, Peer],
) -> None:
    source, destination = peers["conveyor"], peers["distribution"]
    slow_tag = "a" * 60 + "-"  # (a|a)* backtracks for ages before failing on the dash
    for tag in ("aaa", slow_tag):
        push_image(source.url, source.auth, "bf/single", tag, RandomImage.make(100))
    async with source.client() as src, destination.client() as dst:
        report = await backfill(src, "bf/single", dst, "bf/single", r"(a|a)*")
    assert report.ok
    assert [r.source.rsplit(":", 1)[1] for r in report.results] == ["aaa"]
    assert report.timed_out == [slow_tag]
