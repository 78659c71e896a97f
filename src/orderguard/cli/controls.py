"""CLI commands: controls (``policy test``, ``deploy check``, ``approvals list``; ``controls`` group)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from orderguard.approvals.breakglass import Notification
    from orderguard.approvals.sql_store import SqlApprovalStore
    from orderguard.deploy.gate import DeployVerdict
    from orderguard.domain import Principal
    from orderguard.domain.alerts import Alert

DEFAULT_DB = "sqlite:///orderguard.db"
DbOption = Annotated[
    str, typer.Option("--db", envvar="ORDERGUARD_DB", help="Database URL holding the approval requests.")
]
ConfigOption = Annotated[
    Path, typer.Option("--config", envvar="ORDERGUARD_CONFIG", help="The firm file (TOML).")
]


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _approval_store(db: str) -> SqlApprovalStore:
    from orderguard.approvals.sql_store import SqlApprovalStore
    from orderguard.cli._database import migrated_engine

    return SqlApprovalStore(migrated_engine(db, "approval_requests", "approval"))


policy_app = typer.Typer(help="Cedar authorization policies.", no_args_is_help=True)
deploy_app = typer.Typer(help="The deploy gate (CODEOWNERS + approvals).", no_args_is_help=True)
approvals_app = typer.Typer(help="Multi-party approval requests.", no_args_is_help=True)


class _EchoNotices:
    """Break-glass notices and alerts from the command: printed to stderr (and named in the audit entry)."""

    def notify(self, notification: Notification) -> None:
        typer.echo(f"NOTIFY {notification.recipient}: {notification.subject}", err=True)

    def raise_alert(self, alert: Alert) -> None:
        typer.echo(f"ALERT {alert.rule} ({alert.severity}): {alert.explanation}", err=True)


def _record_deploy(
    store: SqlApprovalStore, verdict: DeployVerdict, actor: str, now: int, principals: list[Principal]
) -> None:
    """Write the gate's decision to the audit log in the same database, when it has one.

    A break-glass deploy must be audited: without the audit tables it is refused (exit 2).
    """
    from sqlalchemy import inspect

    from orderguard.audit.log import AuditLog
    from orderguard.deploy.gate import audit_deploy

    if not inspect(store.engine).has_table("audit_entries"):
        if verdict.emergency:
            _fail("a break-glass deploy must be audited; run `orderguard db upgrade --db URL` first")
        return
    sink = _EchoNotices()
    with AuditLog(store.engine) as log:
        index = audit_deploy(log, verdict, actor, now, principals=principals, notifications=sink, alerts=sink)
    typer.echo(f"decision recorded in the audit log at index {index}")


def register(app: typer.Typer) -> None:
    """Add the policy, deploy and approvals command groups."""
    app.add_typer(policy_app, name="policy")
    app.add_typer(deploy_app, name="deploy")
    app.add_typer(approvals_app, name="approvals")
    from orderguard.cli import reference_prices  # the ``controls reference-prices`` group

    reference_prices.register(app)


@policy_app.command("test")
def policy_test(
    file: Annotated[Path, typer.Argument(help="YAML file of policy test cases")],
    config: Annotated[
        Path | None, typer.Option("--config", help="firm file (default: the 'firm' key of FILE)")
    ] = None,
) -> None:
    """Run table-driven policy tests. Exit 0 all pass, 1 a case fails, 2 bad input."""
    from rich.console import Console
    from rich.table import Table

    from orderguard.config import ConfigError
    from orderguard.policy.authorizer import PolicyLoadError
    from orderguard.policy.policytest import PolicyTestError, run_policy_tests

    try:
        results = run_policy_tests(file, config)
    except (PolicyTestError, ConfigError, PolicyLoadError) as exc:
        _fail(str(exc))
    table = Table(title=f"Policy tests: {file}")
    for column in ("case", "expected", "got", "policies", "result"):
        table.add_column(column, overflow="fold")
    for r in results:
        got = "allow" if r.decision.allowed else f"deny {r.decision.reason.value}"
        verdict = "[green]pass[/green]" if r.passed else "[red]FAIL: " + "; ".join(r.problems) + "[/red]"
        table.add_row(r.case.name, r.case.expect, got, ", ".join(r.decision.policy_ids), verdict)
    Console(width=160).print(table)
    failed = sum(not r.passed for r in results)
    typer.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


@deploy_app.command("check")
def deploy_check(
    *,
    repo: Annotated[Path, typer.Option("--repo", help="git checkout to check")],
    rev_range: Annotated[str, typer.Option("--range", help="BASE..HEAD to deploy")],
    codeowners: Annotated[
        Path | None,
        typer.Option("--codeowners", help="CODEOWNERS file (default: the repo's, as of BASE)"),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="repository name in approval requests (default: dir name)"),
    ] = None,
    db: DbOption = DEFAULT_DB,
    config: ConfigOption = Path("firm.toml"),
    actor: Annotated[
        str, typer.Option("--actor", help="who asks (recorded in the audit log)")
    ] = "deploy-gate",
) -> None:
    """May BASE..HEAD deploy? Exit 0 yes, 1 no (every reason printed), 2 bad input."""
    from orderguard.config import ConfigError, load_config
    from orderguard.deploy.codeowners import load_codeowners
    from orderguard.deploy.gate import check_deploy
    from orderguard.deploy.git import DeployInputError, read_range

    try:
        firm = load_config(config)
        change = read_range(repo, rev_range)
        rules, source = load_codeowners(repo, change.base, codeowners)
    except (ConfigError, DeployInputError) as exc:
        _fail(str(exc))
    store = _approval_store(db)
    now = time.time_ns()
    principals = [p.to_domain() for p in firm.principals]
    verdict = check_deploy(change, name or repo.resolve().name, rules, store.requests(), principals, now=now)
    _record_deploy(store, verdict, actor, now, principals)
    typer.echo(
        f"range {change.base[:12]}..{change.head[:12]}: {len(change.paths)} path(s), owners from {source}"
    )
    typer.echo(
        f"authors: {', '.join(verdict.authors)}; counted approvals: {', '.join(verdict.approvers) or '-'}"
    )
    grant = verdict.break_glass
    if verdict.emergency and grant is not None:
        review = (
            "review open until a second person closes it"
            if grant.review_open
            else f"review closed by {grant.review_closed_by}"
        )
        typer.echo(
            f"DEPLOY ALLOWED BY BREAK-GLASS ({grant.request_id} by {grant.invoker}: {grant.reason}); "
            f"{review}; overriding:"
        )
        for reason in verdict.reasons:
            typer.echo(f"  - {reason}")
        return
    if verdict.allowed:
        typer.echo("DEPLOY ALLOWED")
        return
    typer.echo("DEPLOY_NOT_APPROVED:")
    for reason in verdict.reasons:
        typer.echo(f"  - {reason}")
    raise typer.Exit(1)


@approvals_app.command("list")
def approvals_list(
    db: DbOption = DEFAULT_DB,
    status: Annotated[str | None, typer.Option(help="pending, rejected, expired or executed")] = None,
) -> None:
    """List approval requests with their quorum state."""
    from orderguard.approvals.model import RequestStatus

    try:
        wanted = None if status is None else RequestStatus(status)
    except ValueError:
        _fail(f"--status {status!r}: use one of {', '.join(RequestStatus)}")
    store = _approval_store(db)
    for r in store.requests(wanted):
        approvers = ",".join(sorted(r.current_approvers())) or "-"
        glass = " BREAK-GLASS" if r.break_glass else ""
        typer.echo(
            f"{r.id}  {r.action.value:<14} {r.object_id:<24} {r.status.value:<9} "
            f"by {r.initiator:<8} {len(r.current_approvers())}/{r.quorum} [{approvers}]{glass}"
        )
