"""CLI command: ``orderguard audit erase`` (an approved erasure of one audit payload, via the app).

Exit codes: 0 erased, 1 refused (legal hold, approval, Cedar; the refusal is logged), 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orderguard.cli.audit import DEFAULT_DB, DbOption, KeyOption, _engine, _fail


def erase(  # noqa: PLR0917 - Typer passes one argument per option
    index: Annotated[int, typer.Argument(help="Log index of the entry whose payload to erase.")],
    approval: Annotated[str, typer.Option("--approval", help="The met audit_erasure approval request id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, exactly as approved (a court order ref).")],
    actor: Annotated[
        str, typer.Option("--as", envvar="ORDERGUARD_ACTOR", help="Who erases (a compliance officer).")
    ],
    db: DbOption = DEFAULT_DB,
    config: Annotated[
        Path, typer.Option("--config", "-c", envvar="ORDERGUARD_CONFIG", help="The firm file (TOML).")
    ] = Path("firm.toml"),
    key: KeyOption = None,
) -> None:
    """Erase entry INDEX's payload under a met audit_erasure approval; every proof stays valid.

    Refused (exit 1, and logged) while a legal hold covers the entry's object or actor, without
    a matching approval, or when Cedar does not let ACTOR erase audit payloads.
    """
    from orderguard.app import build_app_context
    from orderguard.audit.erasure import ErasureRefusedError
    from orderguard.audit.keys import KeyFormatError, load_signer
    from orderguard.config import ConfigError
    from orderguard.wiring.audit_erasure import ErasureEntryError

    try:
        if load_signer(key) is None:  # read once here so a bad key is a usage error
            _fail("erasure is logged and checkpointed: pass --key FILE or set ORDERGUARD_AUDIT_KEY")
    except KeyFormatError as exc:
        _fail(str(exc))
    _engine(db).dispose()  # exit 2 on a database without the audit tables, before migrating anything
    try:
        ctx = build_app_context(config, db, audit_key=key, execute=False)
    except ConfigError as exc:
        _fail(str(exc))
    try:
        controls = ctx.controls
        context = {"business_hours": controls.controls.business_hours(ctx.clock())}
        allowed = controls.authorizer.authorize(actor, "erase_audit_payload", "AuditLog", context)
        if not allowed.allowed:
            _fail(f"--as {actor}: {allowed.reason.value}: {allowed.message}", 1)
        desk = ctx.erasure_desk()
        try:
            erased_at = desk.erase(index, requested_by=actor, reason=reason, approval=approval)
        except ErasureEntryError as exc:
            _fail(f"INDEX {index}: {exc}")
        except ErasureRefusedError as exc:
            decision = exc.decision
            _fail(f"{decision.reason.value}: {decision.message} (refusal logged at {exc.audit_index})", 1)
    finally:
        ctx.close()
    typer.echo(f"erased the payload of entry {index}; the erasure is logged at index {erased_at}")
