"""Hostile layers (DESIGN §6): each gets a clear error or a safe skip, nothing is written outside
the scan's private temporary directory, and memory stays bounded."""

from __future__ import annotations

import gzip
import os
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

from conveyor.scan.errors import LayerCorrupt, LayerTooLarge
from conveyor.scan.inventory.collect import take_inventory
from conveyor.scan.limits import MiB, ScanLimits
from conveyor.scan.model import Inventory
from conveyor.scan.unpack.image import read_tar_layers
from tests.support.scan_images import LayerBuilder, gz, gzip_bomb, write_layers, zst

STATUS = "Package: tzdata\nStatus: install ok installed\nVersion: 2021a-1\n\n"


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """The parent of the scan's temporary directory: it must be unchanged after a scan."""
    path = tmp_path / "scratch"
    path.mkdir()
    (path / "marker").write_text("before")
    yield path


def _scan(tmp_path: Path, scratch: Path, layers: list[bytes], **limits: int) -> Inventory:
    before = _listing(scratch)
    files = write_layers(tmp_path / "layers", layers)
    with read_tar_layers(files, ScanLimits(temp_dir=str(scratch), **limits)) as tree:
        inventory = take_inventory(tree)
    assert _listing(scratch) == before
    return inventory


def test_dot_dot_and_absolute_member_names_are_skipped(tmp_path: Path, scratch: Path) -> None:
    target = tmp_path / "escaped.txt"
    depth = "../" * (len(scratch.parts) + 2)
    layer = (
        LayerBuilder()
        .file(f"{depth}{str(target).lstrip('/')}", "pwned")
        .file("var/lib/../../../../var/lib/dpkg/status", "Package: evil\nVersion: 1\n")
        .file(str(tmp_path / "absolute.txt"), "pwned")
        .file("/var/lib/dpkg/status", "Package: evil\nVersion: 1\n")
        .file("var/lib/dpkg/status", STATUS)
        .bytes()
    )
    inventory = _scan(tmp_path, scratch, [layer])
    assert [p.name for p in inventory.packages] == ["tzdata"]
    assert not target.exists() and not (tmp_path / "absolute.txt").exists()
    assert sum("unsafe member name" in w for w in inventory.warnings) == 4


def test_absolute_and_escaping_symlinks_stay_inside_the_image(
    tmp_path: Path, scratch: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "os-release").write_text("ID=host-secret\n")
    layer = (
        LayerBuilder()
        .symlink("etc/os-release", str(outside / "os-release"))  # absolute: inside the image
        .symlink("escape", "../../../../../../" + str(outside).lstrip("/"))
        .file("escape/node_modules/x/package.json", '{"name":"x","version":"1.0.0"}')
        .symlink("usr/lib/os-release", "/" + "../" * 20 + str(outside / "os-release"))
        .bytes()
    )
    inventory = _scan(tmp_path, scratch, [layer])
    assert inventory.distro is None  # never the host's file
    assert [p.name for p in inventory.packages] == ["x"]  # read from the layer, not the host
    assert sorted(p.name for p in outside.iterdir()) == ["os-release"]
    assert not os.path.islink(outside / "x")


def test_hard_links_out_of_the_tree_are_refused(tmp_path: Path, scratch: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("Package: host\nVersion: 9\n")
    layer = (
        LayerBuilder()
        .hardlink("var/lib/dpkg/status", "../../../" * 10 + str(secret).lstrip("/"))
        .hardlink("lib/apk/db/installed", str(secret))
        .hardlink("usr/lib/os-release", "does/not/exist")
        .bytes()
    )
    inventory = _scan(tmp_path, scratch, [layer])
    assert inventory.packages == [] and inventory.distro is None
    assert sum("hard link" in w for w in inventory.warnings) == 2
    assert secret.read_text().startswith("Package: host")


def test_a_hard_link_inside_the_image_shares_the_content(tmp_path: Path, scratch: Path) -> None:
    layer = (
        LayerBuilder()
        .file("srv/a.txt", "ignored")
        .file("var/lib/dpkg/status", STATUS)
        .hardlink("var/lib/dpkg/status.d/tzdata", "var/lib/dpkg/status")
        .bytes()
    )
    inventory = _scan(tmp_path, scratch, [layer])
    assert {p.path for p in inventory.packages} == {
        "var/lib/dpkg/status",
        "var/lib/dpkg/status.d/tzdata",
    }


def test_device_nodes_and_fifos_are_skipped(tmp_path: Path, scratch: Path) -> None:
    layer = (
        LayerBuilder()
        .special("var/lib/dpkg/status", tarfile.CHRTYPE)
        .special("lib/apk/db/installed", tarfile.BLKTYPE)
        .special("etc/os-release", tarfile.FIFOTYPE)
        .special("dev/null", tarfile.CHRTYPE)
        .bytes()
    )
    inventory = _scan(tmp_path, scratch, [layer])
    assert inventory.packages == [] and inventory.distro is None


class PeakRss:
    """Samples this process's RSS in a thread while a block runs."""

    def __enter__(self) -> PeakRss:
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return int(self.peak - self.start)


def test_a_gzip_bomb_of_10_gib_stops_early_with_a_clear_error(scratch: Path) -> None:
    bomb = gzip_bomb()
    assert bomb.stat().st_size < 20 * MiB
    before = _listing(scratch)
    started = time.monotonic()
    with PeakRss() as rss, pytest.raises(LayerTooLarge, match="decompression bomb"):
        read_tar_layers([("sha256:bomb", str(bomb))], ScanLimits(temp_dir=str(scratch)))
    assert time.monotonic() - started < 30
    assert rss.growth < 100 * MiB
    assert _listing(scratch) == before


def test_per_layer_and_per_image_limits(tmp_path: Path, scratch: Path) -> None:
    big = LayerBuilder().file("opt/blob.bin", os.urandom(3 * MiB)).bytes()
    with pytest.raises(LayerTooLarge, match="limit per layer"):
        _scan(tmp_path, scratch, [gz(big)], max_layer_bytes=2 * MiB)
    with pytest.raises(LayerTooLarge, match="limit per image"):
        _scan(tmp_path, scratch, [gz(big), gz(big)], max_total_bytes=5 * MiB)


def test_a_large_layer_streams_in_bounded_memory(tmp_path: Path, scratch: Path) -> None:
    """200 MiB of incompressible file content reads with flat memory."""
    path = tmp_path / "large.tar.gz"
    chunk = os.urandom(MiB)
    with gzip.open(path, "wb", compresslevel=1) as out, tarfile.open(fileobj=out, mode="w|") as tar:
        for index in range(2):
            info = tarfile.TarInfo(f"data/part{index}.bin")
            info.size = 100 * MiB
            tar.addfile(info, _Repeat(chunk, 100))  # type: ignore[arg-type]
        data = STATUS.encode()
        info = tarfile.TarInfo("var/lib/dpkg/status")
        info.size = len(data)
        tar.addfile(info, _Repeat(data, 1))  # type: ignore[arg-type]
    with PeakRss() as rss:
        tree = read_tar_layers([("sha256:large", str(path))], ScanLimits(temp_dir=str(scratch)))
        with tree:
            assert [p.name for p in take_inventory(tree).packages] == ["tzdata"]
    assert rss.growth < 64 * MiB


class _Repeat:
    """`times` copies of `chunk`, read in whatever sizes the reader asks for."""

    def __init__(self, chunk: bytes, times: int) -> None:
        self.chunk, self.left, self.at = chunk, len(chunk) * times, 0

    def read(self, size: int = -1) -> bytes:
        size = min(size if size > 0 else len(self.chunk), self.left)
        out = bytearray()
        while len(out) < size:
            take = min(size - len(out), len(self.chunk) - self.at)
            out += self.chunk[self.at : self.at + take]
            self.at = (self.at + take) % len(self.chunk)
        self.left -= size
        return bytes(out)


@pytest.mark.parametrize("kind", ["gzip", "zstd", "tar"])
def test_a_truncated_layer_is_a_clear_error(tmp_path: Path, scratch: Path, kind: str) -> None:
    layer = LayerBuilder().file("var/lib/dpkg/status", STATUS + "x" * 200_000).bytes()
    data = {"gzip": gz(layer), "zstd": zst(layer), "tar": layer}[kind]
    with pytest.raises(LayerCorrupt, match=r"truncated|not a complete tar"):
        _scan(tmp_path, scratch, [data[: len(data) // 2]])


def test_garbage_is_not_a_layer(tmp_path: Path, scratch: Path) -> None:
    with pytest.raises(LayerCorrupt):
        _scan(tmp_path, scratch, [b"\x1f\x8b" + os.urandom(4096)])
    with pytest.raises(LayerCorrupt):
        _scan(tmp_path, scratch, [os.urandom(4096)])
