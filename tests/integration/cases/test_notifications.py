"""Notifiers on both backends against a real local HTTP server: signed delivery, retries, and a
failing or hanging notifier that neither loses nor holds up an alert."""

from __future__ import annotations

import time

from orderguard.cases.model import StoredAlert
from orderguard.cases.notify import LogNotifier, WebhookNotifier, verify_signature
from tests.cases_support import CaseEnv, alert, case_env, receiver

SECRET = b"webhook-shared-secret"


def _delivered(
    env: CaseEnv, notifier: str, status: str, expected: set[str], timeout: float = 10.0
) -> set[str]:
    """Poll the outbox until ``expected`` alerts have ``status`` for ``notifier`` (or time runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        found = {r[0] for r in env.stack.response_store.notifications(status) if r[1] == notifier}
        if expected <= found or time.monotonic() >= deadline:
            return found
        time.sleep(0.01)


class Exploding:
    """A notifier whose backend is down: every send raises."""

    name = "pager"

    def send(self, alert: StoredAlert) -> None:
        raise ConnectionError(f"pager service unreachable for {alert.alert_id}")


class TestWebhook:
    def test_the_alert_arrives_signed_over_its_body(self, db_url: str) -> None:
        """The receiver gets the alert JSON with a valid HMAC-SHA256 signature; the outbox says sent."""
        with receiver() as server:
            hook = WebhookNotifier(server.url, SECRET, timeout=2)
            with case_env(db_url, notifiers=[hook]) as env:
                env.stack.alerts.ingest([alert()])
                assert _delivered(env, "webhook", "sent", {alert().alert_id}) == {alert().alert_id}
            [(body, signature)] = server.bodies
            assert verify_signature(SECRET, body, signature)
            assert not verify_signature(b"another secret", body, signature)
            assert alert().alert_id.encode() in body

    def test_server_errors_are_retried_with_backoff(self, db_url: str) -> None:
        """Two 503 answers, then 200: the notifier tries three times and delivers."""
        with receiver() as server:
            server.statuses = [503, 503]
            pauses: list[float] = []
            hook = WebhookNotifier(
                server.url, SECRET, timeout=2, attempts=3, backoff=0.01, sleep=pauses.append
            )
            with case_env(db_url, notifiers=[hook]) as env:
                env.stack.alerts.ingest([alert()])
                assert _delivered(env, "webhook", "sent", {alert().alert_id}) == {alert().alert_id}
            assert len(server.bodies) == 3
            assert pauses == [0.01, 0.02]


class TestFailingNotifiers:
    def test_a_hanging_webhook_holds_up_neither_ingestion_nor_other_notifiers(self, db_url: str) -> None:
        """While the webhook's request hangs, more alerts are stored and logged; it fails, then resends."""
        with receiver() as server:
            server.hang.set()
            hook = WebhookNotifier(server.url, SECRET, timeout=0.3, attempts=1)
            with case_env(db_url, notifiers=[hook, LogNotifier()]) as env:
                first, second = alert(event_ids=("ev-1",)), alert(event_ids=("ev-2",))
                env.stack.alerts.ingest([first])
                assert server.received.wait(10)
                result = env.stack.alerts.ingest([second])  # the webhook is stuck on `first` right now
                assert not server.release.is_set()
                assert result.stored == [second.alert_id]
                assert {a.alert_id for a in env.stack.store.alerts()} == {first.alert_id, second.alert_id}
                both = {first.alert_id, second.alert_id}
                assert _delivered(env, "log", "sent", both) == both
                assert first.alert_id in _delivered(env, "webhook", "failed", {first.alert_id})
                server.hang.clear()
                server.release.set()
                assert env.stack.dispatcher is not None
                assert env.stack.dispatcher.drain(10)
                env.stack.dispatcher.resend_unsent()
                assert env.stack.dispatcher.drain(10)
                sent = {r[0] for r in env.stack.response_store.notifications("sent") if r[1] == "webhook"}
                assert sent == {first.alert_id, second.alert_id}

    def test_a_raising_notifier_loses_nothing(self, db_url: str) -> None:
        """A notifier that raises leaves the alert stored, its failure in the outbox and in the metrics."""
        with case_env(db_url, notifiers=[Exploding()]) as env:
            result = env.stack.alerts.ingest([alert()])
            assert result.stored == [alert().alert_id]
            assert _delivered(env, "pager", "failed", {alert().alert_id}) == {alert().alert_id}
            [(_, _, _, attempts, error)] = env.stack.response_store.notifications("failed")
            assert attempts == 1
            assert error is not None
            assert "unreachable" in error
            failures = env.stack.metrics.registry.get_sample_value(
                "orderguard_notification_failures_total", {"notifier": "pager"}
            )
            assert failures == 1
