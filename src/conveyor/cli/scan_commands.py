"""`conveyor scan IMAGE` and `conveyor vulndb import|status`.

`vulndb import` packs the given files and folders (OSV JSON/YAML, zip archives, Alpine secdb,
Debian tracker lists or JSON) into a gzip'd tar and uploads it to the server, which imports it
in one transaction: the data need not be on the server's machine, and the server never reads
paths a client names.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from conveyor.cli.client import ApiClient, CliError
from conveyor.cli.output import console, emit

app = typer.Typer(add_completion=False)
vulndb_app = typer.Typer(no_args_is_help=True, help="The offline vulnerability database.")
app.add_typer(vulndb_app, name="vulndb")

Server = Annotated[str | None, typer.Option("--server", help="Conveyor server URL")]
DATA_SUFFIXES = (".json", ".yaml", ".yml", ".zip")


@app.command()
def scan(
    image: Annotated[str, typer.Argument(help="ns/repo:tag or ns/repo@sha256:...")],
    output: Annotated[
        str, typer.Option("--output", "-o", "--format", help="table, json or cyclonedx")
    ] = "table",
    refresh: Annotated[bool, typer.Option("--refresh", help="read the layers again")] = False,
    server: Server = None,
) -> None:
    """Scan an image of this instance for known vulnerabilities."""
    if output not in ("table", "json", "cyclonedx"):
        raise CliError("--output must be table, json or cyclonedx")
    body = {"image": image, "refresh": refresh, "format": "json"}
    if output == "cyclonedx":
        body["format"] = "cyclonedx"
    report = ApiClient(server).post("/api/v1/scans", body)
    if output == "table":
        _print_report(report)
    else:
        print(json.dumps(report, indent=2))


def _print_report(report: dict[str, Any]) -> None:
    console.print(f"[bold]{report['image']}[/bold] {report['digest']}")
    console.print(f"{len(report.get('packages', []))} packages")
    counts = ", ".join(f"{k}: {v}" for k, v in report["summary"].items())
    console.print(counts)
    table = Table("id", "severity", "package", "version", "fixed", "hint")
    for finding in report["findings"]:
        table.add_row(
            finding["id"],
            finding["severity"],
            finding["package"],
            finding["version"],
            finding["fixedVersion"] or "-",
            finding.get("hint", ""),
        )
    console.print(table)


@vulndb_app.command("import")
def vulndb_import(
    paths: Annotated[list[Path], typer.Argument(help="data files, folders or zip archives")],
    server: Server = None,
    output: Annotated[str, typer.Option("--output", "-o", help="table or json")] = "table",
) -> None:
    """Import vulnerability data (OSV, Alpine secdb, Debian security tracker)."""
    with tempfile.TemporaryFile() as bundle:
        count = _pack(paths, bundle)
        if not count:
            raise CliError("no data files (.json, .yaml, .yml, .zip or a tracker `list`) found")
        bundle.seek(0)
        result = ApiClient(server).request(
            "POST",
            "/api/v1/vulndb/import",
            content=bundle,
            headers={"Content-Type": "application/gzip"},
        )
    if output == "json":
        emit(result, "json")
        return
    console.print(f"{result['files']} files read, {result['skippedFiles']} skipped")
    emit(result["imported"], output, ["name", "kind", "advisories", "affected"])


def _pack(paths: list[Path], bundle: Any) -> int:
    count = 0
    with tarfile.open(fileobj=bundle, mode="w:gz", compresslevel=1) as archive:
        for path in paths:
            if not path.exists():
                raise CliError(f"{path}: no such file or directory")
            for file, name in _data_files(path):
                archive.add(file, arcname=name, recursive=False)
                count += 1
    return count


def _data_files(path: Path) -> list[tuple[Path, str]]:
    if path.is_file():
        return [(path, path.name)]
    found = []
    for directory, dirs, names in os.walk(path):
        dirs.sort()
        for name in sorted(names):
            file = Path(directory) / name
            if file.is_symlink() or not (name.endswith(DATA_SUFFIXES) or name == "list"):
                continue
            found.append((file, f"{path.name}/{file.relative_to(path).as_posix()}"))
    return found


@vulndb_app.command("status")
def vulndb_status(
    server: Server = None, output: Annotated[str, typer.Option("--output", "-o")] = "table"
) -> None:
    """Imported sources with their counts and import dates."""
    result = ApiClient(server).get("/api/v1/vulndb")
    if output == "json":
        emit(result, "json")
        return
    emit(result["sources"], output, ["name", "kind", "advisories", "affected", "importedAt"])
    console.print(f"{result['advisories']} advisories, {result['affected']} affected packages")
