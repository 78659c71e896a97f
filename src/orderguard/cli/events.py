"""CLI commands: events (validate interchange files)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from orderguard.ingest import FileReport


def _status(item: FileReport) -> str:
    if item.ok:
        return "[green]valid[/green]"
    more = "+" if item.more_errors else ""
    return f"[red]invalid: {len(item.errors)}{more} errors[/red]"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    events_app = typer.Typer(help="Event files in the interchange format v1 (docs/event-format.md).")
    app.add_typer(events_app, name="events")

    @events_app.command("validate")
    def validate(
        files: Annotated[list[Path], typer.Argument(help="event files: .jsonl/.json, .csv or .parquet")],
        max_errors: Annotated[int, typer.Option("--max-errors", min=1, help="errors to show per file")] = 20,
    ) -> None:
        """Check event files as intake would; print counts per kind and every error.

        Exit 0 when all files are valid, 1 when any is not, 2 when a file is missing.
        """
        from rich.console import Console
        from rich.table import Table

        from orderguard.ingest import validate_files

        console = Console()
        missing = [f for f in files if not f.is_file()]
        if missing:
            for path in missing:
                Console(stderr=True).print(f"[red]{path}: no such file; check the path[/red]")
            raise typer.Exit(2)
        report = validate_files(files, limit=max_errors)
        kinds = sorted({kind for f in report.files for kind in f.counts})
        table = Table(title="Events per kind")
        table.add_column("kind")
        for item in report.files:
            table.add_column(item.path, justify="right", overflow="fold")
        for kind in kinds:
            table.add_row(kind, *(f"{f.counts.get(kind, 0):,}" if f.ok else "-" for f in report.files))
        table.add_row("[bold]total[/bold]", *(f"{f.rows:,}" if f.ok else "-" for f in report.files))
        table.add_row("[bold]status[/bold]", *(_status(f) for f in report.files))
        console.print(table)
        for error in report.errors:
            console.print(f"[red]error[/red] {error}", highlight=False, soft_wrap=True)
        if not report.ok:
            raise typer.Exit(1)
