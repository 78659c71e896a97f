"""Notifiers: tell people about an alert without ever holding the alert up.

A notifier's ``send`` raises on failure. ``NotificationDispatcher`` runs each notifier on its own
worker thread behind its own queue, so ingestion only enqueues (the alert is already stored and
audited by then) and a failing or hanging notifier delays nobody else. Each delivery's state is
kept in the ``case_notifications`` outbox (pending, sent, failed with the last error), so nothing
is lost: ``resend_unsent`` delivers what a crash or an outage left behind.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Final, Protocol

import structlog

from orderguard.cases.model import StoredAlert
from orderguard.cases.response_store import ResponseStore

SIGNATURE_HEADER: Final = "X-Orderguard-Signature"
_STOP: Final = object()


class NotificationError(RuntimeError):
    """A notifier could not deliver; the message names the notifier and the last error."""


class Notifier(Protocol):
    """Delivers one alert somewhere; raises on failure. ``name`` is stable (it keys the outbox)."""

    name: str

    def send(self, alert: StoredAlert) -> None: ...


def alert_body(alert: StoredAlert) -> bytes:
    """The canonical JSON body every notifier sends (sorted keys, no spaces)."""
    return json.dumps(alert.to_record(), sort_keys=True, separators=(",", ":")).encode("utf-8")


class LogNotifier:
    """Writes the alert as one structured log event (structlog)."""

    def __init__(self, name: str = "log") -> None:
        self.name = name
        self._log = structlog.get_logger("orderguard.cases")

    def send(self, alert: StoredAlert) -> None:
        self._log.warning("alert", **alert.to_record())


def sign_body(secret: bytes, body: bytes) -> str:
    """The signature header value: ``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str) -> bool:
    """What a receiver checks (constant-time)."""
    return hmac.compare_digest(sign_body(secret, body), header)


class WebhookNotifier:
    """POSTs the alert as JSON with an HMAC-SHA256 signature; retries with exponential backoff."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        name: str = "webhook",
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook url {url!r} must start with http:// or https://")
        if not secret:
            raise ValueError("webhook secret must not be empty: receivers check the signature with it")
        if attempts < 1:
            raise ValueError(f"webhook attempts must be at least 1, got {attempts}")
        self.name = name
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep

    def send(self, alert: StoredAlert) -> None:
        body = alert_body(alert)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(self.secret, body)}
        last = "no attempt made"
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked above
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as reply:  # noqa: S310
                    if 200 <= reply.status < 300:
                        return
                    last = f"HTTP {reply.status}"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                last = f"{type(exc).__name__}: {exc}"
        raise NotificationError(
            f"{self.name}: {self.url} not reached after {self.attempts} attempt(s): {last}"
        )


class NotificationDispatcher:
    """One worker thread and queue per notifier; delivery state in the outbox."""

    def __init__(
        self,
        notifiers: Sequence[Notifier],
        outbox: ResponseStore,
        load_alert: Callable[[str], StoredAlert | None],
        clock: Callable[[], int] = time.time_ns,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        names = [n.name for n in notifiers]
        if len(set(names)) != len(names):
            raise ValueError(f"notifier names must be unique, got {names}")
        self.outbox = outbox
        self.load_alert = load_alert
        self.clock = clock
        self.on_failure = on_failure
        self._log = structlog.get_logger("orderguard.cases.notify")
        self._queues: dict[str, queue.Queue[object]] = {}
        self._workers: list[threading.Thread] = []
        for notifier in notifiers:
            work: queue.Queue[object] = queue.Queue()
            self._queues[notifier.name] = work
            thread = threading.Thread(
                target=self._run, args=(notifier, work), name=f"notify-{notifier.name}", daemon=True
            )
            thread.start()
            self._workers.append(thread)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._queues)

    def submit(self, alert: StoredAlert, only: Sequence[str] | None = None) -> None:
        """Queue ``alert`` for every notifier (or those named in ``only``); never blocks on delivery."""
        self.submit_many([alert], only)

    def submit_many(self, alerts: Sequence[StoredAlert], only: Sequence[str] | None = None) -> None:
        """Queue several alerts, recording them as pending in the outbox in one transaction first."""
        names = tuple(n for n in self._queues if only is None or n in only)
        self.outbox.note_pending([a.alert_id for a in alerts], names, self.clock())
        for name in names:
            for alert in alerts:
                self._queues[name].put(alert)

    def resend_unsent(self) -> int:
        """Queue again every delivery the outbox shows as pending or failed; returns how many."""
        count = 0
        for alert_id, name, status, _, _ in self.outbox.notifications():
            if status == "sent" or name not in self._queues:
                continue
            alert = self.load_alert(alert_id)
            if alert is not None:
                self._queues[name].put(alert)
                count += 1
        return count

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queue is empty and idle; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        for work in self._queues.values():
            while work.unfinished_tasks:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.005)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop the workers after their current delivery (a hung one is abandoned: it is a daemon)."""
        for work in self._queues.values():
            work.put(_STOP)
        for thread in self._workers:
            thread.join(timeout)

    def _run(self, notifier: Notifier, work: queue.Queue[object]) -> None:
        attempts: dict[str, int] = {}
        while True:
            item = work.get()
            try:
                if item is _STOP:
                    return
                assert isinstance(item, StoredAlert)
                tries = attempts[item.alert_id] = attempts.get(item.alert_id, 0) + 1
                try:
                    notifier.send(item)
                except Exception as exc:  # noqa: BLE001 - any failure is recorded, never raised into ingestion
                    self.outbox.note_notification(
                        item.alert_id,
                        notifier.name,
                        status="failed",
                        attempts=tries,
                        error=str(exc),
                        now=self.clock(),
                    )
                    self._log.error(
                        "notification failed", notifier=notifier.name, alert_id=item.alert_id, error=str(exc)
                    )
                    if self.on_failure is not None:
                        self.on_failure(notifier.name)
                else:
                    attempts.pop(item.alert_id, None)  # only failures are remembered, so this stays small
                    self.outbox.note_notification(
                        item.alert_id,
                        notifier.name,
                        status="sent",
                        attempts=tries,
                        error=None,
                        now=self.clock(),
                    )
            finally:
                work.task_done()
