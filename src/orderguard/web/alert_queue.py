"""What the alert queue page shows, read a page at a time: numbered pages (the web's links), each read
with LIMIT/OFFSET in SQL after one count, the filters applied in SQL, the case list beside it.

Offsets, not keysets, because the page shows "Alerts 51-100 of 740" and links to page numbers; an
alert arriving between two clicks can shift a row onto the next page, which a reader of a queue
sorted newest first expects.
"""

from __future__ import annotations

from orderguard.cases.listing import OPEN_STATUSES, AlertFilter
from orderguard.cases.model import AlertStatus
from orderguard.cases.stack import CasesStack
from orderguard.web.paging import Pages


def statuses_of(status: str) -> frozenset[AlertStatus] | None:
    """The web's status filter: "open" is every status but closed, "" is any, an unknown one none."""
    if not status:
        return None
    if status == "open":
        return OPEN_STATUSES
    return frozenset(s for s in AlertStatus if s.value == status)


def queue_view(
    cases: CasesStack,
    actor: str,
    filters: dict[str, str],
    page_number: int,
    per_page: int,
    *,
    linked: dict[str, str],
    table_only: bool,
) -> dict[str, object]:
    """The template values of one page of the queue (AccessDeniedError for non-investigators);
    ``table_only`` leaves out what only the full page shows (filter choices, the case list)."""
    wanted = AlertFilter(
        rule=filters["rule"] or None,
        severity=filters["severity"] or None,
        subject=filters["subject"] or None,
        statuses=statuses_of(filters["status"]),
    )
    lists = cases.lists
    total = lists.count_alerts(actor=actor, filters=wanted)
    pages = Pages.of("/alerts", linked, total, page_number, per_page)
    # A page past the end is empty and links to the first page; it is not read, so that an absurd
    # ?page= (an offset beyond a 64-bit integer) cannot overflow the SQL driver.
    items = []
    if pages.offset < total:
        items = lists.alerts(actor=actor, filters=wanted, limit=per_page, offset=pages.offset)
    view: dict[str, object] = {"items": items, "pages": pages}
    if table_only:
        return view
    listed = lists.cases(actor=actor)
    counts = lists.rule_counts(actor=actor, cases=listed)
    # Every alert sits in its subject's case, so the cases' rule counts also give the filter choices
    # (no extra pass over the alerts).
    view |= {
        "rules": sorted({rule for per_rule in counts.values() for rule in per_rule}),
        "subjects": sorted({c.subject for c in listed if counts.get(c.case_id)}),
        "cases": listed,
        "alert_counts": {c.case_id: sum(counts.get(c.case_id, {}).values()) for c in listed},
        "case_rules": {case_id: _in_words(per_rule) for case_id, per_rule in counts.items()},
    }
    return view


def _in_words(per_rule: dict[str, int]) -> list[str]:
    """A case's distinct rules in words, most frequent first."""
    return [rule.replace("_", " ") for rule, _ in sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0]))]
