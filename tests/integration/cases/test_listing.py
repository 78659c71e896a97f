"""Alert and case lists paged in SQL on both backends: keyset walks, filters, offsets, hidden subjects."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from orderguard.cases.listing import OPEN_STATUSES, AlertFilter, AlertKey, CaseListing
from orderguard.cases.model import AlertStatus, Case, CaseStatus, Queue, StoredAlert
from orderguard.cases.store import CaseStore
from orderguard.domain.alerts import Alert
from orderguard.storage import make_engine
from orderguard.storage.migrate import upgrade

RULES = ("front_running", "data_exfiltration", "wash_trade")
SUBJECTS = ("alice", "bob", "dave")
T0 = 1_763_650_000_000_000_000


def stored(n: int, *, ts: int | None = None, subject: str | None = None) -> StoredAlert:
    """Alert number ``n``: rule, subject, status and queue cycle; some share a timestamp on purpose."""
    rng = random.Random(n)
    alert = Alert(
        f"a-{n:05d}",
        RULES[n % 3],
        ("high", "medium", "low")[n % 2],
        subject or SUBJECTS[n % 3 if n % 7 else 0],
        "AAPL",
        T0 + (n // 2) * 1_000 if ts is None else ts,  # pairs tie on ts: the id breaks the tie
        (f"e-{n}",),
        "planted",
        "alert",
    )
    queues = (
        (Queue.SECURITY,)
        if n % 4 == 0
        else (Queue.COMPLIANCE, Queue.SECURITY)
        if n % 5 == 0
        else (Queue.COMPLIANCE,)
    )
    status = list(AlertStatus)[rng.randrange(4)]
    return StoredAlert(alert, queues, status, f"case-{alert.actor}", T0)


def in_queue_order(alerts: list[StoredAlert]) -> list[str]:
    return [s.alert_id for s in sorted(alerts, key=lambda s: (-s.alert.ts, s.alert_id))]


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    upgrade(db_url)
    made = make_engine(db_url)
    yield made
    made.dispose()


def insert(engine: Engine, alerts: list[StoredAlert]) -> None:
    store = CaseStore(engine)
    with engine.begin() as conn:
        for s in alerts:
            store.insert_alert(conn, s)


def walk(
    listing: CaseListing,
    filters: AlertFilter,
    size: int,
    between: list[list[StoredAlert]] | None = None,
    engine: Engine | None = None,
) -> list[str]:
    """Every page of the queue in keyset pages of ``size``; inserts ``between[i]`` after page i."""
    seen: list[str] = []
    after: AlertKey | None = None
    page_number = 0
    while True:
        page = listing.alerts(filters, after=after, limit=size + 1)
        seen += [s.alert_id for s in page[:size]]
        if between and engine is not None and page_number < len(between):
            insert(engine, between[page_number])
        page_number += 1
        if len(page) <= size:
            return seen
        last = page[size - 1]
        after = (last.alert.ts, last.alert_id)


class TestAlertKeyset:
    def test_walk_visits_every_alert_once_in_queue_order(self, engine: Engine) -> None:
        """Keyset pages of 7 join to the whole queue, newest first, ties broken by id, each alert once."""
        alerts = [stored(n) for n in range(60)]
        insert(engine, alerts)
        assert walk(CaseListing(engine), AlertFilter(), 7) == in_queue_order(alerts)

    def test_concurrent_inserts_neither_repeat_nor_skip(self, engine: Engine) -> None:
        """Alerts inserted between pages never repeat or push out an alert already there; older ones
        that land after the cursor are visited, newer ones (above the cursor) are not."""
        alerts = [stored(n) for n in range(40)]
        insert(engine, alerts)
        newer = [[stored(1000 + k, ts=T0 + 10**9 + k)] for k in range(3)]  # above every cursor
        older = [[stored(2000 + k, ts=T0 - 10**9 - k)] for k in range(3)]  # below every cursor
        between = [n + o for n, o in zip(newer, older, strict=True)]
        seen = walk(CaseListing(engine), AlertFilter(), 6, between, engine)
        assert len(seen) == len(set(seen))
        assert seen[: len(alerts)] == in_queue_order(alerts)
        assert seen[len(alerts) :] == [o[0].alert_id for o in older]

    def test_filters_combine_with_the_cursor(self, engine: Engine) -> None:
        """Each filter, alone and combined, pages to exactly the alerts a full read would pick."""
        alerts = [stored(n) for n in range(90)]
        insert(engine, alerts)
        listing = CaseListing(engine)
        cases: list[tuple[AlertFilter, Callable[[StoredAlert], bool]]] = [
            (AlertFilter(rule="wash_trade"), lambda s: s.alert.rule == "wash_trade"),
            (
                AlertFilter(severity="high", subject="bob"),
                lambda s: s.alert.severity == "high" and s.alert.actor == "bob",
            ),
            (AlertFilter(statuses=OPEN_STATUSES), lambda s: s.status is not AlertStatus.CLOSED),
            (AlertFilter(queue=Queue.SECURITY), lambda s: Queue.SECURITY in s.queues),
            (
                AlertFilter(queue=Queue.COMPLIANCE, rule="front_running"),
                lambda s: Queue.COMPLIANCE in s.queues and s.alert.rule == "front_running",
            ),
            (
                AlertFilter(since_ns=T0 + 10_000, until_ns=T0 + 30_000),
                lambda s: T0 + 10_000 <= s.alert.ts < T0 + 30_000,
            ),
            (AlertFilter(statuses=frozenset()), lambda s: False),
        ]
        for filters, keep in cases:
            wanted = in_queue_order([s for s in alerts if keep(s)])
            assert walk(listing, filters, 4) == wanted, filters
            assert listing.count_alerts(filters) == len(wanted), filters

    def test_hidden_subject_and_offset_pages(self, engine: Engine) -> None:
        """The reader's own alerts are never listed or counted; offset pages are slices of the queue."""
        alerts = [stored(n) for n in range(30)]
        insert(engine, alerts)
        listing = CaseListing(engine)
        others = in_queue_order([s for s in alerts if s.alert.actor != "alice"])
        assert listing.count_alerts(AlertFilter(), hide_subject="alice") == len(others)
        pages = [
            listing.alerts(AlertFilter(), hide_subject="alice", limit=8, offset=o) for o in range(0, 40, 8)
        ]
        assert [s.alert_id for p in pages for s in p] == others


class TestCaseKeyset:
    def test_cases_page_oldest_first_with_filters(self, engine: Engine) -> None:
        """Cases in keyset pages join to the list oldest first; status, subject and hidden reader apply."""
        store = CaseStore(engine)
        made = [
            Case(
                f"case-{n:03d}",
                SUBJECTS[n % 3],
                CaseStatus.OPEN if n % 2 else CaseStatus.CLOSED,
                T0 + (n // 2),
            )
            for n in range(25)
        ]
        with engine.begin() as conn:
            for case in made:
                store.insert_case(conn, case)
        listing = CaseListing(engine)
        for status, subject, hidden in [
            (None, None, None),
            (CaseStatus.OPEN, None, "bob"),
            (None, "dave", None),
        ]:
            wanted = [
                c.case_id
                for c in sorted(made, key=lambda c: (c.opened_ns, c.case_id))
                if (status is None or c.status is status)
                and (subject is None or c.subject == subject)
                and c.subject != hidden
            ]
            seen: list[str] = []
            after = None
            while True:
                page = listing.cases(
                    status=status, subject=subject, hide_subject=hidden, after=after, limit=4
                )
                seen += [c.case_id for c in page]
                if len(page) < 4:
                    break
                after = (page[-1].opened_ns, page[-1].case_id)
            assert seen == wanted

    def test_rule_counts_per_case(self, engine: Engine) -> None:
        """Per case, the alerts of each rule are counted in one grouped read."""
        alerts = [stored(n) for n in range(30)]
        insert(engine, alerts)
        counts = CaseListing(engine).rule_counts(["case-alice", "case-nobody"])
        expected: dict[str, int] = {}
        for s in alerts:
            if s.case_id == "case-alice":
                expected[s.alert.rule] = expected.get(s.alert.rule, 0) + 1
        assert counts == {"case-alice": expected}
