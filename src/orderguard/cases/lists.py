"""The alert queue and the case list as an investigator reads them: a page at a time, in SQL.

Like every read of the cases stage, a listing is refused (and audited) for anyone but an
investigator, never shows the reader's own alerts or cases, and is audited as VIEWED naming
exactly what was shown. Counts are checked the same way but are not reads of any alert, so they
are not recorded as such.
"""

from __future__ import annotations

from collections.abc import Callable

from orderguard.cases.access import CaseAccess
from orderguard.cases.listing import AlertFilter, AlertKey, CaseKey
from orderguard.cases.model import Case, CaseStatus, StoredAlert
from orderguard.cases.store import CaseStore

Shown = Callable[[list[StoredAlert]], list[StoredAlert]]


class ListReader:
    """Paged, audited reads of the alert queue and the case list."""

    def __init__(self, store: CaseStore, access: CaseAccess) -> None:
        self.listing = store.listing
        self.access = access

    def alerts(
        self,
        *,
        actor: str,
        filters: AlertFilter,
        limit: int | None,
        after: AlertKey | None = None,
        offset: int = 0,
        shown: Shown | None = None,
    ) -> list[StoredAlert]:
        """Alerts matching ``filters``, newest first: at most ``limit`` after ``after`` (keyset) or
        ``offset``; ``shown`` narrows what was read to what the reader sees (only that is returned
        and recorded as read)."""

        def load() -> list[StoredAlert]:
            found = self.listing.alerts(filters, hide_subject=actor, after=after, limit=limit, offset=offset)
            return found if shown is None else shown(found)

        return self.access.listing(
            actor,
            kind="alert_list",
            object_id=_queue_name(filters),
            load=load,
            detail=lambda found: {"alerts": [a.alert_id for a in found]},
        )

    def count_alerts(self, *, actor: str, filters: AlertFilter) -> int:
        """How many alerts match ``filters`` (never the reader's own)."""
        self.access.require(
            actor, kind="alert_list", object_id=_queue_name(filters), subject=None, read=False
        )
        return self.listing.count_alerts(filters, hide_subject=actor)

    def cases(
        self,
        *,
        actor: str,
        status: CaseStatus | None = None,
        subject: str | None = None,
        limit: int | None = None,
        after: CaseKey | None = None,
        shown: Callable[[list[Case]], list[Case]] | None = None,
    ) -> list[Case]:
        """Cases oldest first (never the reader's own): at most ``limit`` after ``after``; ``shown``
        narrows what was read to what the reader sees (only that is returned and recorded as read)."""

        def load() -> list[Case]:
            found = self.listing.cases(
                status=status, subject=subject, hide_subject=actor, after=after, limit=limit
            )
            return found if shown is None else shown(found)

        return self.access.listing(
            actor,
            kind="case_list",
            object_id="cases",
            load=load,
            detail=lambda found: {"cases": [c.case_id for c in found]},
        )

    def rule_counts(self, *, actor: str, cases: list[Case]) -> dict[str, dict[str, int]]:
        """Per case shown (never the reader's own): how many alerts of each rule."""
        self.access.require(actor, kind="case_list", object_id="cases", subject=None, read=False)
        return self.listing.rule_counts([c.case_id for c in cases if c.subject != actor])


def _queue_name(filters: AlertFilter) -> str:
    return f"queue:{filters.queue.value if filters.queue else 'all'}"
