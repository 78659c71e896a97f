"""Webhook signatures, alert-file parsing and false-positive rates."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from orderguard.cases.alert_file import AlertFileError, read_alerts
from orderguard.cases.metrics import false_positive_rates
from orderguard.cases.notify import WebhookNotifier, sign_body, verify_signature
from tests.cases_support import alert


class TestSignature:
    def test_the_signature_is_hmac_sha256_over_the_exact_body(self) -> None:
        """The header is sha256=<hex HMAC>; any change to body or secret fails verification."""
        body = b'{"alert_id":"a1"}'
        expected = "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
        assert sign_body(b"k", body) == expected
        assert verify_signature(b"k", body, expected)
        assert not verify_signature(b"k", body + b" ", expected)
        assert not verify_signature(b"other", body, expected)

    def test_a_webhook_needs_a_url_and_a_secret(self) -> None:
        """Misconfiguration is refused at construction with the fix in the message."""
        with pytest.raises(ValueError, match="http"):
            WebhookNotifier("ftp://example", b"k")
        with pytest.raises(ValueError, match="secret"):
            WebhookNotifier("http://127.0.0.1:9", b"")


class TestAlertFile:
    def test_alerts_round_trip_through_json_lines(self, tmp_path: Path) -> None:
        """What surveillance writes is read back as the same alerts."""
        alerts = [alert(), alert(actor="bob", symbol="AAPL", event_ids=("e1", "e2"))]
        path = tmp_path / "alerts.jsonl"
        path.write_text("".join(json.dumps(a.to_record()) + "\n" for a in alerts) + "\n")
        assert read_alerts(path) == alerts

    @pytest.mark.parametrize(
        ("change", "field"),
        [({"ts": "yesterday"}, "ts"), ({"actor": ""}, "actor"), ({"event_ids": "e1"}, "event_ids")],
    )
    def test_a_bad_field_is_named_with_file_and_line(
        self, tmp_path: Path, change: dict[str, object], field: str
    ) -> None:
        """The error names the file, the line and the field."""
        path = tmp_path / "alerts.jsonl"
        path.write_text(
            json.dumps(alert().to_record()) + "\n" + json.dumps({**alert().to_record(), **change}) + "\n"
        )
        with pytest.raises(AlertFileError, match=rf"alerts.jsonl:2: field '{field}'"):
            read_alerts(path)


class TestFalsePositiveRate:
    def test_rate_is_false_positives_over_closed_alerts(self) -> None:
        """Open alerts do not count; a rule with none closed has no rate."""
        outcomes = {
            "front_running": {"total": 5, "false_positive": 1, "policy_violation": 3},
            "query_volume": {"total": 2},
        }
        assert false_positive_rates(outcomes) == {"front_running": 0.25, "query_volume": None}
