"""CLI commands: ``orderguard audit ...`` (keys, checkpoints, proofs, verification, evidence bundles).

Exit codes: 0 intact / done, 1 tampering or a failed check, 2 bad usage or input.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from orderguard.audit.keys import KeySet

DbOption = Annotated[
    str,
    typer.Option("--db", envvar="ORDERGUARD_DB", help="Database URL (sqlite:///PATH or postgresql://...)."),
]
KeyOption = Annotated[
    Path | None,
    typer.Option("--key", help="Signing key file (default: the ORDERGUARD_AUDIT_KEY environment variable)."),
]
KeysOption = Annotated[
    Path | None,
    typer.Option("--keys", help="Trusted verifier key set, one `vkey [from=N] [until=N]` per line."),
]
DEFAULT_DB = "sqlite:///orderguard.db"

audit_app = typer.Typer(help="Tamper-evident audit log: checkpoints, proofs, verification, evidence.")


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _trusted_keys(keys: Path | None, key: Path | None) -> KeySet:
    from orderguard.audit.keys import KeyFormatError, KeySet, load_signer

    try:
        if keys is not None:
            return KeySet.load(keys)
        signer = load_signer(key)
    except KeyFormatError as exc:
        _fail(str(exc))
    if signer is None:
        _fail("no verifier keys: pass --keys FILE, or --key FILE / ORDERGUARD_AUDIT_KEY to trust that key")
    return KeySet([signer.verifier])


def _engine(db: str) -> Engine:
    """An engine for ``db`` that can reach the audit tables, or exit 2 saying what is wrong."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from orderguard.storage import make_engine

    try:
        engine = make_engine(db)
        present = inspect(engine).has_table("audit_entries")
    except (ValueError, SQLAlchemyError) as exc:
        _fail(f"--db {db}: cannot open the database ({exc})")
    if not present:
        engine.dispose()
        _fail(f"--db {db}: no audit tables here; is this the orderguard database (migrations applied)?")
    return engine


@audit_app.command()
def keygen(
    name: Annotated[str, typer.Argument(help="Key name, e.g. orderguard-audit-2026.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the secret signing key (mode 0600).")],
) -> None:
    """Create an Ed25519 signing key; prints the public verifier key line for the key set file."""
    from orderguard.audit.keys import KeyFormatError, NoteSigner

    if out.exists():
        _fail(f"--out {out} already exists; refusing to overwrite a key")
    try:
        signer = NoteSigner.generate(name)
    except KeyFormatError as exc:
        _fail(str(exc))
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(signer.skey() + "\n")
    typer.echo(signer.verifier.vkey())


@audit_app.command()
def verify(
    db: DbOption = DEFAULT_DB,
    checkpoint: Annotated[
        list[Path] | None, typer.Option("--checkpoint", help="A checkpoint note kept outside the database.")
    ] = None,
    keys: KeysOption = None,
    key: KeyOption = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=1, max=64, help="Processes scanning aligned ranges in parallel (1: this one)."
        ),
    ] = 1,
) -> None:
    """Re-hash every entry, rebuild the root, check every checkpoint; exit 1 naming the first bad index."""
    from orderguard.audit.verify import verify_log

    trusted = _trusted_keys(keys, key)
    kept = []
    for path in checkpoint or []:
        try:
            kept.append((f"kept checkpoint {path}", path.read_text()))
        except OSError as exc:
            _fail(f"--checkpoint {path}: cannot read it ({exc.strerror})")
    engine = _engine(db)
    try:
        report = verify_log(engine, trusted, kept, workers=workers)
    finally:
        engine.dispose()
    rate = report.size / report.seconds if report.seconds else 0.0
    summary = (
        f"{report.size} entries, {report.checkpoints_verified} checkpoint(s) verified, "
        f"signed coverage {report.covered_size}/{report.size}, {rate:,.0f} entries/s"
    )
    if report.ok:
        typer.echo(f"intact: {summary}")
        return
    first = report.first_bad
    typer.echo(f"TAMPERED: {first}", err=True)
    for finding in report.findings:
        if finding is not first:
            typer.echo(f"  also: {finding}", err=True)
    typer.echo(f"checked: {summary}", err=True)
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint_command(
    db: DbOption = DEFAULT_DB,
    key: KeyOption = None,
    keys: KeysOption = None,
    origin: Annotated[str, typer.Option(help="Log name on the checkpoint's first line.")] = "",
) -> None:
    """Verify the stored log, then sign and store a checkpoint of it (given a key); else print the newest one.

    Signing only what verifies keeps this command from blessing a tampered store; ``--keys`` lists
    the keys that signed the earlier checkpoints (default: the signing key alone).
    """
    from orderguard.audit.checkpoint import Checkpoint
    from orderguard.audit.keys import KeyFormatError, KeySet, load_signer
    from orderguard.audit.log import DEFAULT_ORIGIN
    from orderguard.audit.store import AuditStore
    from orderguard.audit.verify import verify_log

    try:
        signer = load_signer(key)
    except KeyFormatError as exc:
        _fail(str(exc))
    store = AuditStore(_engine(db))
    try:
        if signer is None:
            stored = store.checkpoints()
            if not stored:
                _fail("no checkpoint stored yet; pass --key FILE or set ORDERGUARD_AUDIT_KEY to sign one", 1)
            typer.echo(max(stored, key=lambda row: row[0])[2], nl=False)
            return
        trusted = _trusted_keys(keys, key) if keys else KeySet([signer.verifier])
        report = verify_log(store.engine, trusted)
        if not report.ok:
            _fail(f"refusing to sign a log that does not verify: {report.first_bad}", 1)
        stored_origins = {note.split("\n", 1)[0] for _, _, note in store.checkpoints()}
        name = origin or (stored_origins.pop() if len(stored_origins) == 1 else DEFAULT_ORIGIN)
        note = Checkpoint(name, report.size, report.root).sign([signer])
        store.insert_checkpoint(report.size, signer.name, note)
        typer.echo(note, nl=False)
    finally:
        store.engine.dispose()


@audit_app.command()
def prove(
    index: Annotated[int, typer.Argument(help="Log index of the entry.")],
    db: DbOption = DEFAULT_DB,
    size: Annotated[
        int | None,
        typer.Option(
            help="Tree size to prove against (default: the newest stored checkpoint covering INDEX)."
        ),
    ] = None,
) -> None:
    """Print an inclusion proof (JSON, base64 hashes) for entry INDEX, with the checkpoint of that size."""
    import base64

    from orderguard.audit.merkle import MerkleTree
    from orderguard.audit.proofs import ProofError, inclusion_proof
    from orderguard.audit.store import AuditStore

    store = AuditStore(_engine(db))
    try:
        tree = MerkleTree(leaf_hash for _, leaf_hash in store.iter_leaf_hashes())
        notes = {stored_size: note for stored_size, _, note in store.checkpoints()}
    finally:
        store.engine.dispose()
    if size is None:
        covering = [stored_size for stored_size in notes if index < stored_size <= tree.size]
        size = max(covering) if covering else tree.size
    try:
        proof = inclusion_proof(tree, index, size)
    except ProofError as exc:
        _fail(f"INDEX {index}: {exc}")

    def encode(data: bytes) -> str:
        return base64.b64encode(data).decode()

    document = {
        "leafIdx": index,
        "treeSize": size,
        "leafHash": encode(tree.leaf_hash(index)),
        "root": encode(tree.root(size)),
        "proof": [encode(node) for node in proof],
        "checkpoint": notes.get(size),
    }
    typer.echo(json.dumps(document, indent=2))


@audit_app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="Bundle file to write (JSON).")],
    db: DbOption = DEFAULT_DB,
    index: Annotated[
        list[int] | None, typer.Option("--index", help="Entries to include (default: all).")
    ] = None,
    keys: KeysOption = None,
    key: KeyOption = None,
) -> None:
    """Write an evidence bundle: entries, inclusion proofs, the newest trusted checkpoint and the keys."""
    from orderguard.audit.bundle import BundleError, export_bundle
    from orderguard.audit.store import AuditStore

    trusted = _trusted_keys(keys, key)
    store = AuditStore(_engine(db))
    try:
        count, size = export_bundle(store, trusted, out, index)
    except BundleError as exc:
        _fail(str(exc), 1)
    finally:
        store.engine.dispose()
    typer.echo(f"wrote {count} entries proven against the checkpoint of size {size} to {out}")


@audit_app.command("verify-bundle")
def verify_bundle_command(
    bundle: Annotated[Path, typer.Argument(help="Bundle written by `orderguard audit export`.")],
    keys: KeysOption = None,
    show: Annotated[bool, typer.Option(help="Print the verified entries as JSON lines.")] = False,
) -> None:
    """Check a bundle offline: checkpoint signature, every inclusion proof and payload commitment."""
    from orderguard.audit.bundle import BundleError, verify_bundle
    from orderguard.audit.keys import KeyFormatError, KeySet

    try:
        report = verify_bundle(bundle, KeySet.load(keys) if keys else None)
    except (BundleError, KeyFormatError) as exc:
        _fail(str(exc))
    if show:
        for entry in report.entries:
            typer.echo(json.dumps(entry, sort_keys=True))
    if report.problems:
        for problem in report.problems:
            typer.echo(f"TAMPERED: {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"bundle intact: {len(report.entries)} entries proven against size {report.size}, "
        f"checkpoint signed by {report.signed_by}"
    )


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command group to the app."""
    from orderguard.cli.audit_erase import erase

    audit_app.command()(erase)
    app.add_typer(audit_app, name="audit")
