"""EventBatch: one Arrow table of ingested events in EVENT_SCHEMA order (+ unknown columns after)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import pyarrow as pa
import pyarrow.compute as pc

from orderguard.domain.events import Event, EventKind, Side
from orderguard.ingest.schema import EVENT_SCHEMA, TS_TYPE

_OPTIONAL = ("account", "symbol", "side", "qty", "price", "venue", "order_id", "records", "ip", "session_id")


@dataclass(frozen=True)
class EventBatch:
    """Validated events as one table; the columnar form every batch stage reads."""

    table: pa.Table

    def __len__(self) -> int:
        return int(self.table.num_rows)

    @property
    def extra_columns(self) -> list[str]:
        """Input columns beyond the v1 fields, kept in the order they first appeared."""
        names: list[str] = self.table.column_names
        return names[len(EVENT_SCHEMA) :]

    def counts_by_kind(self) -> dict[str, int]:
        """How many events of each kind, most frequent first."""
        counts = pc.value_counts(self.table.column("kind"))
        pairs = zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)
        return dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))

    def sorted(self) -> EventBatch:
        """The same events in their total order (ts, seq)."""
        return EventBatch(self.table.sort_by([("ts", "ascending"), ("seq", "ascending")]))

    def iter_events(self, chunk_rows: int = 65_536) -> Iterator[Event]:
        """Domain events in table order (one Python object per row: for streams and small batches)."""
        extras = self.extra_columns
        table = self.table.set_column(2, "ts", self.table.column("ts").cast(pa.int64()))
        for chunk in table.to_batches(max_chunksize=chunk_rows):
            columns = chunk.to_pydict()
            for i in range(chunk.num_rows):
                kind = columns["kind"][i]
                side = columns["side"][i]
                extra = {name: columns[name][i] for name in extras if columns[name][i] is not None}
                yield Event(
                    event_id=columns["event_id"][i],
                    ts=columns["ts"][i],
                    kind=EventKind(kind),
                    actor=columns["actor"][i],
                    seq=columns["seq"][i],
                    side=Side(side) if side else None,  # intake stores an empty side as none
                    extra=MappingProxyType(extra),
                    **{name: columns[name][i] for name in _OPTIONAL if name != "side"},
                )


def batch_from_events(events: Sequence[Event]) -> EventBatch:
    """A batch of domain events, keeping each event's seq and its extra fields as columns."""
    columns: dict[str, list[object]] = {field.name: [] for field in EVENT_SCHEMA}
    extra_names: list[str] = []
    for event in events:
        for name in event.extra:
            if name not in columns and name not in extra_names:
                extra_names.append(name)
    extras: dict[str, list[object]] = {name: [] for name in extra_names}
    for event in events:
        columns["seq"].append(event.seq)
        columns["event_id"].append(event.event_id)
        columns["ts"].append(event.ts)
        columns["kind"].append(event.kind.value)
        columns["actor"].append(event.actor)
        for name in _OPTIONAL:
            value = getattr(event, name)
            columns[name].append(value.value if isinstance(value, Side) else value)
        for name, values in extras.items():
            values.append(event.extra.get(name))
    arrays = [
        pa.array(columns["ts"], pa.int64()).cast(TS_TYPE)
        if field.name == "ts"
        else pa.array(columns[field.name], field.type)
        for field in EVENT_SCHEMA
    ]
    table = pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)
    for name, values in extras.items():
        table = table.append_column(name, pa.array(values))
    return EventBatch(table)
