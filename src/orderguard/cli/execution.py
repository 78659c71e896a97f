"""CLI commands: ``keys`` (key stores and approval-gated key custody, docs/execution.md).

A holder creates a store and generates its key pair locally (``keys init``,
``keys generate``); only the public key leaves. A key custodian writes a
request (``keys request``), a second custodian or security officer signs it
(``keys approve``), and custody applies it to the registry of public records
(``keys apply``), auditing the outcome in the audit log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from orderguard.audit.log import AuditLog
    from orderguard.domain import AuditSink
    from orderguard.execution import Approval, FileKeyStore, KeyCustody, KeyOperationRequest

DEFAULT_DB = "sqlite:///orderguard.db"
StoreOption = Annotated[Path, typer.Option("--store", help="Key store directory (0700).")]
RegistryOption = Annotated[
    Path, typer.Option("--registry", help="Custody's registry of public key records (a key store directory).")
]
DbOption = Annotated[
    str, typer.Option("--db", envvar="ORDERGUARD_DB", help="Database URL with the audit log.")
]
ConfigOption = Annotated[
    Path, typer.Option("--config", envvar="ORDERGUARD_CONFIG", help="The firm file (TOML).")
]

keys_app = typer.Typer(help="Key stores and approval-gated key custody.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``keys`` command group."""
    app.add_typer(keys_app, name="keys")


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _store(path: Path, *, create: bool = False) -> FileKeyStore:
    from orderguard.execution import FileKeyStore, KeyStoreError

    try:
        return FileKeyStore(path, create=create)
    except KeyStoreError as exc:
        _fail(str(exc))


@keys_app.command("init")
def init(directory: Annotated[Path, typer.Argument(help="New key store directory")]) -> None:
    """Create an empty key store (directory mode 0700)."""
    if directory.exists():
        _fail(f"{directory}: already exists; choose a new directory")
    _store(directory, create=True)
    typer.echo(f"created key store {directory}")


@keys_app.command("generate")
def generate(
    store: StoreOption,
    owner: Annotated[str, typer.Option("--owner", help="principal id, desk:NAME or service:NAME")],
    purpose: Annotated[str, typer.Option("--purpose", help="order_signing, approval, attestation, ...")],
) -> None:
    """Generate a key pair in STORE; print its id and public key for a custody request."""
    import time

    from orderguard.execution import KeyPurpose, generate_key

    try:
        key_purpose = KeyPurpose(purpose)
    except ValueError:
        _fail(f"--purpose {purpose!r}: expected one of {', '.join(p.value for p in KeyPurpose)}")
    holder = _store(store)
    record, private = generate_key(owner, key_purpose, time.time_ns())
    holder.put(record, private)
    typer.echo(f"key_id {record.key_id}\npublic_key {record.public_raw.hex()}")


@keys_app.command("list")
def list_keys(store: StoreOption) -> None:
    """List the key records in STORE with their validity and revocation."""
    from rich.console import Console
    from rich.table import Table

    from orderguard.domain import format_ts
    from orderguard.execution import KeyStoreError

    try:
        records = _store(store).records()
    except KeyStoreError as exc:
        _fail(str(exc))
    table = Table(title=f"Keys in {store}")
    for column in ("key id", "owner", "purpose", "valid from", "valid until", "revoked"):
        table.add_column(column)
    for r in records:
        until = format_ts(r.not_after_ns) if r.not_after_ns is not None else "-"
        revoked = f"{format_ts(r.revoked_ns)} ({r.revocation_reason})" if r.revoked_ns is not None else "-"
        table.add_row(r.key_id, r.owner, r.purpose.value, format_ts(r.not_before_ns), until, revoked)
    Console().print(table)


@keys_app.command("request")
def request(  # noqa: PLR0917 - Typer maps each parameter to an option
    operation: Annotated[str, typer.Argument(help="issue, rotate or revoke")],
    by: Annotated[str, typer.Option("--by", help="the requesting key custodian")],
    owner: Annotated[str, typer.Option("--owner", help="owner of the key")],
    purpose: Annotated[str, typer.Option("--purpose", help="purpose of the key")],
    reason: Annotated[str, typer.Option("--reason", help="why, for the audit log")],
    out: Annotated[Path, typer.Option("--out", help="request file to write")],
    public_key: Annotated[str, typer.Option("--public-key", help="new public key (hex): issue, rotate")] = "",
    key_id: Annotated[str | None, typer.Option("--key-id", help="the key to rotate or revoke")] = None,
    overlap_seconds: Annotated[float, typer.Option("--overlap-seconds", min=0)] = 300.0,
) -> None:
    """Write a key operation request for a second person to approve."""
    import time

    from orderguard.execution import KeyOperation, KeyOperationRequest, KeyPurpose

    try:
        op, key_purpose = KeyOperation(operation), KeyPurpose(purpose)
        new_key = bytes.fromhex(public_key)
    except ValueError as exc:
        _fail(f"bad argument: {exc} (operation: issue|rotate|revoke; --public-key: hex)")
    if op is not KeyOperation.ISSUE and key_id is None:
        _fail(f"{operation} needs --key-id naming the key to {operation}")
    if op is not KeyOperation.REVOKE and not new_key:
        _fail(f"{operation} needs --public-key (from `orderguard keys generate`)")
    built = KeyOperationRequest(
        op, by, owner, key_purpose, reason, time.time_ns(), new_key, key_id, int(overlap_seconds * 1e9)
    )
    _write_request(out, built, [])
    typer.echo(f"wrote {out}; digest {built.digest().hex()}")


def _write_request(path: Path, built: KeyOperationRequest, approvals: list[Approval]) -> None:
    signatures = [
        {"approver": a.approver, "key_id": a.key_id, "digest": a.digest.hex(), "signature": a.signature.hex()}
        for a in approvals
    ]
    body = {"request": built.to_json(), "approvals": signatures}
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


def _read_request(path: Path) -> tuple[KeyOperationRequest, list[Approval]]:
    from orderguard.execution import Approval, KeyOperationRequest

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        built = KeyOperationRequest.from_json(data["request"])
        approvals = [
            Approval(a["approver"], a["key_id"], bytes.fromhex(a["digest"]), bytes.fromhex(a["signature"]))
            for a in data["approvals"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _fail(f"{path}: not a key operation request file ({type(exc).__name__}: {exc})")
    return built, approvals


@keys_app.command("approve")
def approve_request(
    file: Annotated[Path, typer.Argument(help="request file from `keys request`")],
    by: Annotated[str, typer.Option("--by", help="the approving custodian or security officer")],
    store: StoreOption,
    key_id: Annotated[str, typer.Option("--key-id", help="the approver's approval key in --store")],
) -> None:
    """Sign the request's digest with the approver's approval key and add the approval to FILE."""
    from orderguard.execution import Context, KeyStoreError, approve

    built, approvals = _read_request(file)
    try:
        key = _store(store).signing_key(key_id)
    except KeyStoreError as exc:
        _fail(str(exc))
    approvals.append(approve(built.digest(), by, key_id, key, Context.KEY_OPERATION_APPROVAL))
    _write_request(file, built, approvals)
    typer.echo(f"{by} approved {built.operation.value} of {built.owner}'s {built.purpose.value} key")


def _custody(registry: Path, config: Path, log: AuditSink) -> KeyCustody:
    from orderguard.config import ConfigError, load_config
    from orderguard.execution import KeyCustody

    try:
        firm = load_config(config)
    except ConfigError as exc:
        _fail(str(exc))
    principals = {p.id: p.to_domain() for p in firm.principals}
    return KeyCustody(_store(registry), principals, log)


def _audit_log(db: str) -> AuditLog:
    from orderguard.audit.log import AuditLog
    from orderguard.cli._database import migrated_engine

    return AuditLog(migrated_engine(db, "audit_entries", "audit log"))


@keys_app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(help="approved request file")],
    registry: RegistryOption,
    config: ConfigOption = Path("firm.toml"),
    db: DbOption = DEFAULT_DB,
) -> None:
    """Apply an approved request to the registry; exit 1 (audited) if custody refuses it."""
    from orderguard.execution import KeyOperationRefusedError

    built, approvals = _read_request(file)
    with _audit_log(db) as log:
        try:
            record = _custody(registry, config, log).execute(built, approvals)
        except KeyOperationRefusedError as exc:
            _fail(f"refused: {exc}", code=1)
    typer.echo(f"{built.operation.value}: key {record.key_id} of {record.owner} ({record.purpose.value})")


@keys_app.command("bootstrap")
def bootstrap(
    owner: Annotated[str, typer.Option("--owner", help="a key custodian or security officer")],
    public_key: Annotated[str, typer.Option("--public-key", help="their approval public key (hex)")],
    registry: RegistryOption,
    config: ConfigOption = Path("firm.toml"),
    db: DbOption = DEFAULT_DB,
) -> None:
    """Register one of the first two custodian/security approval keys without an approval (audited)."""
    from orderguard.execution import KeyOperationRefusedError

    try:
        key = bytes.fromhex(public_key)
    except ValueError:
        _fail("--public-key: expected hex from `orderguard keys generate`")
    with _audit_log(db) as log:
        try:
            record = _custody(registry, config, log).bootstrap(owner, key)
        except KeyOperationRefusedError as exc:
            _fail(f"refused: {exc}", code=1)
    typer.echo(f"bootstrapped approval key {record.key_id} of {owner}")
