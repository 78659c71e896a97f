"""The journal of approved venue-allowlist changes, replayed over the firm file at start-up.

``InMemoryVenueJournal`` serves tests; ``SqlVenueJournal`` (``orderguard.gateway.sql_state``)
keeps the journal in the database, so an approved change survives a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class VenueChange:
    """A venue added (``approved``) to or removed from the allowlist under an approval request."""

    venue: str
    approved: bool
    actor: str
    ts: int
    request_id: str | None = None


class VenueJournal(Protocol):
    """Append-only persistence of venue changes; ``changes`` returns them in the order appended."""

    def append(self, change: VenueChange) -> None: ...

    def changes(self) -> list[VenueChange]: ...


class InMemoryVenueJournal:
    """Venue changes in a list; lost when the process ends."""

    def __init__(self) -> None:
        self._changes: list[VenueChange] = []

    def append(self, change: VenueChange) -> None:
        self._changes.append(change)

    def changes(self) -> list[VenueChange]:
        return list(self._changes)
