"""Saving and loading the live surveillance stage's state (table ``live_surveillance``).

The state lives in the database beside the events it describes, not in a file next to it: a
PostgreSQL deployment has no such file, a backup or restore of the database moves events and
position together, and a second server on the same database finds the same state.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from orderguard.storage.engine import write_turn
from orderguard.storage.live_tables import live_surveillance


@dataclass(frozen=True, slots=True)
class SavedLiveState:
    """One saved state of a live surveillance stage."""

    name: str
    snapshot: bytes  # StreamEngine.snapshot()
    position: tuple[int, int] | None  # (ts, seq) of the last event observed
    cursor_seq: int  # every event with seq <= this has been observed, is held back, or was late
    late_events: int
    alerts_raised: int
    last_alert_ns: int | None
    saved_ns: int


class LiveStateStore:
    """The saved states, one row per stage name, on a migrated database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, name: str) -> SavedLiveState | None:
        """The state saved under ``name``, None when there is none."""
        with self.engine.connect() as conn:
            row = conn.execute(select(live_surveillance).where(live_surveillance.c.name == name)).first()
        if row is None:
            return None
        position = None if row.position_ts is None else (int(row.position_ts), int(row.position_seq))
        return SavedLiveState(
            name=row.name,
            snapshot=bytes(row.snapshot),
            position=position,
            cursor_seq=int(row.cursor_seq),
            late_events=int(row.late_events),
            alerts_raised=int(row.alerts_raised),
            last_alert_ns=None if row.last_alert_ns is None else int(row.last_alert_ns),
            saved_ns=int(row.saved_ns),
        )

    def save(self, state: SavedLiveState) -> None:
        """Replace the state saved under ``state.name`` (one transaction)."""
        values = {
            "snapshot": state.snapshot,
            "position_ts": None if state.position is None else state.position[0],
            "position_seq": None if state.position is None else state.position[1],
            "cursor_seq": state.cursor_seq,
            "late_events": state.late_events,
            "alerts_raised": state.alerts_raised,
            "last_alert_ns": state.last_alert_ns,
            "saved_ns": state.saved_ns,
        }
        table = live_surveillance
        with write_turn(self.engine), self.engine.begin() as conn:
            changed = conn.execute(update(table).where(table.c.name == state.name).values(**values)).rowcount
            if not changed:
                conn.execute(insert(table).values(name=state.name, **values))
