"""Order entry for the interfaces: the controls gate, then (if it says go) the sealed execution path.

The gate audits its decision before anything executes; the connector audits its own verdict.
Order ids are reserved first, so a repeated id is refused instead of entered twice.

``submit`` blocks its thread on each durable write; ``submit_async`` (the HTTP order route) runs
the same steps as a coroutine: the in-memory decision on the event loop, the audit entry and the
blackout-book row awaited together (futures resolved by the group-commit threads, no thread
parked per order), and only work that blocks on I/O (large and personal orders, route alerts)
in a thread. Its sealed execution is combined on the event loop (``LoopCombiner``): each batch
of waiting orders is judged, then logged and executed, in a thread per step, not per order.
Either way an order is recorded durably before it goes to the venue and before the caller hears
that it was accepted.

What really happened also becomes v1 events for surveillance (``events``): an accepted order as
``client_order`` or ``personal_trade`` (by account type), each fill as ``execution``, a cancel as
``order_cancel``. Emitting only queues them (no I/O on the event loop); the sink stores them off
the order path. Refusals are not orders: they are in the audit log only.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar, cast, runtime_checkable

from orderguard.approvals.model import SensitiveAction
from orderguard.domain import AccountType, AuditAction, AuditEntry, AuditSink, Decision, Event, ReasonCode
from orderguard.domain.alerts import Alert
from orderguard.gateway.gate import GateResult
from orderguard.gateway.orders import OrderTicket
from orderguard.gateway.preclearance_store import InMemoryPreClearanceStore
from orderguard.gateway.stack import ControlsStack
from orderguard.wiring.execution_batch import JudgedOrders
from orderguard.wiring.execution_path import ExecutionPath
from orderguard.wiring.group_commit import GroupCommitPreClearanceStore
from orderguard.wiring.loop_combiner import LoopCombiner
from orderguard.wiring.order_cancel import cancel_decision, cancel_entry
from orderguard.wiring.order_events import EventSink, cancel_event, order_event
from orderguard.wiring.sinks import BookedOrder, OrderBook

if TYPE_CHECKING:
    from orderguard.approvals.model import ApprovalRequest
    from orderguard.cases.state import ResponseState
    from orderguard.execution import ConnectorResult

T = TypeVar("T")
# Threads for the parts of an async submit that block (execution waits on several durable appends):
# enough that orders waiting on one commit do not queue behind each other.
BLOCKING_THREADS = 64


@runtime_checkable
class AsyncAuditSink(Protocol):
    """An audit sink that a coroutine can await (``orderguard.audit.log.AuditLog``)."""

    def append(self, entry: AuditEntry) -> int: ...

    async def append_async(self, entry: AuditEntry) -> int: ...


_Accepted = tuple[BookedOrder, GateResult]  # an order the gate let go, awaiting execution
_JudgedAccepted = tuple[list[_Accepted], JudgedOrders]


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    order_id: str
    accepted: bool
    decision: Decision
    audit_index: int
    executions: tuple[Event, ...] = ()
    alerts: tuple[Alert, ...] = ()


class OrderDesk:
    """Submit and cancel orders through the controls (and the execution path when wired)."""

    def __init__(
        self,
        controls: ControlsStack,
        audit: AuditSink,
        book: OrderBook,
        execution: ExecutionPath | None,
        *,
        clock: Callable[[], int] = time.time_ns,
        responses: ResponseState | None = None,
        events: EventSink | None = None,
    ) -> None:
        self.clock = clock
        self.events = events
        self.responses = responses
        self.controls = controls
        self.audit = audit
        self.book = book
        self.execution = execution
        self._threads: ThreadPoolExecutor | None = None
        # Status changes that race (a cancel against the start of execution) take this lock in turn.
        self._status_lock = threading.Lock()
        self._awaitable_audit = isinstance(audit, AsyncAuditSink)  # a Protocol check: once, not per order
        # Orders entered on the event loop are combined there: one thread hop per batch, not per order.
        self._loop_execution: LoopCombiner[_Accepted, _JudgedAccepted, tuple[Event, ...]] | None = None
        if execution is not None:
            self._loop_execution = LoopCombiner(
                self._judge_accepted, self._finish_accepted, execution.max_combined, self._pool
            )

    def submit(self, ticket: OrderTicket, *, emit_events: bool = True) -> OrderOutcome:
        """Enter an order: refused, or decided and audited by the gate, then executed if it may go.

        ``emit_events=False`` for an order whose events are already stored (the demo replays its
        simulated day through the desk): it is not emitted a second time.
        """
        placeholder, refusal = self._admit(ticket)
        if refusal is not None:
            return self._refused(placeholder, refusal, self._refuse(ticket, refusal))
        request = self._approval_request(ticket)
        result = self.controls.gate.submit(ticket)
        self._book(placeholder, result)
        sink = self.events if emit_events else None
        if result.go and sink is not None:
            sink.emit(order_event(ticket, self._is_personal(ticket)))
        executions = self._execute(placeholder, result, request)
        if executions and sink is not None:
            sink.emit_many(executions)
        return self._outcome(placeholder, result, executions)

    async def submit_async(self, ticket: OrderTicket) -> OrderOutcome:
        """``submit`` as a coroutine: same steps and guarantees, without a thread parked per order."""
        audit = cast("AsyncAuditSink", self.audit)
        store = self.controls.preclearance.store
        writer = store.writer if isinstance(store, GroupCommitPreClearanceStore) else None
        account = self.controls.controls.accounts.get(ticket.account)
        if (
            not self._awaitable_audit
            or (writer is None and not isinstance(store, InMemoryPreClearanceStore))  # its writes block
            or account is None
            or account.type is AccountType.PERSONAL  # spends a clearance: SQL writes
            or self.controls.controls.is_large(ticket)  # reads approvals
        ):
            return await self._in_thread(self.submit, ticket)
        placeholder, refusal = self._admit(ticket)
        if refusal is not None:
            index = await audit.append_async(self._refusal(ticket, refusal))
            return self._refused(placeholder, refusal, index)
        gate = self.controls.gate
        decided = gate.decide(ticket)
        if decided.books_client_order:
            # Booking's one SQL write (a blackout row) is queued first and committed beside the
            # audit entry; the order answers (and executes) only once both are durable.
            if writer is None:  # an in-memory blackout book: nothing to wait for
                alerts = gate.apply(ticket, decided)
                index = await audit.append_async(decided.entry)
            else:
                with writer.deferred() as pending:
                    alerts = gate.apply(ticket, decided)
                index = await audit.append_async(decided.entry)
                await writer.wait_async(pending)
        else:
            index = await audit.append_async(decided.entry)
            alerts = await self._in_thread(gate.apply, ticket, decided) if decided.has_effects else ()
        result = GateResult(decided.decision, index, alerts)
        self._book(placeholder, result)
        if result.go and self.events is not None:
            self.events.emit(order_event(ticket, personal=False))  # queued only: no I/O here
        executions: tuple[Event, ...] = ()
        if result.go and self._loop_execution is not None and self._start_execution(placeholder):
            executions = await self._loop_execution.run((placeholder, result))
            if executions and self.events is not None:
                self.events.emit_many(executions)
        return self._outcome(placeholder, result, executions)

    def _admit(self, ticket: OrderTicket) -> tuple[BookedOrder, Decision | None]:
        """Reserve the order id and check the actor's standing: the booked order and any refusal."""
        placeholder = BookedOrder(ticket, "pending", "", -1)
        if not self.book.put(placeholder):
            decision = Decision.deny(ReasonCode.REPLAYED, f"order id {ticket.order_id} was already entered")
            # The id belongs to the earlier order: this placeholder stays out of the book.
            return placeholder, decision
        if self.responses is not None:
            standing = self.responses.check_order(
                ticket.actor, symbol=ticket.symbol, account=ticket.account, venue=ticket.venue
            )
            if not standing.allowed:
                return placeholder, standing
        return placeholder, None

    def _is_personal(self, ticket: OrderTicket) -> bool:
        account = self.controls.controls.accounts.get(ticket.account)
        return account is not None and account.type is AccountType.PERSONAL

    @staticmethod
    def _refused(placeholder: BookedOrder, decision: Decision, index: int) -> OrderOutcome:
        placeholder.status, placeholder.reason = "refused", decision.reason.value
        placeholder.audit_index = index
        return OrderOutcome(placeholder.ticket.order_id, False, decision, index)

    def _approval_request(self, ticket: OrderTicket) -> ApprovalRequest | None:
        """A large order's approval request, read before the gate spends it (for the approvers)."""
        if not self.controls.controls.is_large(ticket):
            return None
        store = self.controls.approvals.store
        if ticket.approval_request_id:
            return store.get(ticket.approval_request_id)
        return store.by_object(SensitiveAction.LARGE_ORDER, ticket.order_id)

    @staticmethod
    def _book(placeholder: BookedOrder, result: GateResult) -> None:
        """The gate's decision on the booked order: accepted or refused, at its audit index."""
        placeholder.audit_index = result.audit_index
        placeholder.reason = result.decision.reason.value
        placeholder.status = "accepted" if result.go else "refused"

    def _execute(
        self, placeholder: BookedOrder, result: GateResult, request: ApprovalRequest | None
    ) -> tuple[Event, ...]:
        """Send an accepted order down the sealed path (when wired); its fills, if any."""
        ticket = placeholder.ticket
        account = self.controls.controls.accounts.get(ticket.account)
        # A personal trade is executed at the employee's own broker; pre-clearance was its control.
        if self.execution is None or account is None or account.type is AccountType.PERSONAL:
            return ()
        if not self._start_execution(placeholder):
            return ()
        approvers = sorted(request.current_approvers()) if request is not None else []
        return self._executed(placeholder, self.execution.execute(ticket, result.decision, approvers))

    def _start_execution(self, placeholder: BookedOrder) -> bool:
        """Mark an accepted order as executing; False if a cancel took it first (then it must not go)."""
        with self._status_lock:
            if placeholder.status != "accepted":
                return False
            placeholder.status = "executing"
            return True

    def _judge_accepted(self, batch: list[_Accepted]) -> _JudgedAccepted:
        """The first half of executing a batch of orders accepted on the event loop (in a thread)."""
        assert self.execution is not None
        return batch, self.execution.judge(
            [(placeholder.ticket, result.decision, ()) for placeholder, result in batch]
        )

    def _finish_accepted(self, judged: _JudgedAccepted) -> list[tuple[Event, ...] | Exception]:
        """The second half (in a thread): logged, executed, and each order's fills booked."""
        assert self.execution is not None
        batch, handle = judged
        booked: list[tuple[Event, ...] | Exception] = []
        for (placeholder, _), outcome in zip(batch, self.execution.finish(handle), strict=True):
            try:  # one order's failure is its own, as when it executes alone
                booked.append(
                    outcome if isinstance(outcome, Exception) else self._executed(placeholder, outcome)
                )
            except Exception as exc:  # noqa: BLE001 - handed to that order's caller
                booked.append(exc)
        return booked

    def _executed(self, placeholder: BookedOrder, connector: ConnectorResult) -> tuple[Event, ...]:
        """Book the connector's answer on the order: its status, reference prices, blackout end."""
        ticket = placeholder.ticket
        if not connector.accepted:
            placeholder.status, placeholder.reason = "refused", connector.decision.reason.value
            return ()
        executions = connector.executions
        self.controls.controls.reference_prices.observe_fills(executions)  # the next SELL's reference
        if sum(e.qty or 0.0 for e in executions) >= ticket.qty:
            placeholder.status = "executed"
            # Fully filled: the pre-clearance blackout on the symbol ends a window from now.
            last_fill = max((e.ts for e in executions), default=ticket.ts)
            self.controls.preclearance.order_done(ticket.order_id, last_fill)
        else:
            placeholder.status = "partially executed"
        return executions

    @staticmethod
    def _outcome(placeholder: BookedOrder, result: GateResult, executions: tuple[Event, ...]) -> OrderOutcome:
        return OrderOutcome(
            placeholder.ticket.order_id,
            result.go,
            result.decision,
            result.audit_index,
            executions,
            result.alerts,
        )

    async def _in_thread(self, fn: Callable[..., T], *args: object) -> T:
        """Run blocking work (durable appends it waits on) on the desk's threads, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._pool(), fn, *args)

    def _pool(self) -> ThreadPoolExecutor:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(BLOCKING_THREADS, thread_name_prefix="order-desk")
        return self._threads

    def cancel(
        self, order_id: str, actor: str, *, ip: str | None = None, session_id: str | None = None
    ) -> OrderOutcome:
        """Cancel a working order (``order_cancel``): authorized like the order itself, audited either way."""
        booked = self.book.get(order_id)
        now = self.clock()
        with self._status_lock:  # against the start of its execution: one of the two wins
            decision = cancel_decision(self.controls, order_id, booked, actor, now)
            was = booked.status if booked is not None else ""
            if decision.allowed and booked is not None:
                booked.status = "cancelling"  # from here its execution no longer starts
        try:
            entry = cancel_entry(order_id, actor, now, decision, ip=ip, session_id=session_id)
            index = self.audit.append(entry)
        except BaseException:
            if decision.allowed and booked is not None:
                booked.status = was  # the cancel was not recorded: the order stays as it was
            raise
        if decision.allowed and booked is not None:
            booked.status = "cancelled"
            self.controls.preclearance.order_done(order_id, now)
            if self.events is not None:
                self.events.emit(cancel_event(booked.ticket, actor, now, ip, session_id))
        return OrderOutcome(order_id, decision.allowed, decision, index)

    def _refuse(self, ticket: OrderTicket, decision: Decision) -> int:
        """Audit a refusal made before the gate (duplicate id, suspension, blocked pattern)."""
        return self.audit.append(self._refusal(ticket, decision))

    @staticmethod
    def _refusal(ticket: OrderTicket, decision: Decision) -> AuditEntry:
        return AuditEntry(
            kind="order",
            action=AuditAction.REFUSED,
            object_id=ticket.order_id,
            actor=ticket.actor,
            ts=ticket.ts,
            after=ticket.record(),
            ip=ticket.ip,
            session_id=ticket.session_id,
            decision="deny",
            reason_code=decision.reason.value,
            policy_ids=decision.policy_ids,
        )
