"""`conveyor chain`, `conveyor record` and `conveyor secret`."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.progress import BarColumn, Progress, TextColumn

from conveyor.cli.client import ApiClient, CliError
from conveyor.cli.output import console, emit

chain_app = typer.Typer(no_args_is_help=True, help="Delivery chains.")
record_app = typer.Typer(no_args_is_help=True, help="Records: one per run of a chain.")
secret_app = typer.Typer(no_args_is_help=True, help="Secrets (write-only values).")
endpoint_app = typer.Typer(no_args_is_help=True, help="Remote registries that sync copies to.")
sync_app = typer.Typer(no_args_is_help=True, help="Synchronization rules run by hand.")

Output = Annotated[str, typer.Option("--output", "-o", help="table or json")]
Server = Annotated[str | None, typer.Option("--server", help="Conveyor server URL")]


@chain_app.command("apply")
def chain_apply(
    file: Annotated[Path, typer.Option("-f", "--file", help="chain file (YAML or JSON)")],
    server: Server = None,
    output: Output = "table",
) -> None:
    try:
        document = yaml.safe_load(file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise CliError(f"cannot read {file}: {exc}") from None
    saved = ApiClient(server).post("/api/v1/chains", document)
    if output == "json":
        emit(saved, output)
        return
    what = "created" if saved["created"] else ("updated" if saved["changed"] else "unchanged")
    console.print(f"chain {saved['name']} {what} (version {saved['version']})")


@chain_app.command("list")
def chain_list(server: Server = None, output: Output = "table") -> None:
    rows = ApiClient(server).get("/api/v1/chains")
    for row in rows:
        row["nodes"] = ",".join(_nodes(row["document"]))
    emit(rows, output, ["name", "namespace", "version", "nodes", "updatedAt"])


@chain_app.command("show")
def chain_show(name: str, server: Server = None, output: Output = "table") -> None:
    chain = ApiClient(server).get(f"/api/v1/chains/{name}")
    if output == "json":
        emit(chain, output)
        return
    console.print(
        f"[bold]{chain['name']}[/bold] version {chain['version']} in {chain['namespace']}"
    )
    console.print(yaml.safe_dump(chain["document"], sort_keys=False))


@chain_app.command("export")
def chain_export(name: str, server: Server = None) -> None:
    """Print the chain file (YAML) of the current version."""
    chain = ApiClient(server).get(f"/api/v1/chains/{name}")
    sys.stdout.write(yaml.safe_dump(chain["document"], sort_keys=False))


@chain_app.command("delete")
def chain_delete(name: str, server: Server = None) -> None:
    ApiClient(server).delete(f"/api/v1/chains/{name}")
    console.print(f"Deleted chain {name}.")


def _nodes(document: dict[str, Any]) -> list[str]:
    spec = document.get("spec", {})
    return [n for n in ("build", "scan", "sync", "distribute") if spec.get(n)]


@record_app.command("list")
def record_list(
    chain: Annotated[str | None, typer.Option("--chain")] = None,
    server: Server = None,
    output: Output = "table",
) -> None:
    params = {"chain": chain} if chain else {}
    rows = ApiClient(server).get("/api/v1/records", params=params)
    for row in rows:
        row["tag"] = row["trigger"].get("tag") or row["trigger"].get("ref")
        row["steps"] = " ".join(f"{s['node']}:{s['status']}" for s in row["steps"])
    emit(rows, output, ["id", "chain", "status", "result", "tag", "steps", "startedAt"])


@record_app.command("show")
def record_show(
    record_id: int,
    logs: Annotated[bool, typer.Option("--logs", help="print the step logs too")] = False,
    server: Server = None,
    output: Output = "table",
) -> None:
    client = ApiClient(server)
    record = client.get(f"/api/v1/records/{record_id}")
    if output == "json":
        if logs:
            record["logs"] = client.get(f"/api/v1/records/{record_id}/logs")
        emit(record, output)
        return
    trigger = record["trigger"]
    console.print(
        f"[bold]record {record['id']}[/bold] chain {record['chain']} v{record['chainVersion']}: "
        f"{record['status']} / {record['result'] or '-'}"
    )
    console.print(f"trigger: {json.dumps(trigger)}")
    if record.get("reason"):
        console.print(f"reason: {record['reason']}")
    for step in record["steps"]:
        console.print(
            f"  {step['node']:<10} {step['status']:<9} attempts={step['attempts']} "
            f"{step.get('error') or ''}"
        )
        for attempt in step.get("deliveryAttempts", []):
            console.print(
                f"      {attempt['target']} #{attempt['attempt']}: "
                f"{attempt['statusCode'] or attempt['error']} in {attempt['durationMs']} ms"
            )
    if logs:
        for line in client.get(f"/api/v1/records/{record_id}/logs"):
            console.print(f"  [{line['node']}/{line['stage']} {line['line']}] {line['text']}")


@record_app.command("cancel")
def record_cancel(record_id: int, server: Server = None, output: Output = "table") -> None:
    record = ApiClient(server).post(f"/api/v1/records/{record_id}/cancel", {})
    emit(record if output == "json" else {"id": record["id"], "status": record["status"]}, output)


@record_app.command("rerun")
def record_rerun(record_id: int, server: Server = None, output: Output = "table") -> None:
    record = ApiClient(server).post(f"/api/v1/records/{record_id}/rerun", {})
    if output == "json":
        emit(record, output)
        return
    console.print(f"record {record['id']} started (re-run of {record_id})")


@secret_app.command("set")
def secret_set(name: str, server: Server = None) -> None:
    """Read the value from standard input (never from the command line)."""
    value = sys.stdin.read().rstrip("\n")
    if not value:
        raise CliError("give the value on standard input")
    ApiClient(server).request("PUT", f"/api/v1/secrets/{name}", json={"value": value})
    console.print(f"Secret {name} set.")


@secret_app.command("list")
def secret_list(server: Server = None, output: Output = "table") -> None:
    emit(ApiClient(server).get("/api/v1/secrets"), output, ["name", "createdAt", "updatedAt"])


@secret_app.command("remove")
def secret_remove(name: str, server: Server = None) -> None:
    ApiClient(server).delete(f"/api/v1/secrets/{name}")
    console.print(f"Removed secret {name}.")


@endpoint_app.command("add")
def endpoint_add(
    name: str,
    url: Annotated[str, typer.Option("--url", help="registry base URL")],
    username: Annotated[str | None, typer.Option("--username")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    insecure: Annotated[bool, typer.Option("--insecure", help="skip TLS verification")] = False,
    region: Annotated[str | None, typer.Option("--region")] = None,
    server: Server = None,
    output: Output = "table",
) -> None:
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    body = {
        "name": name,
        "url": url,
        "username": username,
        "password": password,
        "insecure": insecure,
        "region": region,
    }
    emit(ApiClient(server).post("/api/v1/endpoints", body), output)


@endpoint_app.command("list")
def endpoint_list(server: Server = None, output: Output = "table") -> None:
    rows = ApiClient(server).get("/api/v1/endpoints")
    emit(rows, output, ["name", "url", "username", "hasPassword", "insecure", "region"])


@endpoint_app.command("remove")
def endpoint_remove(name: str, server: Server = None) -> None:
    ApiClient(server).delete(f"/api/v1/endpoints/{name}")
    console.print(f"Removed endpoint {name}.")


@sync_app.command("run")
def sync_run(
    chain: str,
    rule: str,
    backfill: Annotated[
        bool, typer.Option("--backfill", help="every existing tag (default)")
    ] = True,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="start it and print the record")
    ] = False,
    server: Server = None,
    output: Output = "table",
) -> None:
    """Copy every tag the rule selects now; waits with a progress bar and prints a summary."""
    client = ApiClient(server)
    body = {"rule": rule, "backfill": backfill}
    record = client.post(f"/api/v1/chains/{chain}/sync-runs", body)
    if no_wait:
        emit(
            record if output == "json" else {"record": record["id"], "status": record["status"]},
            output,
        )
        return
    record = _wait_with_progress(client, record["id"])
    if output == "json":
        emit(record, output)
    else:
        _sync_summary(record)
    if record["result"] != "SUCCESS":
        raise CliError(f"sync {record['result']}: {record.get('reason') or ''}")


def _wait_with_progress(client: ApiClient, record_id: int) -> dict[str, Any]:
    with Progress(
        TextColumn("[bold]sync[/bold]"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("sync", total=None, status="starting")
        deadline = time.monotonic() + 24 * 3600
        while time.monotonic() < deadline:
            record: dict[str, Any] = client.get(f"/api/v1/records/{record_id}")
            step = record["steps"][0] if record["steps"] else {}
            done = (step.get("result") or {}).get("progress", {})
            status = f"{done.get('blobs', 0)} blobs, {_mib(done.get('bytes', 0))} copied"
            progress.update(task, status=status)
            if record["status"] in ("COMPLETE", "CANCELED"):
                return record
            time.sleep(0.5)
    raise CliError(f"record {record_id} did not finish in a day")


def _sync_summary(record: dict[str, Any]) -> None:
    tasks = (record["steps"][0].get("result") or {}).get("tasks", []) if record["steps"] else []
    copied = [
        t for t in tasks if t.get("blobsCopied") or t.get("manifestsCopied") or t.get("tagWritten")
    ]
    failed = [t for t in tasks if t.get("errorCode")]
    moved = sum(int(t.get("bytesCopied") or 0) for t in tasks)
    console.print(
        f"record {record['id']}: {record['result']} — {len(tasks)} tag(s) selected, "
        f"{len(copied)} copied, {len(tasks) - len(copied) - len(failed)} already there, "
        f"{len(failed)} failed, {_mib(moved)} moved"
    )
    for task in failed:
        console.print(
            f"  [red]{task['destination']}: {task['errorCode']}[/red] {task.get('error') or ''}"
        )


def _mib(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MiB"
