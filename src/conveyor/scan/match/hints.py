"""One line telling how to get rid of a finding."""

from __future__ import annotations

from conveyor.scan.model import Package


def fix_hint(package: Package, fixed: str) -> str:
    if not fixed:
        return "no fixed version is known yet; watch for an update or mitigate"
    name = package.name
    if package.type == "deb":
        source = package.source_name or name
        built = f" (built from {source})" if source != name else ""
        return f"apt-get install --only-upgrade {name}: {name}{built} is fixed in {fixed}"
    if package.type == "apk":
        return f"apk upgrade {name}: fixed in {fixed}"
    if package.type == "rpm":
        return f"dnf upgrade {name}: fixed in {fixed}"
    if package.type == "pypi":
        return f"pip install '{name}>={fixed}'"
    if package.type == "npm":
        return f"npm install {name}@{fixed}"
    if package.type == "golang" and name == "stdlib":
        return f"rebuild the program with Go {fixed} or later"
    if package.type == "golang":
        return f"go get {name}@v{fixed.removeprefix('v')} and rebuild"
    return f"upgrade {name} to {fixed} or later"
