"""Inventory of each package format, on files made by the real tools where there is one."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

from conveyor.scan.inventory.apk import parse_installed_text
from conveyor.scan.inventory.collect import take_inventory
from conveyor.scan.inventory.dpkg import parse_status_text
from conveyor.scan.inventory.gobuild import read_build_info
from conveyor.scan.inventory.osrelease import parse_os_release
from conveyor.scan.inventory.rpmheader import source_name
from conveyor.scan.model import Inventory
from conveyor.scan.purl import purl
from conveyor.scan.sbom import cyclonedx
from conveyor.scan.unpack.image import read_tar_layers
from tests.support.scan_images import LayerBuilder, go_binary, write_layers


def _inventory(tmp_path: Path, layer: LayerBuilder) -> Inventory:
    with read_tar_layers(write_layers(tmp_path / "layers", [layer.bytes()])) as tree:
        return take_inventory(tree)


def test_dpkg_status_fields_and_source_forms() -> None:
    text = """Package: libssl1.1
Status: install ok installed
Priority: optional
Source: openssl
Version: 1.1.1n-0+deb11u3
Architecture: amd64
Description: Secure Sockets Layer toolkit
 continuation line: not a field

Package: removed-one
Status: deinstall ok config-files
Version: 1.0

Package: libsystemd0
Status: install ok installed
Source: systemd (247.3-7+deb11u1)
Version: 247.3-7+deb11u2
"""
    packages = list(parse_status_text(text))
    assert [(p.name, p.source_name, p.source_version) for p in packages] == [
        ("libssl1.1", "openssl", "1.1.1n-0+deb11u3"),
        ("libsystemd0", "systemd", "247.3-7+deb11u1"),
    ]


def test_dpkg_status_d_of_distroless_images(tmp_path: Path) -> None:
    layer = (
        LayerBuilder()
        .file("var/lib/dpkg/status.d/base", "Package: base-files\nVersion: 12.4+deb12u5\n")
        .file("var/lib/dpkg/status.d/libc6", "Package: libc6\nSource: glibc\nVersion: 2.36-9\n")
        .file("var/lib/dpkg/status.d/libc6.md5sums", "not a stanza file\n")
    )
    packages = _inventory(tmp_path, layer).packages
    assert [(p.name, p.source_name) for p in packages] == [
        ("base-files", "base-files"),
        ("libc6", "glibc"),
    ]


def test_apk_installed_database() -> None:
    text = "C:Q1abc=\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\nF:lib\nR:libcrypto.so.3\n\n"
    text += "P:busybox\nV:1.36.1-r15\nA:x86_64\no:busybox\n"
    packages = list(parse_installed_text(text))
    assert [(p.name, p.version, p.source_name) for p in packages] == [
        ("libcrypto3", "3.1.4-r5", "openssl"),
        ("busybox", "1.36.1-r15", "busybox"),
    ]


def test_os_release_forms() -> None:
    debian = parse_os_release('ID=debian\nVERSION_ID="9"\nVERSION="9 (stretch)"\n')
    assert debian is not None and debian.release == "stretch"
    alpine = parse_os_release("ID=alpine\nVERSION_ID=3.20.3\n")
    assert alpine is not None and alpine.release == "v3.20"
    assert parse_os_release("# nothing\n") is None


def _rpmdb(tmp_path: Path) -> Path:
    """An rpmdb.sqlite written by rpm itself, with one package built by rpmbuild."""
    top, root = tmp_path / "rpmbuild", tmp_path / "root"
    (top / "SPECS").mkdir(parents=True)
    spec = top / "SPECS" / "demo.spec"
    spec.write_text(
        "Name: demo-lib\nVersion: 1.2.3\nRelease: 4.el9\nEpoch: 2\nSummary: demo\n"
        "License: MIT\nBuildArch: noarch\n%description\ndemo\n%files\n"
    )
    subprocess.run(
        ["rpmbuild", "--define", f"_topdir {top}", "-bb", str(spec)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    package = next(top.rglob("*.rpm"))
    base = ["rpm", "--root", str(root), "--dbpath", "/var/lib/rpm"]
    sqlite = ["--define", "_db_backend sqlite"]
    subprocess.run([*base, *sqlite, "--initdb"], check=True, capture_output=True, timeout=60)
    subprocess.run(
        [*base, *sqlite, "-i", "--nodeps", "--justdb", "--noscripts", str(package)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return root / "var/lib/rpm/rpmdb.sqlite"


def test_rpm_sqlite_database_made_by_rpm(tmp_path: Path) -> None:
    database = _rpmdb(tmp_path)
    layer = LayerBuilder().file("var/lib/rpm/rpmdb.sqlite", database.read_bytes())
    layer.file("etc/os-release", 'ID="rocky"\nVERSION_ID="9.3"\n')
    inventory = _inventory(tmp_path, layer)
    [package] = inventory.packages
    assert (package.name, package.version, package.type) == ("demo-lib", "2:1.2.3-4.el9", "rpm")
    assert package.source_name == "demo-lib" and package.arch == "noarch"
    assert purl(package, inventory.distro).startswith("pkg:rpm/rocky/demo-lib@2%3A1.2.3-4.el9")


def test_rpm_source_names() -> None:
    assert source_name("openssl-1.1.1k-7.el8_6.src.rpm") == "openssl"
    assert source_name("python3.11-3.11.5-1.el9.src.rpm") == "python3.11"


def test_python_dist_info_and_egg_info(tmp_path: Path) -> None:
    site = "usr/local/lib/python3.11/site-packages"
    layer = (
        LayerBuilder()
        .file(f"{site}/PyYAML-6.0.1.dist-info/METADATA", "Name: PyYAML\nVersion: 6.0.1\n\n")
        .file(
            f"{site}/old_pkg.egg-info/PKG-INFO",
            "Metadata-Version: 1.0\nName: Old_Pkg\nVersion: 0.1\n",
        )
        .file(f"{site}/single-1.0-py3.11.egg-info", "Name: single\nVersion: 1.0\n")
        .file(f"{site}/broken.dist-info/METADATA", "Summary: no name\n")
    )
    packages = _inventory(tmp_path, layer).packages
    assert sorted((p.name, p.version, p.type) for p in packages) == [
        ("Old_Pkg", "0.1", "pypi"),
        ("PyYAML", "6.0.1", "pypi"),
        ("single", "1.0", "pypi"),
    ]
    assert purl(packages[0], None) in ("pkg:pypi/old-pkg@0.1", "pkg:pypi/pyyaml@6.0.1")


def test_npm_packages_including_scoped_ones(tmp_path: Path) -> None:
    layer = (
        LayerBuilder()
        .file("app/node_modules/lodash/package.json", '{"name":"lodash","version":"4.17.20"}')
        .file(
            "app/node_modules/@babel/core/package.json", '{"name":"@babel/core","version":"7.1.0"}'
        )
        .file("app/node_modules/a/node_modules/b/package.json", '{"name":"b","version":"1.0.0"}')
        .file("app/node_modules/lodash/lib/package.json", '{"name":"inner","version":"0"}')
        .file("app/package.json", '{"name":"the-app","version":"1.0.0"}')
        .file("app/node_modules/bad/package.json", "{not json")
    )
    packages = _inventory(tmp_path, layer).packages
    assert sorted((p.name, p.version) for p in packages) == [
        ("@babel/core", "7.1.0"),
        ("b", "1.0.0"),
        ("lodash", "4.17.20"),
    ]
    scoped = next(p for p in packages if p.name == "@babel/core")
    assert purl(scoped, None) == "pkg:npm/%40babel/core@7.1.0"


def _jar(entries: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_java_archives_pom_properties_manifest_and_nested_jars(tmp_path: Path) -> None:
    inner = _jar(
        {
            "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties": (
                "groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n"
            )
        }
    )
    deeper = _jar(
        {"lib/too-deep.jar": _jar({"META-INF/MANIFEST.MF": "Implementation-Version: 9\n"})}
    )
    app = _jar(
        {
            "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\nImplementation-Title: app\n",
            "BOOT-INF/lib/log4j-core-2.14.1.jar": inner,
            "BOOT-INF/lib/deeper.jar": deeper,
        }
    )
    plain = _jar(
        {"META-INF/MANIFEST.MF": "Implementation-Title: commons\nImplementation-Version: 1.\n 2\n"}
    )
    layer = LayerBuilder().file("opt/app.jar", app).file("opt/lib/commons.jar", plain)
    packages = _inventory(tmp_path, layer).packages
    assert sorted((p.name, p.version, p.path) for p in packages) == [
        ("commons", "1.2", "opt/lib/commons.jar"),
        ("org.apache.logging.log4j:log4j-core", "2.14.1", "opt/app.jar"),
    ]


def test_go_build_info_of_a_real_go_1_19_binary(tmp_path: Path) -> None:
    binary = go_binary()
    info = read_build_info(binary)
    assert info is not None
    assert info.go_version.startswith("go1.19")
    assert info.path == "example.com/hello"
    assert info.main is not None and info.main.path == "example.com/hello"
    layer = LayerBuilder().file("usr/local/bin/hello", binary.read_bytes(), mode=0o755)
    layer.file("usr/local/bin/not-go", b"\x7fELF" + b"\0" * 8000, mode=0o755)
    packages = _inventory(tmp_path, layer).packages
    assert [(p.name, p.type, p.path) for p in packages] == [
        ("stdlib", "golang", "usr/local/bin/hello")
    ]
    assert packages[0].version == info.go_version


def test_cyclonedx_document(tmp_path: Path) -> None:
    layer = LayerBuilder().file("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")
    layer.file("lib/apk/db/installed", "P:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\n")
    inventory = _inventory(tmp_path, layer)
    bom = cyclonedx(inventory, "shop/web:1", "sha256:" + "a" * 64)
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.5"
    os_component, library = bom["components"]
    assert os_component["type"] == "operating-system" and os_component["version"] == "3.19.1"
    assert library["purl"] == (
        "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl"
    )
    layer_property = {p["name"]: p["value"] for p in library["properties"]}["conveyor:layer"]
    assert layer_property.startswith("sha256:")


def _pre_118_go_elf(version: str, modinfo: str) -> bytes:
    """A minimal ELF64 laid out as Go 1.13-1.17 wrote build info: the `.go.buildinfo` header
    holds two pointers to Go string headers (data pointer, length) in a loaded segment."""
    import struct

    base = 0x400000
    wrapped = ("0" * 16 + modinfo + "1" * 16).encode()
    strings = version.encode() + wrapped
    names = b"\0.go.buildinfo\0.shstrtab\0"
    info_at, headers_at, strings_at = 0x100, 0x140, 0x200
    names_at = strings_at + len(strings)
    sections_at = max((names_at + len(names) + 15) & ~15, 0x1000)  # over 4 KiB, as real ones
    size = sections_at + 3 * 64
    image = bytearray(size)
    image[0:16] = b"\x7fELF\x02\x01\x01" + b"\0" * 9
    struct.pack_into(
        "<HHIQQQIHHHHHH", image, 16, 2, 62, 1, 0, 64, sections_at, 0, 64, 56, 1, 64, 3, 2
    )
    struct.pack_into("<IIQQQQQQ", image, 64, 1, 4, 0, base, base, size, size, 0x1000)
    image[info_at : info_at + 16] = b"\xff Go buildinf:" + bytes([8, 0])
    struct.pack_into("<QQ", image, info_at + 16, base + headers_at, base + headers_at + 16)
    struct.pack_into("<QQ", image, headers_at, base + strings_at, len(version))
    struct.pack_into("<QQ", image, headers_at + 16, base + strings_at + len(version), len(wrapped))
    image[strings_at:names_at] = strings
    image[names_at : names_at + len(names)] = names
    section = "<IIQQQQIIQQ"
    struct.pack_into(
        section, image, sections_at + 64, 1, 1, 3, base + info_at, info_at, 32, 0, 0, 16, 0
    )
    struct.pack_into(
        section, image, sections_at + 128, 15, 3, 0, 0, names_at, len(names), 0, 0, 1, 0
    )
    return bytes(image)


def test_go_build_info_in_the_pointer_format_of_go_before_1_18(tmp_path: Path) -> None:
    modinfo = (
        "path\texample.com/old\nmod\texample.com/old\tv1.0.0\th1:x=\n"
        "dep\tgolang.org/x/text\tv0.3.5\th1:y=\n=>\tgolang.org/x/text\tv0.3.8\th1:z=\n"
    )
    layer = LayerBuilder().file("bin/old", _pre_118_go_elf("go1.16.3", modinfo), mode=0o755)
    packages = _inventory(tmp_path, layer).packages
    assert sorted((p.name, p.version) for p in packages) == [
        ("example.com/old", "v1.0.0"),
        ("golang.org/x/text", "v0.3.8"),
        ("stdlib", "go1.16.3"),
    ]
