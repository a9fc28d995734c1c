"""The `conveyor` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli import build_commands, identity_commands, scan_commands
from conveyor.cli.chain_commands import (
    chain_app,
    endpoint_app,
    record_app,
    secret_app,
    sync_app,
)
from conveyor.cli.client import ApiClient, CliError
from conveyor.cli.output import console, emit

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Conveyor: registry and delivery chains."
)
namespace_app = typer.Typer(no_args_is_help=True, help="Namespaces: groups of repositories.")
user_app = typer.Typer(no_args_is_help=True, help="User accounts (administrators).")
repo_app = typer.Typer(no_args_is_help=True, help="Repositories.")
app.add_typer(namespace_app, name="namespace")
app.add_typer(user_app, name="user")
app.add_typer(repo_app, name="repo")
app.add_typer(build_commands.build_app, name="build")
build_commands.add_repo_commands(repo_app)  # bind-source, source, unbind-source, push-event
app.add_typer(chain_app, name="chain")
app.add_typer(record_app, name="record")
app.add_typer(secret_app, name="secret")
app.add_typer(endpoint_app, name="endpoint")
app.add_typer(sync_app, name="sync")
app.add_typer(scan_commands.app)  # `scan IMAGE` and `vulndb import|status`
app.add_typer(identity_commands.robot_app, name="robot")
app.add_typer(identity_commands.token_app, name="token")
identity_commands.add_secret_commands(secret_app)  # secret rotate-key
for command in (identity_commands.login, identity_commands.logout, identity_commands.audit):
    app.command()(command)

Output = Annotated[str, typer.Option("--output", "-o", help="table or json")]
Server = Annotated[str | None, typer.Option("--server", help="Conveyor server URL")]


@app.command()
def serve(
    data: Annotated[Path | None, typer.Option(help="data directory")] = None,
    listen: Annotated[str | None, typer.Option(help="HOST:PORT")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML configuration file")] = None,
) -> None:
    """Run the embedded server: registry, API and runners in one process."""
    from conveyor.cli.serve import serve as run_server

    run_server(data, listen, config)


@app.command()
def runner(
    config: Annotated[Path | None, typer.Option(help="TOML configuration file")] = None,
    data: Annotated[
        Path | None, typer.Option(help="data directory (for the secrets key file)")
    ] = None,
    listen: Annotated[
        str | None, typer.Option(help="HOST:PORT for /healthz, /readyz and /metrics")
    ] = None,
) -> None:
    """Run chain steps from the shared database (scale-out: any number of these)."""
    from conveyor.cli.runner import run_runner

    run_runner(config, data, listen)


@namespace_app.command("create")
def namespace_create(
    name: str,
    public: Annotated[bool, typer.Option("--public")] = False,
    server: Server = None,
    output: Output = "table",
) -> None:
    emit(ApiClient(server).post("/api/v1/namespaces", {"name": name, "public": public}), output)


@namespace_app.command("list")
def namespace_list(server: Server = None, output: Output = "table") -> None:
    emit(ApiClient(server).get("/api/v1/namespaces"), output, ["name", "public", "createdAt"])


@namespace_app.command("delete")
def namespace_delete(name: str, server: Server = None) -> None:
    ApiClient(server).delete(f"/api/v1/namespaces/{name}")
    console.print(f"Deleted namespace {name}.")


member_app = typer.Typer(no_args_is_help=True, help="Members of a namespace and their roles.")
namespace_app.add_typer(member_app, name="member")


@member_app.command("add")
def member_add(
    namespace: str,
    user: str,
    role: Annotated[str, typer.Option(help="owner, developer or guest")] = "developer",
    server: Server = None,
    output: Output = "table",
) -> None:
    body = {"user": user, "role": role}
    emit(
        ApiClient(server).request("PUT", f"/api/v1/namespaces/{namespace}/members", json=body),
        output,
    )


@member_app.command("remove")
def member_remove(namespace: str, user: str, server: Server = None) -> None:
    ApiClient(server).delete(f"/api/v1/namespaces/{namespace}/members/{user}")
    console.print(f"Removed {user} from {namespace}.")


@member_app.command("list")
def member_list(namespace: str, server: Server = None, output: Output = "table") -> None:
    rows = ApiClient(server).get(f"/api/v1/namespaces/{namespace}/members")
    emit(rows, output, ["user", "role"])


@user_app.command("create")
def user_create(
    name: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
    admin: Annotated[bool, typer.Option("--admin")] = False,
    server: Server = None,
    output: Output = "table",
) -> None:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    body = {"name": name, "password": password, "admin": admin}
    emit(ApiClient(server).post("/api/v1/users", body), output)


@user_app.command("list")
def user_list(server: Server = None, output: Output = "table") -> None:
    emit(ApiClient(server).get("/api/v1/users"), output, ["name", "admin", "createdAt"])


@user_app.command("delete")
def user_delete(name: str, server: Server = None) -> None:
    ApiClient(server).delete(f"/api/v1/users/{name}")
    console.print(f"Deleted user {name}.")


@repo_app.command("list")
def repo_list(
    namespace: Annotated[str | None, typer.Argument()] = None,
    server: Server = None,
    output: Output = "table",
) -> None:
    params = {"namespace": namespace} if namespace else {}
    rows = ApiClient(server).get("/api/v1/repositories", params=params)
    emit(rows, output, ["name", "tagCount", "createdAt"])


@repo_app.command("show")
def repo_show(name: str, server: Server = None, output: Output = "table") -> None:
    detail = ApiClient(server).get(f"/api/v1/repositories/{name}")
    emit(detail, output)
    if output != "json":
        emit(detail["tags"], output, ["name", "digest", "mediaType", "size", "updatedAt"])


@app.command()
def gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="report, delete nothing")] = False,
    server: Server = None,
    output: Output = "table",
) -> None:
    """Delete blobs no manifest references and abandoned uploads."""
    emit(ApiClient(server).post("/api/v1/gc", {"dryRun": dry_run}), output)


def main() -> None:
    try:
        app()
    except CliError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
