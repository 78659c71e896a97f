"""Planted scenarios on a simulated day: every abuse is found, no near miss alerts, engines agree."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orderguard.config import FirmConfig
from orderguard.ingest import EventBatch, read_events
from orderguard.sim import generate_day, synthetic_firm
from orderguard.sim.labels import read_labels, score
from orderguard.sim.scenarios import PlantedDay, plant_labelled, plant_with_history, previous_business_day
from orderguard.surveillance.batch import BatchEngine
from orderguard.surveillance.custom_rules import DEFAULT_RULES, load_rules
from orderguard.surveillance.load import read_day
from orderguard.surveillance.registry import RULES
from orderguard.surveillance.stream import StreamEngine

DAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def planted(firm: FirmConfig) -> tuple[PlantedDay, PlantedDay]:
    population = synthetic_firm(firm, seed=3, traders=30, clients=300)
    day = generate_day(events=30_000, seed=3, date=DAY, firm=population)
    history = generate_day(events=30_000, seed=3, date=previous_business_day(day), firm=population)
    return plant_with_history(day, history)


class TestPlantedScenarios:
    def test_every_abuse_found_and_no_near_miss(self, planted: tuple[PlantedDay, PlantedDay]) -> None:
        """On the labelled day each rule finds all its planted abuse and none of its near misses."""
        history, labelled = planted
        table = pa.concat_tables([history.table, labelled.table])
        start = labelled.table.column("ts").cast(pa.int64()).to_numpy().min()
        alerts = [a for a in BatchEngine(labelled.firm).scan(table) if a.ts >= start]
        quality = {q.rule: q for q in score(alerts, list(labelled.labels), RULES)}
        assert set(quality) == set(RULES)
        for rule, q in quality.items():
            assert q.labelled >= 1, rule
            assert q.recall == 1.0, rule
            assert q.near_miss_alerts == 0, rule

    def test_near_misses_of_the_issue_are_planted(self, planted: tuple[PlantedDay, PlantedDay]) -> None:
        """The issue's near misses (61 s, opposite side, 50x, 21:59, habitual reader) carry labels."""
        names = {label.scenario for label in planted[1].labels if label.expect == "none"}
        assert {
            "front_running_near_miss_ZZFRB",
            "front_running_near_miss_ZZFRC",
            "front_running_near_miss_ZZFRD",
            "after_hours_near_miss_21_59",
            "query_volume_near_miss_habitual",
        } <= names

    def test_structuring_alerts_only_on_planted_bursts(self, planted: tuple[PlantedDay, PlantedDay]) -> None:
        """The base days hold no burst by construction: structuring alerts are the planted ones only."""
        history, labelled = planted
        table = pa.concat_tables([history.table, labelled.table])
        alerts = BatchEngine(labelled.firm, rules=("structuring",)).scan(table)
        [q] = score(alerts, list(labelled.labels), ("structuring",))
        assert (q.labelled, q.found, q.alerts, q.true_alerts, q.near_misses) == (2, 2, 2, 2, 6)

    def test_stream_agrees_on_the_planted_days(self, planted: tuple[PlantedDay, PlantedDay]) -> None:
        """The stream engine gives the batch engine's alerts on the two planted days."""
        history, labelled = planted
        table = pa.concat_tables([history.table, labelled.table])
        engine = StreamEngine(labelled.firm)
        streamed = [a for e in EventBatch(table).sorted().iter_events() for a in engine.observe(e)]
        batched = BatchEngine(labelled.firm).scan(table)
        assert {json.dumps(a.to_record()) for a in streamed} == {json.dumps(a.to_record()) for a in batched}


class TestSimLabelsFiles:
    def test_plant_labelled_writes_history_and_labels(self, firm: FirmConfig, tmp_path: Path) -> None:
        """`sim --labels` support writes a readable history file and labels naming planted events."""
        population = synthetic_firm(firm, seed=5, traders=24, clients=200)
        day = generate_day(events=5_000, seed=5, date=DAY, firm=population)
        result = plant_labelled(day, tmp_path, "parquet")
        labels = read_labels(tmp_path / "labels.jsonl")
        history = read_events([tmp_path / "history.parquet"])
        planted_ids = set(result.table.column("event_id").to_pylist())
        assert labels
        assert all(label.trigger in planted_ids for label in labels)
        assert len(history) > 5_000
        assert "ZZREL" in result.firm.controls.related_instruments


class TestCodedParquetDay:
    def test_read_day_gives_the_same_alerts(
        self, planted: tuple[PlantedDay, PlantedDay], tmp_path: Path
    ) -> None:
        """A day read back from Parquet as dictionary codes alerts exactly as the in-memory table does."""
        labelled = planted[1]
        path = tmp_path / "events.parquet"
        pq.write_table(labelled.table, path, row_group_size=7_000)  # several chunks, several dictionaries
        coded = read_day(path)
        assert pa.types.is_dictionary(coded.schema.field("order_id").type)
        custom = load_rules(DEFAULT_RULES)
        expected = BatchEngine(labelled.firm, custom=custom).scan(labelled.table)
        for workers in (1, 2):
            found = BatchEngine(labelled.firm, custom=custom, workers=workers).scan(coded)
            assert [a.to_record() for a in found] == [a.to_record() for a in expected], workers
        assert expected

    def test_read_day_names_a_missing_column(self, tmp_path: Path) -> None:
        """A Parquet file without a v1 column is refused with the file and the column named."""
        path = tmp_path / "partial.parquet"
        pq.write_table(pa.table({"event_id": ["e1"], "ts": pa.array([1], pa.timestamp("ns", "UTC"))}), path)
        with pytest.raises(ValueError, match=r"partial\.parquet: no column\(s\) kind, actor"):
            read_day(path)
