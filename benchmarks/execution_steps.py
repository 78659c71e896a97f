"""CPU per order of each step of the execution leg, from timers wrapped around the functions that do it.

``ExecutionPath.execute_many`` runs on one thread with an in-memory audit sink, in batches of
``max_combined`` orders. Each step below is a function (or method) of the leg; for the run it is
replaced by a wrapper that adds the thread CPU time spent inside it, minus the time of wrapped
steps it calls (exclusive time). "rest of the leg" is the run's CPU not inside any wrapped step:
loops, result objects, batch bookkeeping. Garbage collections are timed apart (``gc.callbacks``)
and left out of the step they interrupt: they land wherever an allocation trips them, and would
otherwise make one step or another look slow from run to run. The wrappers themselves cost about
a quarter of a microsecond per call, counted in the step that called them; the unwrapped run
gives the total.
Steps are looked up by name: one missing from the code under test (an older or newer version)
is left out of the table rather than guessed.

Run on its own it prints the figures as JSON, for the code ``orderguard`` is imported from: with
``PYTHONPATH=/tmp/base/src`` (``git archive COMMIT | tar -x -C /tmp/base``) that is the baseline.
``bench_execution.py --baseline /tmp/base`` runs both, interleaved, and prints them side by side.

    .venv/bin/python benchmarks/execution_steps.py --batch 32 --orders 2048 --rounds 3
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # after PYTHONPATH (a baseline's src)

from benchmarks.execution_leg import ACCOUNTS, ALLOW, START_NS, CountingSink
from orderguard.config import FirmConfig, load_config
from orderguard.domain import Side
from orderguard.gateway.orders import OrderTicket
from orderguard.wiring.execution_path import ExecutionPath

ROOT = Path(__file__).resolve().parent.parent
_PATH, _ENVELOPE, _VERIFY = "wiring.execution_path", "execution.envelope", "execution.verify"
_BATCH = "wiring.execution_batch"
_SOURCE_DIGEST = "source: canonical encoding + digest (sign_orders, sign_order)"
_SOURCE_SIGN = "source: Ed25519 signing (order batch, attestation)"
_SEAL = "source: seal (plaintext, header, AES-GCM)"
_OPEN = "connector: decrypt + plaintext parse"
# (label, module, attribute path): the attribute is looked up on the module, then on the class. A
# function is wrapped where its caller looks it up (``from x import f`` binds f in the caller).
STEPS: tuple[tuple[str, str, str], ...] = (
    ("source: intent building (ticket to OrderIntent, Decimal, nonce)", _PATH, "intent_of"),
    (_SOURCE_DIGEST, _BATCH, "sign_orders"),
    (_SOURCE_DIGEST, _BATCH, "sign_order"),
    (_SOURCE_SIGN, _ENVELOPE, "sign"),
    (_SOURCE_SIGN, "execution.attestation", "sign"),
    ("controls: attestation entries and encoding", _PATH, "attest_batch"),
    (_SEAL, _PATH, "seal_in_session"),
    (_SEAL, _PATH, "seal"),
    ("source: envelope bytes", _ENVELOPE, "Envelope.to_bytes"),
    ("connector: envelope parse", _ENVELOPE, "Envelope.from_bytes"),
    (_OPEN, _VERIFY, "open_session_envelope"),
    (_OPEN, _VERIFY, "open_envelope"),
    ("connector: intent parse (from_canonical)", "execution.intent", "OrderIntent.from_canonical"),
    ("connector: originator key and signature checks", _VERIFY, "EnvelopeVerifier._check_originator"),
    ("connector: Ed25519 verification (batch signature, attestation)", _VERIFY, "verify"),
    ("connector: times", _VERIFY, "EnvelopeVerifier._check_times"),
    ("connector: attestation parse and checks, venue, quorum", _VERIFY, "EnvelopeVerifier._check_controls"),
    ("connector: rest of verify (key lookups, digest, verdict)", _VERIFY, "EnvelopeVerifier.verify"),
    ("connector: replay claim", "execution.replay", "MemoryReplayCache.claim"),
    ("connector: audit entry", "execution.connector", "ExecutionConnector._audit_entry"),
    ("connector: venue simulator fills", "execution.venue", "ExchangeSimulator.submit"),
    ("connector: drop copy sealing", "execution.connector", "seal_drop_copy"),
)


@dataclass
class _Clock:
    spent: dict[str, int] = field(default_factory=dict)
    stack: list[int] = field(default_factory=list)  # per active wrapped call: child time so far


def _timed(label: str, function: Callable[..., Any], clock: _Clock) -> Callable[..., Any]:
    cpu = time.thread_time_ns

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        clock.stack.append(0)
        began = cpu()
        try:
            return function(*args, **kwargs)
        finally:
            took = cpu() - began
            children = clock.stack.pop()
            clock.spent[label] = clock.spent.get(label, 0) + took - children
            if clock.stack:
                clock.stack[-1] += took

    return wrapper


GC_LABEL = "garbage collector (collections during the run)"


def _gc_timer(clock: _Clock) -> Callable[[str, dict[str, int]], None]:
    """A ``gc.callbacks`` entry: a collection counts as a step of its own, nested in the current one."""
    cpu = time.thread_time_ns
    began: list[int] = []

    def callback(phase: str, info: dict[str, int]) -> None:  # noqa: ARG001 - the gc callback signature
        if phase == "start":
            clock.stack.append(0)
            began.append(cpu())
            return
        took = cpu() - began.pop()
        clock.spent[GC_LABEL] = clock.spent.get(GC_LABEL, 0) + took - clock.stack.pop()
        if clock.stack:
            clock.stack[-1] += took

    return callback


def _wrap_steps(clock: _Clock) -> list[tuple[object, str, object]]:
    """Install the timers; returns what to put back."""
    undo: list[tuple[object, str, object]] = []
    for label, module_name, attribute in STEPS:
        owner: object = importlib.import_module(f"orderguard.{module_name}")
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        raw = getattr(owner, "__dict__", {}).get(name) if owner is not None else None
        if raw is None:
            continue
        if isinstance(raw, classmethod):
            replacement: object = classmethod(_timed(label, raw.__func__, clock))
        elif isinstance(raw, staticmethod):
            replacement = staticmethod(_timed(label, raw.__func__, clock))
        else:
            replacement = _timed(label, raw, clock)
        setattr(owner, name, replacement)
        undo.append((owner, name, raw))
    return undo


def _tickets(tag: str, count: int) -> list[tuple[OrderTicket, Any, tuple[str, ...]]]:
    return [
        (
            OrderTicket(
                f"{tag}{i:07d}", "alice", ACCOUNTS[i % 3], "AAPL", Side.BUY, 10, 190.5, "XNYS", START_NS + i
            ),
            ALLOW,
            (),
        )
        for i in range(count)
    ]


def _cpu_per_order(path: ExecutionPath, tag: str, count: int) -> float:
    orders = _tickets(tag, count)
    began = time.thread_time_ns()
    results = path.execute_many(orders)
    spent = time.thread_time_ns() - began
    if not all(getattr(r, "accepted", False) for r in results):
        raise RuntimeError("an order was refused in the step benchmark")
    return spent / count / 1000


TOTAL = "total, without the timers"


def step_costs(firm: FirmConfig, batch: int, count: int, rounds: int) -> dict[str, float]:
    """µs of CPU per order by step (median over ``rounds``), and the unwrapped total as ``TOTAL``."""
    path = ExecutionPath(firm, CountingSink(), max_combined=batch)
    _cpu_per_order(path, "WARM", 512)
    totals = [_cpu_per_order(path, f"T{r}-", count) for r in range(rounds)]
    clock = _Clock()
    undo = _wrap_steps(clock)
    gc_timer = _gc_timer(clock)
    gc.callbacks.append(gc_timer)
    per_round: list[dict[str, float]] = []
    try:
        for r in range(rounds):
            clock.spent.clear()
            began = time.thread_time_ns()
            _cpu_per_order(path, f"S{r}-", count)
            whole = time.thread_time_ns() - began
            shares = {label: ns / count / 1000 for label, ns in clock.spent.items()}
            shares["rest of the leg (loops, batch bookkeeping, result objects)"] = (
                (whole - sum(clock.spent.values())) / count / 1000
            )
            per_round.append(shares)
    finally:
        gc.callbacks.remove(gc_timer)
        for owner, name, raw in reversed(undo):
            setattr(owner, name, raw)
    labels = dict.fromkeys([label for label, _, _ in STEPS] + list(per_round[0]))
    costs = {
        label: statistics.median(r.get(label, 0.0) for r in per_round)
        for label in labels
        if any(label in r for r in per_round)
    }
    costs[TOTAL] = statistics.median(totals)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32, help="orders per combined batch")
    parser.add_argument("--orders", type=int, default=2048, help="orders per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    firm = load_config(ROOT / "examples" / "firm.toml")
    print(json.dumps(step_costs(firm, args.batch, args.orders, args.rounds)))


if __name__ == "__main__":
    main()
