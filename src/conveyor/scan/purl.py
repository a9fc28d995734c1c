"""Package URLs (purl-spec) for inventory packages."""

from __future__ import annotations

from urllib.parse import quote

from conveyor.scan.inventory.python import normalize_name
from conveyor.scan.model import Distro, Package


def _q(text: str) -> str:
    return quote(text, safe="")


def purl(package: Package, distro: Distro | None) -> str:
    qualifiers: dict[str, str] = {}
    if package.arch:
        qualifiers["arch"] = package.arch
    if package.type in ("deb", "apk", "rpm"):
        namespace = (
            distro.id if distro else {"deb": "debian", "apk": "alpine"}.get(package.type, "redhat")
        )
        path = f"{_q(namespace)}/{_q(package.name)}"
        if distro and distro.version_id:
            qualifiers["distro"] = f"{distro.id}-{distro.version_id}"
        if package.source_name and package.source_name != package.name:
            qualifiers["upstream"] = package.source_name
    elif package.type == "pypi":
        path = _q(normalize_name(package.name))
    elif package.type == "npm":
        scope, slash, name = package.name.rpartition("/")
        path = f"{_q(scope)}/{_q(name)}" if slash else _q(name)
    elif package.type == "maven":
        group, _, artifact = package.name.rpartition(":")
        path = f"{_q(group)}/{_q(artifact)}" if group else _q(artifact)
    else:  # golang: the module path keeps its slashes
        path = "/".join(_q(part) for part in package.name.split("/"))
    text = f"pkg:{package.type}/{path}@{_q(package.version)}"
    if qualifiers:
        text += "?" + "&".join(f"{k}={_q(v)}" for k, v in sorted(qualifiers.items()))
    return text
