"""Layers applied in order: whiteouts, opaque directories, symlinks, compression by magic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conveyor.oci.digest import Digest
from conveyor.oci.manifest import Descriptor
from conveyor.registry.paths import blob_path
from conveyor.scan.errors import ScanError
from conveyor.scan.inventory.collect import take_inventory
from conveyor.scan.unpack.image import read_image, read_tar_layers
from conveyor.storage.filesystem import FilesystemStore
from tests.support.scan_images import (
    BULLSEYE_OS_RELEASE,
    LayerBuilder,
    gz,
    sha256,
    write_layers,
    zst,
)

STATUS_A = """Package: base-files
Status: install ok installed
Version: 11.1+deb11u5
Architecture: amd64

Package: libssl1.1
Status: install ok installed
Source: openssl
Version: 1.1.1n-0+deb11u3
Architecture: amd64
"""

STATUS_B = (
    STATUS_A.replace("1.1.1n-0+deb11u3", "1.1.1n-0+deb11u4")
    + """
Package: zlib1g
Status: install ok installed
Source: zlib (1:1.2.11.dfsg-2+deb11u1)
Version: 1:1.2.11.dfsg-2+deb11u2
Architecture: amd64
"""
)


def _meta(name: str, version: str) -> str:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nbody\n"


SITE = "usr/lib/python3/dist-packages"


def test_layers_apply_in_order_and_packages_keep_the_layer_that_added_them(
    tmp_path: Path,
) -> None:
    base = (
        LayerBuilder()
        .file("usr/lib/os-release", BULLSEYE_OS_RELEASE)
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file("var/lib/dpkg/status", STATUS_A)
        .file(f"{SITE}/six-1.16.0.dist-info/METADATA", _meta("six", "1.16.0"))
        .bytes()
    )
    upgrade = LayerBuilder().file("var/lib/dpkg/status", STATUS_B).bytes()
    layers = write_layers(tmp_path, [gz(base), zst(upgrade)])
    with read_tar_layers(layers) as tree:
        inventory = take_inventory(tree)
    assert inventory.distro is not None and inventory.distro.release == "bullseye"
    by_name = {p.name: p for p in inventory.packages}
    assert by_name["base-files"].layer == layers[0][0]  # unchanged since the first layer
    assert by_name["libssl1.1"].layer == layers[1][0]  # upgraded in the second
    assert by_name["libssl1.1"].version == "1.1.1n-0+deb11u4"
    assert by_name["libssl1.1"].source_name == "openssl"
    assert by_name["libssl1.1"].source_version == "1.1.1n-0+deb11u4"
    assert by_name["zlib1g"].source_version == "1:1.2.11.dfsg-2+deb11u1"
    assert by_name["six"].layer == layers[0][0]


def test_whiteouts_delete_files_and_opaque_directories_hide_lower_content(
    tmp_path: Path,
) -> None:
    lower = (
        LayerBuilder()
        .file(f"{SITE}/six-1.16.0.dist-info/METADATA", _meta("six", "1.16.0"))
        .file(f"{SITE}/idna-3.4.dist-info/METADATA", _meta("idna", "3.4"))
        .file("app/node_modules/left-pad/package.json", '{"name":"left-pad","version":"1.0.0"}')
        .file("app/node_modules/@babel/core/package.json", '{"name":"@babel/core","version":"7"}')
        .bytes()
    )
    upper = (
        LayerBuilder()
        .file(f"{SITE}/.wh.six-1.16.0.dist-info", b"")  # whiteout of a whole directory
        .file("app/node_modules/.wh..wh..opq", b"")  # opaque: the lower modules go
        .file("app/node_modules/kept/package.json", '{"name":"kept","version":"2.0.0"}')
        .bytes()
    )
    with read_tar_layers(write_layers(tmp_path, [lower, upper])) as tree:
        names = {(p.name, p.version) for p in take_inventory(tree).packages}
    assert names == {("idna", "3.4"), ("kept", "2.0.0")}


def test_a_file_replacing_a_directory_drops_what_was_under_it(tmp_path: Path) -> None:
    lower = LayerBuilder().file("opt/m/node_modules/a/package.json", '{"name":"a","version":"1"}')
    upper = LayerBuilder().file("opt/m", "now a file")
    with read_tar_layers(write_layers(tmp_path, [lower.bytes(), upper.bytes()])) as tree:
        assert take_inventory(tree).packages == []


def test_a_whiteout_in_the_same_layer_only_hides_lower_layers(tmp_path: Path) -> None:
    layer = (
        LayerBuilder()
        .file("x/node_modules/b/package.json", '{"name":"b","version":"1.0.0"}')
        .file("x/node_modules/.wh..wh..opq", b"")
        .bytes()
    )
    with read_tar_layers(write_layers(tmp_path, [layer])) as tree:
        assert [p.name for p in take_inventory(tree).packages] == ["b"]


def test_symlinked_directories_resolve_inside_the_image(tmp_path: Path) -> None:
    layer = (
        LayerBuilder()
        .symlink("etc", "/private/etc")
        .symlink("private/etc/os-release", "../../usr/lib/../../../../usr/lib/os-release")
        .file("usr/lib/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")
        .bytes()
    )
    with read_tar_layers(write_layers(tmp_path, [layer])) as tree:
        inventory = take_inventory(tree)
    assert inventory.distro is not None and inventory.distro.release == "v3.19"


def test_a_symlink_loop_is_not_followed_forever(tmp_path: Path) -> None:
    layer = LayerBuilder().symlink("etc/os-release", "loop").symlink("etc/loop", "os-release")
    with read_tar_layers(write_layers(tmp_path, [layer.bytes()])) as tree:
        assert take_inventory(tree).distro is None


@pytest.mark.parametrize("compress", [lambda b: b, gz, zst], ids=["tar", "gzip", "zstd"])
def test_compression_is_detected_by_magic_bytes(tmp_path: Path, compress: object) -> None:
    layer = LayerBuilder().file("lib/apk/db/installed", "P:musl\nV:1.2.4-r2\no:musl\n\n").bytes()
    with read_tar_layers(write_layers(tmp_path, [compress(layer)])) as tree:  # type: ignore[operator]
        assert [(p.name, p.type) for p in take_inventory(tree).packages] == [("musl", "apk")]


def test_the_temporary_directory_is_removed(tmp_path: Path) -> None:
    layer = LayerBuilder().file("var/lib/dpkg/status", STATUS_A).bytes()
    tree = read_tar_layers(write_layers(tmp_path / "layers", [layer]))
    root = tree.root
    assert any(root.iterdir())
    tree.close()
    assert not root.exists()


class _RemoteLikeStore(FilesystemStore):
    """A store that cannot hand out file paths (as S3 cannot): layers stream through it."""

    def local_path(self, path: str) -> str | None:
        return None


def test_layers_stream_from_a_store_without_local_files(tmp_path: Path) -> None:
    layer = gz(LayerBuilder().file("var/lib/dpkg/status", STATUS_A).bytes())
    digest = Digest.parse(sha256(layer))

    async def main() -> list[str]:
        store = _RemoteLikeStore(tmp_path / "blobs")

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(layer), 1000):
                yield layer[start : start + 1000]

        await store.write(blob_path(digest), chunks())
        descriptor = Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", digest, len(layer))
        with await read_image(store, [descriptor]) as tree:
            return [p.name for p in take_inventory(tree).packages]

    assert asyncio.run(main()) == ["base-files", "libssl1.1"]


def test_a_layer_missing_from_the_store_is_a_clear_error(tmp_path: Path) -> None:
    digest = Digest.parse(sha256(b"never stored"))
    descriptor = Descriptor("application/vnd.oci.image.layer.v1.tar", digest, 12)

    async def main() -> None:
        await read_image(_RemoteLikeStore(tmp_path / "blobs"), [descriptor])

    with pytest.raises(ScanError, match="not in the blob store"):
        asyncio.run(main())
