"""The wizard's steps in ACR's order, which part of the chain document each one edits, where
a validation error belongs (step and input), and what the wizard's template is given."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from conveyor.chains.store import ChainInvalid, parse_document
from conveyor.web.console.chain_form import PLATFORMS, TAG_ROWS, dig, input_id, items

STEPS = ("basics", "build", "scan", "sync", "distribute", "summary")
TITLES = {
    "basics": "Basic information",
    "build": "Image building rules",
    "scan": "Security scan",
    "sync": "Synchronization rules",
    "distribute": "Distribution triggers",
    "summary": "Summary",
}
# The parts of the document that each step edits.
SECTIONS = {
    "basics": ("metadata", "spec.scope"),
    "build": ("spec.build",),
    "scan": ("spec.scan",),
    "sync": ("spec.sync",),
    "distribute": ("spec.distribute",),
    "summary": (),
}


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Choices:
    """What the instance offers to pick from: endpoints, secrets, namespaces the viewer owns."""

    endpoints: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)


def step_index(step: str) -> int:
    return STEPS.index(step) if step in STEPS else 0


# -- validation: which part of the document a step is responsible for -----------------------


def partial_document(draft: dict[str, Any], step: str) -> dict[str, Any]:
    """The draft cut down to what the steps up to `step` edit (later steps not yet seen)."""
    upto = step_index(step)
    result = copy.deepcopy(draft)
    spec = result.get("spec")
    if isinstance(spec, dict):
        for later in STEPS[upto + 1 :]:
            for section in SECTIONS[later]:
                spec.pop(section.removeprefix("spec."), None)
    return result


def step_of(error: FieldError) -> str:
    """The step whose inputs an error is about."""
    field = error.field or ""
    for step in STEPS:
        for section in SECTIONS[step]:
            if field == section or field.startswith(section + "."):
                return step
    if field == "spec":
        for step in ("sync", "distribute"):
            if f"{step} names" in error.message:
                return step
    if field.startswith(("apiVersion", "kind")) or not field:
        return "summary"
    return "basics"


def anchor(field: str | None, paths: Iterable[str]) -> str | None:
    """The rendered input or group an error's field belongs to: the longest matching path."""
    if not field:
        return None
    best = None
    for path in paths:
        if (field == path or field.startswith(path + ".")) and (
            best is None or len(path) > len(best)
        ):
            best = path
    return best


def field_paths(step: str, draft: dict[str, Any]) -> list[str]:
    """Every input and group path the step renders (where an error can be shown)."""
    if step == "basics":
        return [
            "metadata.name",
            "metadata.description",
            "spec.scope",
            "spec.scope.namespace",
            "spec.scope.repository",
            "spec.scope.exclude",
        ]
    if step == "build":
        paths = ["spec.build", "spec.build.rules"]
        for i in range(len(items(draft, "build"))):
            base = f"spec.build.rules.{i}"
            paths += [
                base,
                f"{base}.dockerfile",
                f"{base}.tags",
                f"{base}.platforms",
                f"{base}.args",
            ]
            paths += [f"{base}.{k}" for k in ("type", "ref", "cache")]
            paths += [f"{base}.dockerfile.{k}" for k in ("directory", "filename")]
            for j in range(TAG_ROWS):
                paths += [f"{base}.tags.{j}"] + [
                    f"{base}.tags.{j}.{k}" for k in ("tag", "buildTime", "commitId")
                ]
        return paths
    if step == "scan":
        policy = "spec.scan.policy"
        deny = f"{policy}.deny"
        return [
            "spec.scan",
            "spec.scan.engine",
            policy,
            f"{policy}.mode",
            f"{policy}.deleteOriginal",
            f"{policy}.backup",
            f"{policy}.backup.namespace",
            deny,
            *(f"{deny}.{k}" for k in ("level", "count", "vulnerabilities", "logic")),
        ]
    if step == "sync":
        paths = ["spec.sync"]
        for i in range(len(items(draft, "sync"))):
            base = f"spec.sync.{i}"
            paths += [base, f"{base}.destination"]
            paths += [
                f"{base}.{k}"
                for k in ("name", "scope", "repoFilter", "tagFilter", "trigger", "overwrite")
            ]
            paths += [f"{base}.destination.{k}" for k in ("endpoint", "namespace", "repository")]
        return paths
    if step == "distribute":
        paths = ["spec.distribute"]
        for i in range(len(items(draft, "distribute"))):
            base = f"spec.distribute.{i}"
            paths += [base, f"{base}.trigger"]
            paths += [f"{base}.{k}" for k in ("name", "url", "format", "secret")]
            paths += [f"{base}.trigger.{k}" for k in ("type", "tags", "regexp")]
        return paths
    return []


# -- what the wizard's template is given -------------------------------------------------------


def step_context(
    draft: dict[str, Any],
    step: str,
    error: FieldError | None,
    editing: str | None,
    choices: Choices,
) -> dict[str, Any]:
    error_at = anchor(error.field, field_paths(step, draft)) if error else None
    return {
        "title": f"Edit chain {editing}" if editing else "Create delivery chain",
        "draft": draft,
        "draft_json": json.dumps(draft),
        "step": step,
        "steps": STEPS,
        "step_titles": TITLES,
        "step_number": step_index(step) + 1,
        "error": error,
        "error_at": error_at,
        "error_id": input_id(error_at) if error_at else None,
        "editing": editing,
        "action_url": f"/chains/{editing}/edit" if editing else "/chains/new",
        "endpoints": choices.endpoints,
        "secrets": choices.secrets,
        "namespaces": choices.namespaces,
        "platforms": PLATFORMS,
        "tag_rows": TAG_ROWS,
        "summary": summary(draft) if step == "summary" else None,
        "items": lambda section: items(draft, section),
        "dig": lambda path, default="": dig(draft, path, default),
    }


def summary(draft: dict[str, Any]) -> dict[str, Any]:
    """The document as it will be saved (defaults filled in), and as YAML."""
    try:
        body = parse_document(draft).model_dump(mode="json", exclude_none=True)
    except ChainInvalid:
        body = draft
    return {"yaml": yaml.safe_dump(body, sort_keys=False), "document": body}
