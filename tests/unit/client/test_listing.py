"""Tags with pagination, the catalog, and referrers (API, or the tag-schema fallback)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from conveyor.client import Credentials, NotFoundError, RegistryClient
from conveyor.oci import mediatypes
from conveyor.oci.digest import Digest
from tests.support.conveyor_server import ConveyorServer
from tests.support.distribution import DistributionRegistry
from tests.support.flaky_proxy import FlakyProxy
from tests.support.sync_content import (
    OCI_INDEX,
    OCI_MANIFEST,
    RandomImage,
    push_blob,
    push_image,
    push_manifest,
    sha256,
)
from tests.unit.client.conftest import Target

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
ProxyMaker = Callable[[str], FlakyProxy]
ARTIFACT_TYPE = "application/vnd.example.sbom.v1+json"


def referrer_of(subject: RandomImage, note: str) -> bytes:
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": {"mediaType": mediatypes.OCI_EMPTY, "digest": sha256(b"{}"), "size": 2},
        "layers": [{"mediaType": mediatypes.OCI_EMPTY, "digest": sha256(b"{}"), "size": 2}],
        "subject": {
            "mediaType": OCI_MANIFEST,
            "digest": subject.digest,
            "size": len(subject.manifest),
        },
        "annotations": {"note": note},
    }
    return json.dumps(doc).encode()


async def test_tags_are_listed_across_pages(
    conveyor_server: ConveyorServer, flaky_proxy: ProxyMaker
) -> None:
    auth = (conveyor_server.admin_user, conveyor_server.admin_password)
    image = RandomImage.make(100)
    tags = [f"t{i:02d}" for i in range(7)]
    for tag in tags:
        push_image(conveyor_server.url, auth, "listing/paged", tag, image)
    proxy = flaky_proxy(conveyor_server.url)
    target = Target("conveyor", proxy.url, proxy.host, auth)
    async with RegistryClient(proxy.url, credentials=target.credentials) as registry:
        assert sorted(await registry.list_tags("listing/paged", page_size=2)) == tags
        assert sorted(await registry.list_tags("listing/paged")) == tags
        repositories = await registry.list_repositories(page_size=1)
    assert "listing/paged" in repositories
    pages = [r for r in proxy.requests if "/tags/list" in r.path and r.status == 200]
    assert len(pages) == 4 + 1, "7 tags by 2 are 4 pages, then one unpaged listing"
    assert "last=" in pages[1].path


async def test_listing_an_unknown_repository_is_not_found(target: Target) -> None:
    async with RegistryClient(target.url, credentials=target.credentials) as registry:
        with pytest.raises(NotFoundError) as caught:
            await registry.list_tags("listing/never")
    assert caught.value.code == "NOT_FOUND"


async def test_referrers_api_of_conveyor(conveyor_server: ConveyorServer) -> None:
    auth = (conveyor_server.admin_user, conveyor_server.admin_password)
    subject = RandomImage.make(100)
    push_image(conveyor_server.url, auth, "listing/refs", "v1", subject)
    with httpx.Client(base_url=conveyor_server.url, auth=auth, timeout=60) as http:
        push_blob(http, "listing/refs", b"{}")
        bodies = [referrer_of(subject, note) for note in ("a", "b")]
        for body in bodies:
            push_manifest(http, "listing/refs", sha256(body), body, OCI_MANIFEST)
    async with RegistryClient(conveyor_server.url, credentials=Credentials(*auth)) as registry:
        found = await registry.list_referrers("listing/refs", Digest.parse(subject.digest))
        filtered = await registry.list_referrers(
            "listing/refs", Digest.parse(subject.digest), ARTIFACT_TYPE
        )
        none = await registry.list_referrers(
            "listing/refs", Digest.parse(subject.digest), "application/other"
        )
    assert sorted(str(d.digest) for d in found) == sorted(sha256(b) for b in bodies)
    assert all(d.artifact_type == ARTIFACT_TYPE for d in found)
    assert len(filtered) == 2 and none == []


async def test_referrers_fall_back_to_the_tag_schema(
    distribution_registry: DistributionRegistry,
) -> None:
    """distribution 2.8 has no referrers API: the client reads the `sha256-<hex>` tag."""
    url = distribution_registry.url
    subject = RandomImage.make(100)
    push_image(url, None, "listing/refs", "v1", subject)
    body = referrer_of(subject, "fallback")
    descriptor = {
        "mediaType": OCI_MANIFEST,
        "digest": sha256(body),
        "size": len(body),
        "artifactType": ARTIFACT_TYPE,
    }
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor]})
    with httpx.Client(base_url=url, timeout=60) as http:
        push_blob(http, "listing/refs", b"{}")
        push_manifest(http, "listing/refs", sha256(body), body, OCI_MANIFEST)
        tag = subject.digest.replace(":", "-")
        push_manifest(http, "listing/refs", tag, index.encode(), OCI_INDEX)
    async with RegistryClient(url) as registry:
        found = await registry.list_referrers("listing/refs", Digest.parse(subject.digest))
        other = RandomImage.make(10)
        nothing = await registry.list_referrers("listing/refs", Digest.parse(other.digest))
    assert [str(d.digest) for d in found] == [sha256(body)]
    assert nothing == []
