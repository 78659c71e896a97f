"""Detector quality on planted abuse: precision, recall and F1 per rule, as a markdown table.

Generates two consecutive simulated days for one synthetic firm: the first
carries everyday habits only (it builds the baselines), the second carries
every detector's planted abuse and the issue's near misses with labels
(orderguard.sim.scenarios). Both engines scan history + labelled day; only
alerts on the labelled day are scored, and the two engines must agree.

    .venv/bin/python benchmarks/quality.py [--events N] [--seed S] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time

import pyarrow as pa
import pyarrow.compute as pc

from orderguard.config import load_config
from orderguard.ingest import EventBatch
from orderguard.sim import generate_day, scaled_size, synthetic_firm
from orderguard.sim.labels import score
from orderguard.sim.scenarios import plant_with_history, previous_business_day
from orderguard.surveillance.batch import BatchEngine
from orderguard.surveillance.registry import RULES
from orderguard.surveillance.stream import StreamEngine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events per simulated day")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--date", default="2026-11-20", help="the labelled day (history: the business day before)"
    )
    parser.add_argument("--quick", action="store_true", help="a small day (20,000 events)")
    parser.add_argument("--no-stream", action="store_true", help="skip the stream engine cross-check")
    args = parser.parse_args()
    events = 20_000 if args.quick else args.events
    day = dt.date.fromisoformat(args.date)
    base = load_config("examples/firm.toml")
    size = scaled_size(events)
    firm = synthetic_firm(base, seed=args.seed, traders=size["traders"], clients=size["clients"])
    labelled_day = generate_day(events=events, seed=args.seed, date=day, firm=firm)
    history_day = generate_day(
        events=events, seed=args.seed, date=previous_business_day(labelled_day), firm=firm
    )
    history, labelled = plant_with_history(labelled_day, history_day)
    table = pa.concat_tables([history.table, labelled.table])
    start = pc.min(labelled.table.column("ts")).cast(pa.int64()).as_py()

    started = time.perf_counter()
    alerts = [a for a in BatchEngine(labelled.firm).scan(table) if a.ts >= start]
    batch_s = time.perf_counter() - started
    agree = "not checked"
    if not args.no_stream:
        engine = StreamEngine(labelled.firm)
        streamed = [
            a for e in EventBatch(table).sorted().iter_events() for a in engine.observe(e) if a.ts >= start
        ]
        same = {json.dumps(a.to_record()) for a in streamed} == {json.dumps(a.to_record()) for a in alerts}
        agree = "identical" if same else "DIFFERENT"

    labels = list(labelled.labels)
    print(
        f"Two days of {events:,} events (seed {args.seed}), labelled day {day}: batch {batch_s:.2f} s; "
        f"stream vs batch alerts: {agree}.\n"
    )
    header = ("rule", "planted", "found", "alerts", "true alerts", "near misses", "near misses alerted")
    print("| " + " | ".join(header) + " | precision | recall | F1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for q in score(alerts, labels, RULES):
        print(
            f"| {q.rule} | {q.labelled} | {q.found} | {q.alerts} | {q.true_alerts} | {q.near_misses} | "
            f"{q.near_miss_alerts} | {q.precision:.2f} | {q.recall:.2f} | {q.f1:.2f} |"
        )
    if agree == "DIFFERENT":
        raise SystemExit("stream and batch engines disagree")


if __name__ == "__main__":
    main()
