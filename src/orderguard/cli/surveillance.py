"""CLI commands: surveillance (`scan` a replay in batch, `watch` a live stream)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from orderguard.config import FirmConfig
    from orderguard.domain.alerts import Alert
    from orderguard.surveillance.custom_rules import CustomRule

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="the firm file (TOML)")]
RulesOption = Annotated[
    str | None,
    typer.Option(
        "--rules",
        help="custom rule file (YAML, CEL conditions); 'default' for the shipped one; "
        "default: the firm file's detectors.rules_file",
    ),
]
OnlyOption = Annotated[list[str] | None, typer.Option("--rule", help="run only this detector (repeatable)")]
EventsArgument = Annotated[list[Path], typer.Argument(help="event files: .jsonl/.json, .csv or .parquet")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="alerts file (JSONL); default stdout")]
FollowOption = Annotated[Path | None, typer.Option("--follow", help="read a growing JSONL file, not stdin")]
IdleOption = Annotated[
    float | None, typer.Option("--idle-exit", help="with --follow: stop after N idle seconds")
]
SnapshotOption = Annotated[
    Path | None, typer.Option("--snapshot", help="restore state from this file if present; save it on exit")
]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _rules_path(config: Path, firm: FirmConfig, rules: str | None) -> Path | None:
    from orderguard.surveillance.custom_rules import DEFAULT_RULES

    if rules == "default":
        return DEFAULT_RULES
    if rules is not None:
        return Path(rules)
    configured = firm.detectors.rules_file
    if configured is None or configured.is_absolute():
        return configured
    return config.parent / configured


def _load(config: Path, rules: str | None) -> tuple[FirmConfig, tuple[CustomRule, ...]]:
    from orderguard.config import ConfigError, load_config
    from orderguard.surveillance.custom_rules import RuleFileError, load_rules

    try:
        firm = load_config(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    path = _rules_path(config, firm, rules)
    try:
        return firm, load_rules(path) if path is not None else ()
    except RuleFileError as exc:
        raise _fail(str(exc)) from None


def _summary(alerts: list[Alert], custom: tuple[CustomRule, ...]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    table = Table(title=f"{len(alerts):,} alerts")
    for column in ("rule", "alerts", "high", "medium", "low", "action"):
        table.add_column(column, justify="left" if column in ("rule", "action") else "right")
    by_rule: dict[str, Counter[str]] = {}
    action: dict[str, str] = {}
    for alert in alerts:
        by_rule.setdefault(alert.rule, Counter())[alert.severity] += 1
        action[alert.rule] = alert.action
    for name in sorted(by_rule):
        counts = by_rule[name]
        severities = (f"{counts[s]:,}" for s in ("high", "medium", "low"))
        table.add_row(name, f"{sum(counts.values()):,}", *severities, action[name])
    console.print(table)
    for custom_rule in custom:
        if custom_rule.mode == "shadow":
            matches = len(custom_rule.shadow_matches)
            console.print(f"shadow rule {custom_rule.id}: {matches:,} matches (not alerted)")
        if custom_rule.errors:
            console.print(
                f"[yellow]rule {custom_rule.id}: condition failed on {custom_rule.errors:,} events[/]"
            )


def scan(
    events: EventsArgument,
    config: ConfigOption,
    out: OutOption = None,
    rules: RulesOption = None,
    rule: OnlyOption = None,
) -> None:
    """Run every detector over event files in batch; write alerts as JSON Lines.

    Exit 0 when nothing alerts, 1 when anything does, 2 on bad input.
    """
    from rich.console import Console
    from rich.progress import Progress

    from orderguard.ingest import IngestError, read_events
    from orderguard.surveillance.alerts_out import alert_line, write_alerts
    from orderguard.surveillance.batch import BatchEngine

    firm, custom = _load(config, rules)
    for path in events:
        if not path.is_file():
            raise _fail(f"{path}: no such event file; check the path")
    try:
        engine = BatchEngine(firm, rules=tuple(rule) if rule else None, custom=custom)
    except ValueError as exc:
        raise _fail(f"--rule: {exc}") from None
    with Progress(transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task("reading events", total=len(engine.detectors) + len(custom) + 1)
        try:
            batch = read_events(events)
        except IngestError as exc:
            raise _fail(str(exc)) from None
        progress.advance(task)

        def step(name: str) -> None:
            progress.update(task, description=f"running {name}")
            progress.advance(task)

        alerts = engine.scan(batch.table, progress=step)
    if out is None:
        sys.stdout.writelines(alert_line(alert) + "\n" for alert in alerts)
    else:
        write_alerts(out, alerts)
    _summary(alerts, custom)
    if alerts:
        raise typer.Exit(1)


def _print_alerts(alerts: list[Alert]) -> None:
    """Alerts as JSON Lines on standard output, flushed at once (a live reader waits on them)."""
    from orderguard.surveillance.alerts_out import alert_line

    sys.stdout.writelines(alert_line(alert) + "\n" for alert in alerts)
    sys.stdout.flush()


def watch(
    config: ConfigOption,
    follow_file: FollowOption = None,
    idle_exit: IdleOption = None,
    snapshot: SnapshotOption = None,
    rules: RulesOption = None,
) -> None:
    """Stream events (JSON Lines, in time order) through every detector; print alerts as JSON Lines.

    Exit 0 when nothing alerted, 1 when anything did, 2 on bad input (naming the line).
    """
    from orderguard.surveillance.json_lines import LineError
    from orderguard.surveillance.live import feed_engine, follow, read_chunks
    from orderguard.surveillance.stream import OutOfOrderEventError, SnapshotError, StreamEngine

    firm, custom = _load(config, rules)
    engine = StreamEngine(firm, custom=custom)
    if snapshot is not None and snapshot.is_file():
        try:
            engine.restore(snapshot.read_bytes())
        except SnapshotError as exc:
            raise _fail(f"{snapshot}: {exc}") from None
    if follow_file is not None and not follow_file.is_file():
        raise _fail(f"{follow_file}: no such file to follow")
    source = str(follow_file) if follow_file is not None else "<stdin>"
    chunks = (
        follow(follow_file, idle_exit=idle_exit) if follow_file is not None else read_chunks(sys.stdin.buffer)
    )
    alerted = False
    try:
        alerted = feed_engine(engine, chunks, source, _print_alerts)
    except (LineError, OutOfOrderEventError) as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        pass
    finally:
        if snapshot is not None:
            partial = snapshot.with_name(snapshot.name + ".tmp")
            partial.write_bytes(engine.snapshot())
            partial.replace(snapshot)
    if alerted:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("scan")(scan)
    app.command("watch")(watch)
