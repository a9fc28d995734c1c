"""Human tables by default, the API's JSON documents with `-o json`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def emit(data: Any, fmt: str, columns: Sequence[str] = ()) -> None:
    if fmt == "json":
        print(json.dumps(data, indent=2, default=str))
        return
    if isinstance(data, list):
        table = Table(*columns)
        for item in data:
            table.add_row(*(_cell(item.get(c)) for c in columns))
        console.print(table)
        return
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(value, list):
                console.print(f"[bold]{key}[/bold]: {_cell(value)}")
        return
    console.print(str(data))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
