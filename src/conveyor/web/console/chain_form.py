"""The Create Delivery Chain wizard's form, as pure functions over a draft document.

Every input is named by its path in the chain document (`spec.distribute.0.url`), so the
`field` of a validation error (`ChainInvalid.field`, the same as the API's) names the input
it belongs to. The draft travels between steps as JSON in a hidden field; nothing is saved
until Create, which goes through the same `save_chain` as `POST /api/v1/chains`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

LISTS = {"build": "spec.build.rules", "sync": "spec.sync", "distribute": "spec.distribute"}
MAX_ITEMS = 20
TAG_ROWS = 3
PLATFORMS = ("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/386")

Form = list[tuple[str, str]]


def empty_draft() -> dict[str, Any]:
    return {
        "apiVersion": "conveyor/v1",
        "kind": "Chain",
        "metadata": {"name": "", "description": ""},
        "spec": {"scope": {"namespace": ""}},
    }


# -- reading a step's inputs into the draft ------------------------------------------------


def read_step(step: str, form: Form, draft: dict[str, Any]) -> dict[str, Any]:
    """The draft with the sections of `step` replaced by what the form says."""
    values = _grouped(form)
    result = copy.deepcopy(draft)
    spec = result.setdefault("spec", {})
    if step == "basics":
        result["metadata"] = {
            "name": values.one("metadata.name").strip(),
            "description": values.one("metadata.description").strip(),
        }
        spec["scope"] = _scope(values)
    elif step == "build":
        rules = [
            _build_rule(values, f"spec.build.rules.{i}") for i in values.indices("spec.build.rules")
        ]
        _put(spec, "build", {"rules": rules} if rules else None)
    elif step == "scan":
        _put(spec, "scan", _scan(values) if values.flag("scan.enabled") else None)
    elif step == "sync":
        rules = [_sync_rule(values, f"spec.sync.{i}") for i in values.indices("spec.sync")]
        _put(spec, "sync", rules or None)
    elif step == "distribute":
        targets = [
            _target(values, f"spec.distribute.{i}") for i in values.indices("spec.distribute")
        ]
        _put(spec, "distribute", targets or None)
    return result


def _put(spec: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        spec.pop(key, None)
    else:
        spec[key] = value


class _Values:
    def __init__(self, form: Form) -> None:
        self.items: dict[str, list[str]] = {}
        for key, value in form:
            self.items.setdefault(key, []).append(value)

    def one(self, key: str, default: str = "") -> str:
        found = self.items.get(key)
        return found[-1] if found else default

    def all(self, key: str) -> list[str]:
        return [v for v in self.items.get(key, []) if v]

    def flag(self, key: str) -> bool:
        return key in self.items

    def indices(self, prefix: str) -> list[int]:
        pattern = re.compile(re.escape(prefix) + r"\.(\d+)\.")
        found = {int(m.group(1)) for key in self.items if (m := pattern.match(key))}
        return sorted(i for i in found if i < MAX_ITEMS)


def _grouped(form: Form) -> _Values:
    return _Values(form)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", text.strip()) if w]


def _number(text: str) -> int | str:
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d{1,9}", text) else text


def _scope(values: _Values) -> dict[str, Any]:
    scope: dict[str, Any] = {"namespace": values.one("spec.scope.namespace").strip()}
    if values.one("scopeKind", "repository") == "repository":
        scope["repository"] = values.one("spec.scope.repository").strip()
    else:
        exclude = _words(values.one("spec.scope.exclude"))
        if exclude:
            scope["exclude"] = exclude
    return scope


def _build_rule(values: _Values, base: str) -> dict[str, Any]:
    tags = []
    for j in range(TAG_ROWS):
        tag = values.one(f"{base}.tags.{j}.tag").strip()
        build_time = values.one(f"{base}.tags.{j}.buildTime")
        commit = values.one(f"{base}.tags.{j}.commitId").strip()
        if not (tag or build_time or commit):
            continue
        entry: dict[str, Any] = {"tag": tag}
        if build_time:
            entry["buildTime"] = build_time
        if commit:
            entry["commitId"] = _number(commit)
        tags.append(entry)
    args: dict[str, str] = {}
    for line in values.one(f"{base}.args").splitlines():
        if line.strip():
            name, _, value = line.strip().partition("=")
            args[name.strip()] = value.strip()
    return {
        "type": values.one(f"{base}.type", "branch"),
        "ref": values.one(f"{base}.ref").strip(),
        "dockerfile": {
            "directory": values.one(f"{base}.dockerfile.directory", "/").strip() or "/",
            "filename": values.one(f"{base}.dockerfile.filename", "Dockerfile").strip(),
        },
        "tags": tags,
        "platforms": values.all(f"{base}.platforms"),
        "args": args,
        "cache": values.flag(f"{base}.cache"),
    }


def _scan(values: _Values) -> dict[str, Any]:
    scan: dict[str, Any] = {"engine": values.one("spec.scan.engine", "builtin")}
    if not values.flag("scan.gate"):
        return scan
    deny: dict[str, Any] = {"logic": values.one("spec.scan.policy.deny.logic", "OR")}
    level = values.one("spec.scan.policy.deny.level")
    if level:
        deny["level"] = level
    count = values.one("spec.scan.policy.deny.count").strip()
    if count:
        deny["count"] = _number(count)
    listed = _words(values.one("spec.scan.policy.deny.vulnerabilities"))
    if listed:
        deny["vulnerabilities"] = listed
    policy: dict[str, Any] = {
        "mode": values.one("spec.scan.policy.mode", "blocking"),
        "deny": deny,
        "deleteOriginal": values.flag("spec.scan.policy.deleteOriginal"),
    }
    backup = values.one("spec.scan.policy.backup.namespace").strip()
    if backup:
        policy["backup"] = {"namespace": backup}
    scan["policy"] = policy
    return scan


def _sync_rule(values: _Values, base: str) -> dict[str, Any]:
    destination: dict[str, Any] = {
        "endpoint": values.one(f"{base}.destination.endpoint").strip(),
        "namespace": values.one(f"{base}.destination.namespace").strip(),
    }
    repository = values.one(f"{base}.destination.repository").strip()
    if repository:
        destination["repository"] = repository
    return {
        "name": values.one(f"{base}.name").strip(),
        "scope": values.one(f"{base}.scope", "repository"),
        "repoFilter": values.one(f"{base}.repoFilter", ".*"),
        "tagFilter": values.one(f"{base}.tagFilter", ".*"),
        "destination": destination,
        "trigger": values.one(f"{base}.trigger", "passive"),
        "overwrite": values.flag(f"{base}.overwrite"),
    }


def _target(values: _Values, base: str) -> dict[str, Any]:
    kind = values.one(f"{base}.trigger.type", "all")
    trigger: dict[str, Any] = {"type": kind}
    if kind == "tags":
        trigger["tags"] = _words(values.one(f"{base}.trigger.tags"))
    elif kind == "regexp":
        trigger["regexp"] = values.one(f"{base}.trigger.regexp")
    target: dict[str, Any] = {
        "name": values.one(f"{base}.name").strip(),
        "url": values.one(f"{base}.url").strip(),
        "trigger": trigger,
        "format": values.one(f"{base}.format", "acr"),
    }
    secret = values.one(f"{base}.secret").strip()
    if secret:
        target["secret"] = secret
    return target


# -- adding and removing list items ---------------------------------------------------------


def new_item(step: str, index: int) -> dict[str, Any]:
    if step == "build":
        return {
            "type": "branch",
            "ref": "main",
            "dockerfile": {"directory": "/", "filename": "Dockerfile"},
            "tags": [{"tag": "latest"}],
            "platforms": ["linux/amd64"],
            "args": {},
            "cache": True,
        }
    if step == "sync":
        return {
            "name": f"sync-{index + 1}",
            "scope": "repository",
            "repoFilter": ".*",
            "tagFilter": ".*",
            "destination": {"endpoint": "", "namespace": ""},
            "trigger": "passive",
        }
    return {"name": f"hook-{index + 1}", "url": "", "trigger": {"type": "all"}, "format": "acr"}


def items(draft: dict[str, Any], step: str) -> list[Any]:
    found = dig(draft, LISTS[step]) if step in LISTS else None
    return list(found) if isinstance(found, list) else []


def add_item(draft: dict[str, Any], step: str) -> dict[str, Any]:
    current = items(draft, step)
    if len(current) >= MAX_ITEMS:
        return draft
    return _set_items(draft, step, [*current, new_item(step, len(current))])


def remove_item(draft: dict[str, Any], step: str, index: int) -> dict[str, Any]:
    current = items(draft, step)
    if 0 <= index < len(current):
        del current[index]
    return _set_items(draft, step, current)


def _set_items(draft: dict[str, Any], step: str, values: list[Any]) -> dict[str, Any]:
    result = copy.deepcopy(draft)
    spec = result.setdefault("spec", {})
    if step == "build":
        _put(spec, "build", {"rules": values} if values else None)
    else:
        _put(spec, step, values or None)
    return result


def dig(doc: Any, path: str, default: Any = "") -> Any:
    """The value at a dotted path (list items by number), or `default`."""
    current = doc
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return default
    return current


def input_id(path: str) -> str:
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", path)
