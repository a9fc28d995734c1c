"""`conveyor repo bind-source|source|unbind-source|push-event` and `conveyor build run`."""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

import typer

from conveyor.cli.client import ApiClient, CliError
from conveyor.cli.output import console, emit

build_app = typer.Typer(no_args_is_help=True, help="Builds from git sources.")

Output = Annotated[str, typer.Option("--output", "-o", help="table or json")]
Server = Annotated[str | None, typer.Option("--server", help="Conveyor server URL")]
_DURATION = re.compile(r"(\d+)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SOURCE_FIELDS = ("repository", "git", "credentials", "webhookSecret", "pollSeconds", "id")


def parse_duration(text: str) -> int:
    """`60s`, `5m`, `1h`, `1d` or plain seconds."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise CliError(f"{text!r} is not a duration (like 60s, 5m, 1h)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _source_path(name: str) -> str:
    if "/" not in name:
        raise CliError(f"{name!r} is not NS/REPO")
    return f"/api/v1/repositories/{name}/source"


def _show_source(client: ApiClient, source: dict[str, Any], output: str) -> None:
    if output == "json":
        emit(source, output)
        return
    emit({key: source.get(key) for key in _SOURCE_FIELDS}, output)
    console.print(f"[bold]webhook[/bold]: {client.server}{source['webhookPath']}")


def bind_source(
    name: Annotated[str, typer.Argument(help="NS/REPO")],
    git: Annotated[str, typer.Option("--git", help="https, ssh or file URL of the repository")],
    credentials: Annotated[
        str | None, typer.Option("--credentials", help="stored secret with git credentials")
    ] = None,
    poll: Annotated[
        str | None, typer.Option("--poll", help="poll with git ls-remote this often (60s, 5m)")
    ] = None,
    webhook_secret: Annotated[
        str | None, typer.Option("--webhook-secret", help="stored secret that signs webhooks")
    ] = None,
    server: Server = None,
    output: Output = "table",
) -> None:
    """Bind a repository to a git source: it becomes source-bound and can have a build node."""
    client = ApiClient(server)
    body = {
        "git": git,
        "credentials": credentials,
        "webhookSecret": webhook_secret,
        "pollSeconds": parse_duration(poll) if poll else None,
    }
    source = client.request("PUT", _source_path(name), json=body)
    _show_source(client, source, output)


def show_source(
    name: Annotated[str, typer.Argument(help="NS/REPO")],
    server: Server = None,
    output: Output = "table",
) -> None:
    """Show a repository's git source and its webhook URL."""
    client = ApiClient(server)
    _show_source(client, client.get(_source_path(name)), output)


def unbind_source(
    name: Annotated[str, typer.Argument(help="NS/REPO")], server: Server = None
) -> None:
    """Remove a repository's git source (refused while a chain builds from it)."""
    ApiClient(server).delete(_source_path(name))
    console.print(f"{name} is no longer bound to a git source.")


def push_event(
    name: Annotated[str, typer.Argument(help="NS/REPO")],
    ref: Annotated[str, typer.Option("--ref", help="refs/heads/BRANCH or refs/tags/TAG")],
    commit: Annotated[
        str | None, typer.Option("--commit", help="the pushed commit (default: the ref's tip)")
    ] = None,
    server: Server = None,
    output: Output = "table",
) -> None:
    """Tell the instance of a push; every matching build rule starts a record."""
    reply = ApiClient(server).post(
        f"/api/v1/repositories/{name}/push-events", {"ref": ref, "commit": commit}
    )
    if output == "json":
        emit(reply, output)
        return
    records = ", ".join(str(r) for r in reply["records"]) or "none (no rule matches)"
    console.print(f"{reply['ref']} at {reply['commit'][:12]}: records {records}")


def add_repo_commands(repo_app: typer.Typer) -> None:
    repo_app.command("bind-source")(bind_source)
    repo_app.command("source")(show_source)
    repo_app.command("unbind-source")(unbind_source)
    repo_app.command("push-event")(push_event)


@build_app.command("run")
def build_run(
    chain: str,
    rule: Annotated[int, typer.Option("--rule", help="the build rule, counting from 1")],
    ref: Annotated[
        str | None, typer.Option("--ref", help="branch or tag to build (default: the rule's)")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="wait for the record to end")] = False,
    server: Server = None,
    output: Output = "table",
) -> None:
    """Build by hand (refused for rules only a push may build: regex ref, buildTime, commitId)."""
    client = ApiClient(server)
    record = client.post(f"/api/v1/chains/{chain}/builds", {"rule": rule, "ref": ref})
    while wait and record["status"] not in ("COMPLETE", "CANCELED"):
        time.sleep(1)
        record = client.get(f"/api/v1/records/{record['id']}")
    if output == "json":
        emit(record, output)
        return
    trigger = record["trigger"]
    console.print(
        f"record {record['id']}: {trigger['ref']} at {trigger['commit'][:12]}, "
        f"{record['status']}" + (f" / {record['result']}" if record.get("result") else "")
    )
    if record.get("reason"):
        console.print(f"reason: {record['reason']}")
    if wait and record.get("result") != "SUCCESS":
        raise typer.Exit(1)
