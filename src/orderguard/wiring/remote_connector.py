"""The API process's half of a batch the connector process judged: log, then let it act, or refuse.

The connector's verdicts go into the one audit log (one commit) before the connector may send
anything; if they cannot be logged the batch is aborted (nothing reaches the venue). If the
connector process is gone or answers garbage at any step, every order of the batch is refused
with ``CONNECTOR_UNAVAILABLE`` and that refusal is audited here, by ``PATH_ACTOR``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from orderguard.domain import AuditAction, AuditEntry, Decision, ReasonCode
from orderguard.execution.connector import ConnectorResult
from orderguard.execution.connector_process import ConnectorProcess, ConnectorUnavailableError, PendingBatch

PATH_ACTOR = "service:execution-path"  # who audits the refusals of orders the connector never answered
AppendMany = Callable[[list[AuditEntry]], list[int]]


@dataclass(frozen=True, slots=True)
class RemoteBatch:
    """A batch the connector process judged (``pending``, its verdict ``entries``), or the failure
    that kept it from judging it."""

    orders: tuple[tuple[str, str, int], ...]  # (order id, digest hex, ts) of each envelope, in order
    pending: PendingBatch | None = None
    failure: ConnectorUnavailableError | None = None
    entries: list[AuditEntry] | None = None  # the connector's verdicts, once they arrived


def judge_remote(
    process: ConnectorProcess,
    orders: tuple[tuple[str, str, int], ...],
    envelopes: list[bytes],
    times: list[int],
) -> RemoteBatch:
    """Send the batch to be judged and wait for the verdicts (as the in-process connector judges
    while its caller holds the lead: later orders queue meanwhile, so batches stay large)."""
    if not orders:
        return RemoteBatch(())
    try:
        pending = process.judge(envelopes, times)
        return RemoteBatch(orders, pending, entries=process.verdicts(pending))
    except ConnectorUnavailableError as exc:
        return RemoteBatch(orders, failure=exc)


def finish_remote(
    process: ConnectorProcess, batch: RemoteBatch, append_many: AppendMany
) -> list[ConnectorResult]:
    """Log the connector process's verdicts (one commit), then let it act; refuse if it cannot."""
    if not batch.orders:  # every order of the batch failed before sealing: nothing to ask
        return []
    if batch.pending is None or batch.entries is None:
        assert batch.failure is not None
        return refuse(batch.orders, batch.failure, append_many, logged=False)
    try:
        indexes = append_many(batch.entries)
    except BaseException:
        process.abort(batch.pending)  # not durable: nothing of the batch may reach the venue
        raise
    try:
        return process.commit(batch.pending, indexes)
    except ConnectorUnavailableError as exc:
        return refuse(batch.orders, exc, append_many, logged=True)


def refuse(
    orders: Sequence[tuple[str, str, int]],
    failure: ConnectorUnavailableError,
    append_many: AppendMany,
    *,
    logged: bool,
) -> list[ConnectorResult]:
    """Audit and answer a refusal for each order the connector process did not confirm."""
    message = str(failure)
    if logged:  # its verdicts are in the log, but whether it reached the venue is unknown
        message = "the connector stopped after its verdict was logged; reconcile with the venue: " + message
    decision = Decision.deny(ReasonCode.CONNECTOR_UNAVAILABLE, message)
    return audit_refusals([(order, decision, PATH_ACTOR) for order in orders], append_many)


def audit_refusals(
    refusals: Sequence[tuple[tuple[str, str, int], Decision, str]], append_many: AppendMany
) -> list[ConnectorResult]:
    """Audit (one commit) and answer each ``((order id, digest hex, ts), decision, actor)`` refusal."""
    if not refusals:
        return []
    entries = [
        AuditEntry(
            kind="order",
            action=AuditAction.REFUSED,
            object_id=digest,
            actor=actor,
            ts=ts,
            after={"order_id": order_id, "message": decision.message},
            decision="deny",
            reason_code=decision.reason.value,
        )
        for (order_id, digest, ts), decision, actor in refusals
    ]
    indexes = append_many(entries)
    return [
        ConnectorResult(decision, None, order_id, index)
        for ((order_id, _, _), decision, _), index in zip(refusals, indexes, strict=True)
    ]
