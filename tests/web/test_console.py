"""The web console in a real browser against a real `conveyor serve` (issue 8).

The tests of this module run in order on one server and one browser tab: sign in, create a
chain through the wizard (an invalid field first), push an image with skopeo and watch its
record finish without a reload, open a tag's scan findings, re-run the record, and the other
pages. Every page is photographed under tests/web/screenshots/.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.chain_helpers import push_image as push_config_image
from tests.support.conveyor_server import ConveyorServer
from tests.support.images import busybox_layout, oci_ref, storage_env
from tests.support.receiver import Receiver
from tests.support.scan_images import VULNDB_DATA, LayerBuilder, gz, push_image
from tests.web.conftest import shoot

CHAIN = "web-release"
PYTHON_SITE = "usr/lib/python3.11/site-packages"


@pytest.fixture(scope="module")
def hook() -> Iterator[Receiver]:
    made = Receiver()
    made.start()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def api(server: ConveyorServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url, auth=("admin", server.admin_password), timeout=60
    ) as client:
        yield client


def records(api: httpx.Client) -> list[dict[str, Any]]:
    reply = api.get("/api/v1/records", params={"chain": CHAIN})
    assert reply.status_code == 200, reply.text
    found: list[dict[str, Any]] = reply.json()
    return found


def test_sign_in_shows_the_overview_of_the_instance(page: Page, server: ConveyorServer) -> None:
    page.goto("/records")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Frecords$"))
    shoot(page, "01-sign-in")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    page.get_by_label("Password").fill(server.admin_password)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(re.compile(r"/records$"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    instance = page.locator(".instance-card")
    expect(instance).to_contain_text("acme-registry")
    expect(instance).to_contain_text("cn-hangzhou")
    shoot(page, "02-overview-empty")


def test_wizard_shows_the_api_error_inline_then_creates_the_chain(
    page: Page, hook: Receiver, api: httpx.Client
) -> None:
    page.goto("/chains")
    shoot(page, "03-chains-empty")
    page.get_by_role("link", name="Create delivery chain").click()
    expect(page.get_by_role("heading", name="Step 1 of 6: Basic information")).to_be_visible()

    page.get_by_label("Chain name").fill("Web Release")  # capitals and a space: invalid
    page.get_by_label("Description").fill("Redeploy the web app on every release tag")
    page.get_by_label("Namespace", exact=True).fill("shop")
    page.get_by_label("Repository (with one repository)").fill("web")
    page.get_by_role("button", name="Next: Image building rules").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # the error is announced and focused
    name = page.get_by_label("Chain name")
    expect(name).to_have_attribute("aria-invalid", "true")
    inline = page.locator("#f-metadata-name-error")
    # The same words as the REST API for the same document.
    reply = api.post(
        "/api/v1/chains",
        json={
            "apiVersion": "conveyor/v1",
            "kind": "Chain",
            "metadata": {"name": "Web Release"},
            "spec": {"scope": {"namespace": "shop", "repository": "web"}},
        },
    )
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["field"] == "metadata.name"
    expect(inline).to_contain_text(error["message"])
    shoot(page, "04-wizard-inline-error")

    name.fill(CHAIN)
    page.get_by_role("button", name="Next: Image building rules").click()
    expect(page.get_by_role("heading", name="Step 2 of 6: Image building rules")).to_be_visible()
    expect(page.locator(".error-summary")).to_have_count(0)
    shoot(page, "05-wizard-build")
    page.get_by_role("button", name="Next: Security scan").click()
    expect(page.get_by_role("heading", name="Step 3 of 6: Security scan")).to_be_visible()
    page.get_by_label("Scan images").check()
    shoot(page, "06-wizard-scan")
    page.get_by_role("button", name="Next: Synchronization rules").click()
    expect(page.get_by_role("heading", name="Step 4 of 6: Synchronization rules")).to_be_visible()
    shoot(page, "07-wizard-sync")
    page.get_by_role("button", name="Next: Distribution triggers").click()
    expect(page.get_by_role("heading", name="Step 5 of 6: Distribution triggers")).to_be_visible()

    page.get_by_role("button", name="Add distribution trigger").click()
    target = page.get_by_role("group", name="Distribution trigger 1")
    target.get_by_label("Trigger name").fill("redeploy")
    target.get_by_label("Webhook URL").fill(hook.url + "?token=abc")
    target.get_by_label("Mode", exact=True).select_option("regexp")
    target.get_by_label("Regex (regex mode)").fill("v.*")
    shoot(page, "08-wizard-distribute")
    page.get_by_role("button", name="Next: Summary").click()
    expect(page.get_by_role("heading", name="Step 6 of 6: Summary")).to_be_visible()
    yaml_text = page.locator("pre.yaml")
    expect(yaml_text).to_contain_text("name: web-release")
    expect(yaml_text).to_contain_text("regexp: v.*")
    shoot(page, "09-wizard-summary")

    page.get_by_role("button", name="Create delivery chain").click()
    expect(page).to_have_url(re.compile(rf"/chains/{CHAIN}\?saved=1$"))
    expect(page.get_by_role("status")).to_contain_text("version 1")
    nodes = page.get_by_role("list", name="Nodes of the chain, in order")
    expect(nodes.get_by_role("listitem")).to_have_count(5)
    expect(nodes).to_contain_text("shop/web")
    expect(nodes).to_contain_text("builtin")
    expect(nodes).to_contain_text("redeploy")
    shoot(page, "10-chain")

    saved = api.get(f"/api/v1/chains/{CHAIN}").json()
    assert saved["version"] == 1
    assert saved["document"]["spec"]["distribute"][0]["trigger"] == {
        "type": "regexp",
        "regexp": "v.*",
        "tags": [],
    }
    with page.expect_download() as download:
        page.get_by_role("link", name="Export YAML").click()
    exported = Path(download.value.path()).read_text()
    assert "name: web-release" in exported and "scope:" in exported


def test_the_record_page_follows_a_pushed_image_to_success(
    page: Page, server: ConveyorServer, hook: Receiver, api: httpx.Client, tmp_path: Path
) -> None:
    layout = busybox_layout("amd64")
    hook.fail_until = time.monotonic() + 600  # webhook attempts get a 500 until released
    push = subprocess.Popen(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--dest-creds",
            f"admin:{server.admin_password}",
            oci_ref(layout),
            f"docker://{server.host}/shop/web:v1",
        ],
        env=storage_env(tmp_path / "containers"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while not records(api) and time.monotonic() < deadline:
        assert push.poll() in (None, 0), push.stdout.read() if push.stdout else ""
        time.sleep(0.05)
    found = records(api)
    assert found, "no record started"
    record_id = found[0]["id"]
    assert found[0]["status"] == "RUNNING"

    page.goto(f"/records/{record_id}")
    page.evaluate("window.__sameDocument = true")
    state = page.locator(".record-state")
    expect(state).to_contain_text("RUNNING")
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()
    attempts = page.locator("table.attempts tbody tr")
    expect(attempts.first).to_contain_text("500", timeout=20_000)  # shown as it happens
    shoot(page, "11-record-running")
    hook.fail_until = 0.0  # the next retry gets through

    expect(state).to_contain_text("COMPLETE", timeout=30_000)
    expect(state).to_contain_text("SUCCESS")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert push.wait(60) == 0
    expect(page.locator("#record-announcer")).to_have_text("Record COMPLETE / SUCCESS")
    assert attempts.count() >= 2, "every attempt, the failed ones too"
    expect(attempts.first).to_contain_text("500")
    expect(attempts.last).to_contain_text("200")
    # Written while the page was open: it came by the event stream.
    expect(page.locator("#record-logs")).to_contain_text("redeploy: delivered after")
    expect(page.get_by_role("button", name="Re-run")).to_be_visible()
    steps = page.get_by_role("list", name="Steps, in order")
    expect(steps.get_by_role("listitem")).to_have_count(2)
    expect(steps.get_by_role("listitem").first).to_contain_text("SCAN")
    expect(steps.get_by_role("listitem").first).to_contain_text("SUCCESS")
    expect(page.locator("section").filter(has_text="Scan findings")).to_contain_text("no findings")
    assert "token=abc" not in page.content()
    shoot(page, "12-record-complete")


def python_layer(salt: str = "") -> bytes:
    """A layer with two old Python distributions that the PyPA advisories cover."""
    builder = LayerBuilder().file("etc/image-salt", salt)
    for name, version in (("Jinja2", "2.10"), ("urllib3", "1.24.1")):
        builder.file(
            f"{PYTHON_SITE}/{name}-{version}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        )
    return gz(builder.bytes())


def test_the_chain_scans_a_pushed_image_and_its_tag_page_sorts_the_findings(
    page: Page, server: ConveyorServer, api: httpx.Client
) -> None:
    vulns = VULNDB_DATA / "pypa-osv" / "vulns"
    server.cli("vulndb", "import", str(vulns / "jinja2"), str(vulns / "urllib3"))
    push_image(api, "shop/web", "py-1", [python_layer()])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        scanned = [r for r in records(api) if r["trigger"]["tag"] == "py-1"]
        if scanned and scanned[0]["status"] == "COMPLETE":
            break
        time.sleep(0.1)
    assert scanned and scanned[0]["result"] == "SUCCESS", scanned

    page.goto(f"/records/{scanned[0]['id']}")
    section = page.locator("section").filter(has_text="Scan findings")
    expect(section.locator(".sev-high")).to_be_visible()
    expect(page.locator("#record-logs")).to_contain_text("untriggered")
    shoot(page, "13-record-scanned")
    section.get_by_role("link", name="Every finding of shop/web:py-1").click()

    table = page.locator("table.findings")
    rows = table.locator("tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 3
    expect(table.get_by_role("columnheader", name=re.compile("^Severity"))).to_have_attribute(
        "aria-sort", "descending"
    )
    severities = rows.locator("td:first-child").all_inner_texts()
    rank = {"CRITICAL": 4, "HIGH": 3, "MEDIUM": 2, "LOW": 1, "UNKNOWN": 0}
    assert [rank[s] for s in severities] == sorted((rank[s] for s in severities), reverse=True)
    shoot(page, "14-tag-findings")

    table.get_by_role("link", name=re.compile("^Package")).click()
    header = page.locator("table.findings").get_by_role("columnheader", name=re.compile("^Package"))
    expect(header).to_have_attribute("aria-sort", "descending")
    packages = page.locator("table.findings tbody tr td:nth-child(3)").all_inner_texts()
    assert packages == sorted(packages, reverse=True)
    assert {p.split()[0] for p in packages} == {"Jinja2", "urllib3"}
    page.locator("table.findings").get_by_role("link", name=re.compile("^Package")).click()
    expect(header).to_have_attribute("aria-sort", "ascending")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download SBOM (CycloneDX JSON)").click()
    sbom = Path(download.value.path()).read_text()
    assert '"bomFormat": "CycloneDX"' in sbom and "urllib3" in sbom


def test_tags_list_scan_state_and_an_unscanned_tag_can_be_scanned_now(
    page: Page, api: httpx.Client
) -> None:
    push_image(api, "shop/tools", "1.0", [python_layer("tools")])
    page.goto("/namespaces")
    shoot(page, "15-namespaces")
    page.get_by_role("link", name="shop", exact=True).click()
    shoot(page, "16-namespace")
    page.get_by_role("link", name="shop/web").click()
    web_v1 = page.get_by_role("row").filter(has=page.get_by_role("link", name="v1", exact=True))
    expect(web_v1).to_contain_text("linux/amd64")
    expect(web_v1).to_contain_text("scanned")
    expect(web_v1).to_contain_text("no findings")
    py = page.get_by_role("row").filter(has=page.get_by_role("link", name="py-1", exact=True))
    expect(py.locator(".sev-high")).to_be_visible()
    shoot(page, "17-repository")

    page.goto("/repositories/shop/tools")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="1.0", exact=True))
    expect(row).to_contain_text("not scanned")
    row.get_by_role("link", name="1.0").click()
    expect(page.locator("#scan")).to_contain_text("not scanned")
    page.get_by_role("button", name="Scan now").click()
    expect(page.locator("table.findings tbody tr").first).to_be_visible()
    page.goto("/repositories/shop/tools")
    expect(row.locator(".sev-high")).to_be_visible()

    page.goto("/repositories/shop/web/-/tags/v1")
    layers = page.get_by_role("table").filter(has_text="linux/amd64")
    expect(layers).to_contain_text("application/vnd.oci.image.layer.v1.tar+gzip")
    shoot(page, "18-tag-image")


def test_rerun_starts_a_linked_record_that_completes_live(page: Page, api: httpx.Client) -> None:
    first = records(api)[-1]["id"]  # the skopeo push of v1
    page.goto(f"/records/{first}")
    page.get_by_role("button", name="Re-run").click()
    expect(page).not_to_have_url(re.compile(rf"/records/{first}$"))
    expect(page.locator(".facts")).to_contain_text(f"#{first}")
    expect(page.locator(".record-state")).to_contain_text("SUCCESS", timeout=30_000)
    newest = records(api)[0]
    assert newest["rerunOf"] == first and newest["result"] == "SUCCESS"
    shoot(page, "19-record-rerun")


def test_cancel_stops_a_running_record(page: Page, hook: Receiver, api: httpx.Client) -> None:
    hook.fail_until = time.monotonic() + 120  # the webhook keeps failing: the record runs on
    try:
        before = len(records(api))
        push_config_image(api, "shop/web", "v2")
        deadline = time.monotonic() + 30
        while len(records(api)) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        running = records(api)[0]
        assert running["trigger"]["tag"] == "v2" and running["status"] == "RUNNING"
        page.goto(f"/records/{running['id']}")
        page.get_by_role("button", name="Cancel").click()
        state = page.locator(".record-state")
        expect(state).to_contain_text("CANCELED", timeout=30_000)
        expect(page.get_by_role("button", name="Re-run")).to_be_visible()
        shoot(page, "20-record-canceled")
    finally:
        hook.fail_until = 0.0
    assert records(api)[0]["result"] == "CANCELED"


def test_records_list_filters(page: Page) -> None:
    page.goto("/records")
    table = page.locator("table.records tbody tr")
    expect(table).to_have_count(4)
    shoot(page, "21-records")
    page.get_by_label("Result").select_option("FAILED")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"result=FAILED"))
    expect(page.get_by_text("No records match.")).to_be_visible()
    page.get_by_label("Result").select_option("SUCCESS")
    page.get_by_label("Chain").select_option(CHAIN)
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.records tbody tr")).to_have_count(3)
    page.get_by_label("Started from (UTC)").fill("2999-01-01T00:00")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No records match.")).to_be_visible()


def test_secrets_are_write_only_and_endpoints_can_be_added(page: Page) -> None:
    page.goto("/secrets")
    page.get_by_label("Name", exact=True).fill("hook-prod")
    page.get_by_label("Value").fill("s3cr3t-value-never-shown")
    page.get_by_role("button", name="Save secret").click()
    expect(page.get_by_role("cell", name="hook-prod", exact=True)).to_be_visible()
    assert "s3cr3t-value-never-shown" not in page.content()
    shoot(page, "22-secrets")

    page.goto("/endpoints")
    page.get_by_label("Name", exact=True).fill("eu")
    page.get_by_label("Registry URL").fill("not a url")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator(".error-summary")).to_contain_text("url")
    expect(page.get_by_label("Registry URL")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Registry URL").fill("https://registry.eu.example.com")
    page.get_by_label("Password").fill("pw-never-shown")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("cell", name="eu", exact=True)).to_be_visible()
    assert "pw-never-shown" not in page.content()
    shoot(page, "23-endpoints")


def test_edit_makes_a_new_version(page: Page, api: httpx.Client) -> None:
    page.goto(f"/chains/{CHAIN}")
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Chain name")).to_have_attribute("readonly", "")
    shoot(page, "26-wizard-edit")
    page.get_by_role("button", name="Distribution triggers").click()
    page.get_by_label("Signing secret (optional)").fill("hook-prod")
    page.get_by_role("button", name="Next: Summary").click()
    page.get_by_role("button", name="Save new version").click()
    expect(page.get_by_role("status")).to_contain_text("version 2")
    assert (
        api.get(f"/api/v1/chains/{CHAIN}").json()["document"]["spec"]["distribute"][0]["secret"]
        == "hook-prod"
    )


def test_overview_and_narrow_screens(page: Page) -> None:
    page.goto("/")
    expect(page.locator(".instance-card")).to_contain_text("Delivery chains")
    expect(page.get_by_role("table")).to_contain_text(CHAIN)
    shoot(page, "24-overview")
    page.set_viewport_size({"width": 375, "height": 800})
    try:
        for path, name in (
            ("/", "overview"),
            (f"/chains/{CHAIN}", "chain"),
            ("/records/1", "record"),
        ):
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} scrolls sideways on a phone ({width}px)"
            shoot(page, f"25-narrow-{name}")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def test_keyboard_skip_link_and_sign_out(page: Page) -> None:
    page.goto("/chains")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/chains")
    expect(page).to_have_url(re.compile(r"/login\?next="))
