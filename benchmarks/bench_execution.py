"""Sealed execution path: sign + seal at the source, open + verify everything at the connector, per order.

Run: .venv/bin/python benchmarks/bench_execution.py [--orders 4000] [--rounds 8] [--baseline DIR] [--quick]

Single thread (one core). Each step runs over ``--orders`` distinct orders split
into rounds, and the rounds of all steps are interleaved, so a burst of load from
other processes hits every step alike. p50/p99 are wall time over all per-order
timings; "p99 CPU" is the thread's CPU time per order (it leaves out time spent
preempted by other processes on a shared machine); orders per CPU-second is the
median over rounds of (orders in round / thread CPU time of round): one core's
throughput.
Baselines in the same run: the raw primitives (Ed25519 sign/verify, HPKE
seal/open, AES-256-GCM), so each step reads as "this many primitives plus Python around them".
"v2" steps seal under a session key (envelope and drop copy v2, ``execution.session``).

A second table (``benchmarks/execution_leg.py``) times the whole execution leg as the order
desk calls it, per order and combined, on 1 thread and on 32 threads with the durable audit log.

A third table (``benchmarks/execution_steps.py``) splits the leg's CPU per order into its steps,
for batches of 32 and of 4 orders (the order desk's batches are small); with ``--baseline DIR``
(a source tree, e.g. ``git archive bd407bb | tar -x -C /tmp/base``, the code before session 3) the
same steps of that code are measured in the same run, in alternating subprocesses, beside this code's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tests.execution_support import SECOND, World, with_quorum

from benchmarks.execution_leg import leg_rows
from orderguard.config import load_config
from orderguard.domain import ReasonCode, Side
from orderguard.execution import AttestedOrder, OrderIntent, attest, new_nonce, seal, sign_order, sign_orders
from orderguard.execution.envelope import seal_in_session
from orderguard.execution.session import SUITE

ROOT = Path(__file__).resolve().parent.parent
BATCH = 64  # orders per micro-batch attestation


class Step:
    """One measured operation over a list of inputs, timed per call (wall and CPU) and per round."""

    def __init__(self, name: str, inputs: list[Any], operation: Callable[[Any], object]) -> None:
        self.name, self.inputs, self.operation = name, inputs, operation
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.rates: list[float] = []

    def run_round(self, start: int, stop: int) -> None:
        wall, cpu, operation = time.perf_counter_ns, time.thread_time_ns, self.operation
        began = cpu()
        for item in self.inputs[start:stop]:
            c0, w0 = cpu(), wall()
            operation(item)
            w1, c1 = wall(), cpu()
            self.wall.append((w1 - w0) / 1000)
            self.cpu.append((c1 - c0) / 1000)
        self.rates.append((stop - start) / ((cpu() - began) / 1e9))

    def row(self) -> str:
        wall, cpu = sorted(self.wall), sorted(self.cpu)
        at99 = min(len(wall) - 1, int(len(wall) * 0.99))
        return (
            f"| {self.name} | {statistics.median(wall):,.0f} | {wall[at99]:,.0f} | {cpu[at99]:,.0f} "
            f"| {statistics.median(self.rates):,.0f} |"
        )


def make_intents(world: World, count: int, tag: str, *, large: bool = False) -> list[OrderIntent]:
    now = world.clock.now_ns
    qty, price = (Decimal(10_000), Decimal(150)) if large else (Decimal(100), Decimal("187.25"))
    times = (now, now + 290 * SECOND)
    return [
        OrderIntent(
            f"{tag}-{i}", "alice", "C-PENSION-1", "AAPL", Side.BUY, qty, price, "XNYS", new_nonce(), *times
        )
        for i in range(count)
    ]


def build_steps(world: World, count: int) -> list[Step]:
    now = world.clock.now_ns
    connector_public = world.x25519("connector").public_key()
    connector_key_id, connector_private = world.key_id("connector"), world.x25519("connector")
    alice_id, alice = world.key_id("alice"), world.ed25519("alice")
    controls_id, controls = world.key_id("controls"), world.ed25519("controls")
    message = b"m" * 56
    signature = alice.sign(message)
    alice_public = alice.public_key()
    plaintext, info = b"p" * 420, b"i" * 80
    sealed = SUITE.encrypt(plaintext, connector_public, info=info)
    loops = list(range(count))

    source_intents = make_intents(world, count, "SRC")
    source_attestations = {i.order_id: world.attestation(i.digest()) for i in source_intents}

    def sign_and_seal(intent: OrderIntent) -> bytes:
        signed = sign_order(intent, alice_id, alice)
        return seal(
            signed, source_attestations[intent.order_id], connector_key_id, connector_public
        ).to_bytes()

    session_intents = make_intents(world, count, "SES")
    session_attestations = {i.order_id: world.attestation(i.digest()) for i in session_intents}
    session = world.session()

    def sign_and_seal_v2(intent: OrderIntent) -> bytes:
        signed = sign_order(intent, alice_id, alice)
        return seal_in_session(signed, session_attestations[intent.order_id], session).to_bytes()

    aead, nonce = AESGCM(AESGCM.generate_key(256)), b"\x00" * 12

    own = [world.envelope(i) for i in make_intents(world, count, "OWN")]
    batched: list[bytes] = []
    signed_batch = [world.sign(i) for i in make_intents(world, count, "BAT")]
    for start in range(0, count, BATCH):
        chunk = signed_batch[start : start + BATCH]
        entries = tuple(AttestedOrder(s.digest, True, ReasonCode.ALLOWED, ("p",)) for s in chunk)
        attestation = attest(entries, controls_id, controls, now)
        batched += [seal(s, attestation, connector_key_id, connector_public).to_bytes() for s in chunk]
    desk_batched: list[bytes] = []
    desk = (world.key_id("desk-equities"), world.ed25519("desk-equities"))
    desk_intents = make_intents(world, count, "DESK")
    for start in range(0, count, BATCH):
        chunk = sign_orders(desk_intents[start : start + BATCH], *desk)
        entries = tuple(AttestedOrder(s.digest, True, ReasonCode.ALLOWED, ("p",)) for s in chunk)
        attestation = attest(entries, controls_id, controls, now)
        desk_batched += [seal(s, attestation, connector_key_id, connector_public).to_bytes() for s in chunk]
    approvers = ("carol-approval", "olga-approval")
    large = [world.envelope(i, approvers=approvers) for i in make_intents(world, count, "BIG", large=True)]
    handled = [world.envelope(i) for i in make_intents(world, count, "ALL")]
    world.sessions = True
    own_v2 = [world.envelope(i) for i in make_intents(world, count, "OWN2")]
    handled_v2 = [world.envelope(i) for i in make_intents(world, count, "ALL2")]
    world.sessions = False
    digests = [i.digest() for i in make_intents(world, count, "ATT")]

    def handle(envelope: bytes) -> None:
        result = world.connector.handle(envelope)
        assert result.accepted, result.decision

    def verify(envelope: bytes) -> None:
        decision = world.verifier.verify(envelope, now).decision
        assert decision.allowed, decision

    return [
        Step("baseline: Ed25519 sign", loops, lambda _: alice.sign(message)),
        Step("baseline: Ed25519 verify", loops, lambda _: alice_public.verify(signature, message)),
        Step(
            "baseline: HPKE seal, 420 B",
            loops,
            lambda _: SUITE.encrypt(plaintext, connector_public, info=info),
        ),
        Step(
            "baseline: HPKE open, 420 B", loops, lambda _: SUITE.decrypt(sealed, connector_private, info=info)
        ),
        Step("baseline: AES-256-GCM seal, 420 B", loops, lambda _: aead.encrypt(nonce, plaintext, info)),
        Step("source: sign + seal", source_intents, sign_and_seal),
        Step("source: sign + seal, v2 session", session_intents, sign_and_seal_v2),
        Step("controls: attest one order", digests, world.attestation),
        Step("connector verify: small order, own attestation", own, verify),
        Step("connector verify: small order, own attestation, v2 session", own_v2, verify),
        Step(f"connector verify: small order, batch attestation ({BATCH})", batched, verify),
        Step(f"connector verify: desk batch signature + batch attestation ({BATCH})", desk_batched, verify),
        Step("connector verify: large order, 2 approvals", large, verify),
        Step("connector handle: verify + replay + audit + venue + drop copy", handled, handle),
        Step("connector handle, v2 envelope and session drop copy", handled_v2, handle),
    ]


def _steps(batch: int, orders: int, source: Path | None) -> dict[str, float]:
    """One run of ``execution_steps.py`` in a subprocess, on this code or on the tree ``source``."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source / "src")
    command = [sys.executable, str(ROOT / "benchmarks" / "execution_steps.py"), "--batch", str(batch)]
    command += ["--orders", str(orders), "--rounds", "1"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    costs: dict[str, float] = json.loads(done.stdout)
    return costs


def step_table(orders: int, rounds: int, baseline: Path | None) -> list[str]:
    """Markdown: µs of CPU per order by step, batches of 32 and 4; baseline columns when given."""
    codes: list[tuple[str, Path | None]] = [("this code", None)]
    if baseline is not None:
        codes.insert(0, (f"baseline ({baseline})", baseline))
    columns = [(batch, name, source) for batch in (32, 4) for name, source in codes]
    runs: dict[tuple[int, str], list[dict[str, float]]] = {(b, n): [] for b, n, _ in columns}
    for _ in range(rounds):
        for batch, name, source in columns:
            runs[batch, name].append(_steps(batch, orders, source))
    labels = list(dict.fromkeys(label for done in runs.values() for run in done for label in run))
    head = " | ".join(f"{name}, batch {batch}" for batch, name, _ in columns)
    lines = [f"| step (µs of CPU per order) | {head} |", "|---|" + "---:|" * len(columns)]
    for label in labels:
        cells = []
        for batch, name, _ in columns:
            values = [run[label] for run in runs[batch, name] if label in run]
            cells.append(f"{statistics.median(values):.1f}" if values else "")
        lines.append(f"| {label} | {' | '.join(cells)} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--leg-seconds", type=float, default=5.0, help="seconds per execution-leg run")
    parser.add_argument("--leg-rounds", type=int, default=3, help="interleaved execution-leg runs")
    parser.add_argument("--steps-orders", type=int, default=2048, help="orders per step-table run")
    parser.add_argument("--steps-rounds", type=int, default=5, help="alternating step-table runs")
    parser.add_argument("--baseline", type=Path, help="a source tree to measure the steps of as well")
    parser.add_argument("--quick", action="store_true", help="a 256-order smoke run")
    args = parser.parse_args()
    count, rounds = (256, 4) if args.quick else (args.orders, args.rounds)
    leg_seconds, leg_rounds = (1.0, 1) if args.quick else (args.leg_seconds, args.leg_rounds)
    firm = load_config(ROOT / "examples" / "firm.toml")
    world = World(with_quorum(firm, 2))
    steps = build_steps(world, count)
    bounds = [(r * count // rounds, (r + 1) * count // rounds) for r in range(rounds)]
    load_before = os.getloadavg()[0]
    for start, stop in bounds:
        for step in steps:
            step.run_round(start, stop)
    print(
        f"{count} orders per step, {rounds} interleaved rounds, one thread; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after\n"
    )
    print("| step | p50 µs | p99 µs | p99 CPU µs | orders per CPU-second |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(step.row() for step in steps))
    load_before = os.getloadavg()[0]
    rows = leg_rows(firm, leg_seconds, leg_rounds)
    print(
        f"\nExecution leg in process ({leg_seconds:g} s per run, median of {leg_rounds} interleaved runs); "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after\n"
    )
    print("| execution leg | orders/s | CPU µs per order | p50 µs | p99 µs | orders per batch |")
    print("|---|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    steps_orders, steps_rounds = (256, 1) if args.quick else (args.steps_orders, args.steps_rounds)
    load_before = os.getloadavg()[0]
    table = step_table(steps_orders, steps_rounds, args.baseline)
    print(
        f"\nExecution leg by step ({steps_orders} orders per run, one thread, in-memory audit, median of "
        f"{steps_rounds} alternating runs); load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after\n"
    )
    print("\n".join(table))


if __name__ == "__main__":
    main()
