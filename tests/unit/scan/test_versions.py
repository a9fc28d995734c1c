"""Version ordering tables for every ecosystem, with the tricky cases from their own docs."""

from __future__ import annotations

import pytest

from conveyor.scan.versions import apk, dpkg, golang, maven, pep440, rpm, semver
from conveyor.scan.versions.ordering import comparator


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


# Debian Policy §5.6.12 and dpkg's own test suite (t-version.c).
DPKG = [
    ("1.0", "1.0", 0),
    ("1.0-1", "1.0-1", 0),
    ("1:1.0", "1.0", 1),  # an epoch wins over everything
    ("1.0", "1:0.1", -1),
    ("1.0~rc1", "1.0", -1),  # ~ sorts before the end
    ("1.0~~", "1.0~~a", -1),
    ("1.0~~a", "1.0~", -1),
    ("1.0~", "1.0", -1),
    ("1.0", "1.0a", -1),  # letters after the end
    ("1.0a", "1.0+", -1),  # non-letters after letters
    ("1.0+", "1.0.", -1),  # '+' (43) before '.' (46)
    ("1.0", "1.0-0", 0),  # no revision equals revision 0
    ("1.0-1", "1.0-1.1", -1),
    ("2.30", "2.4", 1),  # numbers compare as numbers
    ("1.002", "1.2", 0),  # leading zeros ignored
    ("1.1.1n-0+deb11u3", "1.1.1n-0+deb11u4", -1),
    ("1.1.1n-0+deb11u4", "1.1.1o-0+deb11u1", -1),
    ("2:1.20.11-1+deb11u6", "2:1.20.11-1+deb11u5", 1),
    ("111.0.5563.64-1~deb11u1", "111.0.5563.110-1~deb11u1", -1),
    ("1.2.3-1~bpo11+1", "1.2.3-1", -1),
    ("0:1.0", "1.0", 0),
    ("7.74.0-1.3+deb11u7", "7.74.0-1.3+deb11u10", -1),
    ("a", "b", -1),
]

# apk-tools test/version.data and Alpine's package policy.
APK = [
    ("1.0", "1.0", 0),
    ("1.0_rc1", "1.0", -1),  # pre-release suffixes before the bare version
    ("1.0_alpha", "1.0_beta", -1),
    ("1.0_beta", "1.0_pre", -1),
    ("1.0_pre", "1.0_rc", -1),
    ("1.0", "1.0_p1", -1),  # _p after the bare version
    ("1.0_cvs", "1.0_p", -1),
    ("1.0_git20200101", "1.0_p1", -1),
    ("1.0-r0", "1.0-r1", -1),
    ("1.0-r9", "1.0-r10", -1),
    ("1.36.1-r2", "1.36.1-r19", -1),
    ("1.0", "1.0-r0", -1),
    ("1.0a", "1.0b", -1),
    ("1.0", "1.0a", -1),
    ("1.05", "1.5", -1),  # leading zeros after a dot sort lower
    ("1.0.05", "1.0.4", -1),
    ("05.1", "5.1", 0),
    ("3.1.4-r4", "3.1.4-r5", -1),
    ("3.1.4-r5", "3.1.5-r0", -1),
    ("2.4.57-r0", "2.4.9-r0", 1),
    ("1.2.3_p1-r1", "1.2.3-r2", 1),
    ("8.5.0-r0", "8.11.1-r0", -1),
]

# rpm's tests (rpmvercmp.at).
RPM = [
    ("1.0", "1.0", 0),
    ("1.0", "2.0", -1),
    ("2.0.1", "2.0", 1),
    ("2.0.1a", "2.0.1", 1),
    ("5.5p1", "5.5p2", -1),
    ("5.5p10", "5.5p1", 1),
    ("10xyz", "10.1xyz", -1),
    ("xyz10", "xyz10.1", -1),
    ("1.0aa", "1.0a", 1),
    ("2a", "2.0", -1),
    ("1.0~rc1", "1.0", -1),
    ("1.0~rc1", "1.0~rc2", -1),
    ("1.0^", "1.0", 1),
    ("1.0^git1", "1.0.1", -1),
    ("1.0^git1~pre", "1.0^git1", -1),
    ("1.0", "1.0.0", -1),
    ("1_0", "1.0", 0),
    ("1:1.0-1", "2.0-1", 1),  # epoch
    ("1.1.1k-7.el8_6", "1.1.1k-9.el8_7", -1),
    ("3.0.7-16.el9", "3.0.7-16.el9_2", -1),
]

PEP440 = [
    ("1.0", "1.0.0", 0),
    ("1.0a1", "1.0", -1),
    ("1.0.dev1", "1.0a1", -1),
    ("1.0.post1", "1.0", 1),
    ("1.0rc1", "1.0", -1),
    ("2.19.0", "2.20.0", -1),
    ("1!1.0", "2.0", 1),
    ("1.0+local", "1.0", 1),
    ("0.12.01", "0.12.1", 0),
]

SEMVER = [
    ("1.0.0", "1.0.0", 0),
    ("1.0.0-alpha", "1.0.0", -1),
    # the precedence example of semver.org §11
    ("1.0.0-alpha", "1.0.0-alpha.1", -1),
    ("1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
    ("1.0.0-alpha.beta", "1.0.0-beta", -1),
    ("1.0.0-beta", "1.0.0-beta.2", -1),
    ("1.0.0-beta.2", "1.0.0-beta.11", -1),
    ("1.0.0-beta.11", "1.0.0-rc.1", -1),
    ("1.0.0-rc.1", "1.0.0", -1),
    ("1.0.0+build.5", "1.0.0", 0),
    ("v2.0.0", "2.0.0", 0),
    ("1.10.0", "1.9.0", 1),
]

GO = [
    ("go1.19.8", "1.19.8", 0),
    ("go1.19", "1.19.0", 0),
    ("go1.19.8", "1.20.0-0", -1),
    ("go1.21rc2", "1.21.0", -1),
    ("go1.21rc2", "1.21.0-rc.1", 1),
    ("v0.3.7", "0.3.8", -1),
    ("v0.0.0-20210226172049-e18ecbb05110", "0.0.0-20220101000000-000000000000", -1),
    ("v1.2.3+incompatible", "1.2.3", 0),
]

MAVEN = [
    ("1.0", "1.0.0", 0),
    ("1.0-alpha-1", "1.0", -1),
    ("1.0-SNAPSHOT", "1.0", -1),
    ("1.0-rc1", "1.0-SNAPSHOT", -1),
    ("1.0", "1.0-sp1", -1),
    ("2.17.0", "2.15.0", 1),
    ("1.0.1", "1.0", 1),
]


@pytest.mark.parametrize(("a", "b", "expected"), DPKG)
def test_dpkg(a: str, b: str, expected: int) -> None:
    assert _sign(dpkg.compare(a, b)) == expected
    assert _sign(dpkg.compare(b, a)) == -expected


@pytest.mark.parametrize(("a", "b", "expected"), APK)
def test_apk(a: str, b: str, expected: int) -> None:
    assert _sign(apk.compare(a, b)) == expected
    assert _sign(apk.compare(b, a)) == -expected


@pytest.mark.parametrize(("a", "b", "expected"), RPM)
def test_rpm(a: str, b: str, expected: int) -> None:
    assert _sign(rpm.compare_evr(a, b)) == expected
    assert _sign(rpm.compare_evr(b, a)) == -expected


@pytest.mark.parametrize(("a", "b", "expected"), PEP440)
def test_pep440(a: str, b: str, expected: int) -> None:
    assert pep440.compare(a, b) == expected


@pytest.mark.parametrize(("a", "b", "expected"), SEMVER)
def test_semver(a: str, b: str, expected: int) -> None:
    assert semver.compare(a, b) == expected
    assert semver.compare(b, a) == -expected


@pytest.mark.parametrize(("a", "b", "expected"), GO)
def test_go(a: str, b: str, expected: int) -> None:
    assert golang.compare(a, b) == expected


@pytest.mark.parametrize(("a", "b", "expected"), MAVEN)
def test_maven(a: str, b: str, expected: int) -> None:
    assert maven.compare(a, b) == expected
    assert maven.compare(b, a) == -expected


def test_apk_validity() -> None:
    assert apk.valid("1.2.3_rc1-r0")
    assert apk.valid("1.0_p1_git20200101-r2")
    assert not apk.valid("1.0-foo")


def test_toolchain_versions_as_the_go_database_writes_them() -> None:
    assert golang.toolchain_to_semver("go1.19.8") == "1.19.8"
    assert golang.toolchain_to_semver("go1.20beta1") == "1.20.0-beta.1"


def test_bad_versions_raise_value_error() -> None:
    with pytest.raises(ValueError):
        pep440.compare("not a version!", "1.0")
    with pytest.raises(ValueError):
        semver.compare("x.y", "1.0.0")


def test_comparator_by_ecosystem() -> None:
    assert comparator("Debian") is dpkg.compare
    assert comparator("pypi") is pep440.compare
    assert comparator("unknown-ecosystem") is None
