"""The wizard's form and the chain document agree: what a step renders, submitted back as a
browser would, is the same document; errors land on the input their field names."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest

from conveyor.chains.store import parse_document
from conveyor.web.console import chain_form as cf
from conveyor.web.console import wizard_steps as ws
from conveyor.web.console.render import fragment

FULL: dict[str, Any] = {
    "apiVersion": "conveyor/v1",
    "kind": "Chain",
    "metadata": {"name": "web-release", "description": "Build, scan, replicate, redeploy"},
    "spec": {
        "scope": {"namespace": "shop", "repository": "web"},
        "build": {
            "rules": [
                {
                    "type": "branch",
                    "ref": r"release-(?<imageTag>\w*)",
                    "dockerfile": {"directory": "app", "filename": "Dockerfile.prod"},
                    "tags": [
                        {"tag": "${imageTag}", "buildTime": "yyyyMMddHHmm", "commitId": 6},
                        {"tag": "latest"},
                    ],
                    "platforms": ["linux/amd64", "linux/arm64"],
                    "args": {"GO_VERSION": "1.22", "MODE": "release"},
                    "cache": False,
                }
            ]
        },
        "scan": {
            "engine": "builtin",
            "policy": {
                "mode": "blocking",
                "deny": {
                    "level": "HIGH",
                    "count": 2,
                    "vulnerabilities": ["CVE-2024-3094", "GHSA-xxxx-yyyy-zzzz"],
                    "logic": "AND",
                },
                "deleteOriginal": True,
                "backup": {"namespace": "shop-quarantine"},
            },
        },
        "sync": [
            {
                "name": "to-eu",
                "scope": "repository",
                "repoFilter": ".*",
                "tagFilter": "v.*",
                "destination": {"endpoint": "eu", "namespace": "shop", "repository": "web"},
                "trigger": "initiative",
                "overwrite": True,
            }
        ],
        "distribute": [
            {
                "name": "redeploy-prod",
                "url": "https://cluster.example.com/hook/trigger?token=abc",
                "trigger": {"type": "regexp", "regexp": "v.*"},
                "format": "cloudevents",
                "secret": "hook-prod",
            },
            {
                "name": "keel",
                "url": "http://keel.example.com/v1/webhooks/dockerhub",
                "trigger": {"type": "tags", "tags": ["v1", "v2"]},
                "format": "dockerhub",
            },
        ],
    },
}


class FormReader(HTMLParser):
    """The name/value pairs a browser submits for the wizard's form (buttons aside)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((a["name"], a.get("value") or "on"))
            else:
                self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [self._options[0][0]]
            self.pairs.append((self._select, chosen[0]))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.pairs.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def render(draft: dict[str, Any], step: str, error: ws.FieldError | None = None) -> str:
    context = ws.step_context(draft, step, error, None, ws.Choices(["eu"], ["hook-prod"], []))
    return fragment(
        "chain_wizard.html",
        **context,
        viewer=None,
        csrf="token",
        instance={"name": "test", "region": "local"},
        path="/chains/new",
    )


def submitted(html: str) -> list[tuple[str, str]]:
    reader = FormReader()
    reader.feed(html)
    return reader.pairs


@pytest.mark.parametrize("step", ["basics", "build", "scan", "sync", "distribute"])
def test_each_step_gives_back_the_document_it_shows(step: str) -> None:
    form = submitted(render(FULL, step))
    carried = json.loads(dict(form)["draft"])
    assert carried == FULL
    again = cf.read_step(step, form, ws.partial_document(carried, "basics"))
    upto = ws.partial_document(FULL, step)
    for earlier in ws.STEPS[1 : ws.step_index(step)]:
        for section in ws.SECTIONS[earlier]:
            upto["spec"].pop(section.removeprefix("spec."), None)
    expected = parse_document(upto).model_dump()
    assert parse_document(again).model_dump() == expected


def test_the_whole_wizard_round_trip_equals_the_document() -> None:
    draft = cf.empty_draft()
    for step in ws.STEPS[:-1]:
        draft = cf.read_step(step, submitted(render(FULL, step)), draft)
    assert parse_document(draft).model_dump() == parse_document(FULL).model_dump()


def test_a_whole_namespace_scope_keeps_its_exclusions() -> None:
    form = [
        ("metadata.name", "all-of-shop"),
        ("spec.scope.namespace", "shop"),
        ("scopeKind", "namespace"),
        ("spec.scope.repository", "ignored"),
        ("spec.scope.exclude", "legacy, tmp  old"),
    ]
    draft = cf.read_step("basics", form, cf.empty_draft())
    assert draft["spec"]["scope"] == {"namespace": "shop", "exclude": ["legacy", "tmp", "old"]}


def test_errors_go_to_the_step_and_input_their_field_names() -> None:
    assert ws.step_of(ws.FieldError("spec.distribute.0.trigger", "x")) == "distribute"
    assert ws.step_of(ws.FieldError("spec.scope.repository", "x")) == "basics"
    assert ws.step_of(ws.FieldError("spec", "spec: sync names must be unique")) == "sync"
    assert ws.step_of(ws.FieldError("spec.build", "x")) == "build"
    paths = ws.field_paths("distribute", FULL)
    assert ws.anchor("spec.distribute.1.trigger.tags.3", paths) == "spec.distribute.1.trigger.tags"
    assert ws.anchor("spec.distribute.0.trigger", paths) == "spec.distribute.0.trigger"
    assert ws.anchor("spec.scan.engine", paths) is None
    error = ws.FieldError("spec.distribute.1.url", "spec.distribute.1.url: an http:// URL")
    html = render(FULL, "distribute", error)
    assert 'id="f-spec-distribute-1-url-error"' in html
    assert 'aria-describedby="f-spec-distribute-1-url-error" aria-invalid="true"' in html
    assert '<a href="#f-spec-distribute-1-url">' in html


def test_adding_and_removing_items() -> None:
    draft = cf.add_item(cf.add_item(cf.empty_draft(), "sync"), "sync")
    assert [r["name"] for r in draft["spec"]["sync"]] == ["sync-1", "sync-2"]
    draft = cf.remove_item(draft, "sync", 0)
    assert [r["name"] for r in draft["spec"]["sync"]] == ["sync-2"]
    assert "sync" not in cf.remove_item(draft, "sync", 0)["spec"]
    for step in ("build", "sync", "distribute"):
        document = cf.add_item(cf.empty_draft(), step)
        document["metadata"]["name"] = "fresh"
        document["spec"]["scope"] = {"namespace": "shop"}
        if step == "sync":
            document["spec"]["sync"][0]["destination"] = {"endpoint": "eu", "namespace": "x"}
        if step == "distribute":
            document["spec"]["distribute"][0]["url"] = "https://example.com/hook"
        assert parse_document(document).node_kinds() == [step.upper()]
