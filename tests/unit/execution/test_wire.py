"""The connector wire codec (v1): frames round-trip, and anything off-protocol is a WireError."""

from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderguard.domain import AuditAction, AuditEntry, Decision, Event, EventKind, ReasonCode, Side
from orderguard.execution.connector import ConnectorResult
from orderguard.execution.wire import MAX_FRAME, Channel, Frame, Kind, WireError, decode, encode, expect
from orderguard.execution.wire_messages import (
    entries_from_frame,
    entry_from_json,
    entry_to_json,
    ints,
    result_to_json,
    results_from_frame,
)

CONNECTOR = "service:connector-1"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def verdict(
    action: AuditAction = AuditAction.EXECUTED, changes: dict[str, object] | None = None
) -> AuditEntry:
    fields: dict[str, object] = {
        "kind": "order",
        "action": action,
        "object_id": "ab" * 32,
        "actor": CONNECTOR,
        "ts": 1_763_700_000_000_000_000,
        "after": {"message": "verified at the connector", "order_id": "T-1"},
        "decision": "allow" if action is AuditAction.EXECUTED else "deny",
        "reason_code": "ALLOWED" if action is AuditAction.EXECUTED else "SEAL_INVALID",
        "policy_ids": ("policy.default",),
    }
    fields.update(changes or {})
    return AuditEntry(**fields)  # type: ignore[arg-type]


def fill(n: int = 1) -> Event:
    return Event(
        f"XNYS-T-1-fill-{n}",
        1_763_700_000_000_500_000,
        EventKind.EXECUTION,
        "alice",
        account="C-HEDGE-1",
        symbol="AAPL",
        side=Side.BUY,
        qty=10.0,
        price=190.44,
        venue="XNYS",
        order_id="T-1",
    )


class TestFrames:
    @settings(max_examples=60, deadline=None)
    @given(
        kind=st.sampled_from(list(Kind)),
        request_id=st.integers(0, 2**32 - 1),
        meta=st.dictionaries(st.text(max_size=10), json_values, max_size=5),
        blobs=st.lists(st.binary(max_size=64), max_size=5),
    )
    def test_a_frame_round_trips(
        self, kind: Kind, request_id: int, meta: dict[str, object], blobs: list[bytes]
    ) -> None:
        """Any frame decodes to itself from its encoding (after the length prefix)."""
        frame = Frame(kind, request_id, meta, tuple(blobs))
        data = encode(frame)
        assert struct.unpack("!I", data[:4])[0] == len(data) - 4
        assert decode(data[4:]) == frame

    def test_another_protocol_version_is_refused(self) -> None:
        """A frame of version 2 is not read as version 1."""
        body = bytearray(encode(Frame(Kind.READY, 0, {}))[4:])
        body[0] = 2
        with pytest.raises(WireError, match="protocol version 2"):
            decode(bytes(body))

    def test_an_unknown_kind_is_refused(self) -> None:
        """Kind 200 names no message."""
        body = bytearray(encode(Frame(Kind.READY, 0, {}))[4:])
        body[1] = 200
        with pytest.raises(WireError, match="unknown frame kind 200"):
            decode(bytes(body))

    @pytest.mark.parametrize("cut", [1, 5, 14])
    def test_a_truncated_frame_is_refused(self, cut: int) -> None:
        """A frame cut anywhere is an error, never a shorter frame."""
        body = encode(Frame(Kind.JUDGE, 3, {"times": [1, 2]}, (b"abc", b"defg")))[4:]
        with pytest.raises(WireError):
            decode(body[:-cut])

    def test_stray_bytes_after_the_blobs_are_refused(self) -> None:
        """A frame longer than its parts is not accepted with the tail ignored."""
        body = encode(Frame(Kind.JUDGE, 3, {}, (b"abc",)))[4:]
        with pytest.raises(WireError, match="stray bytes"):
            decode(body + b"x")

    def test_meta_must_be_a_json_object(self) -> None:
        """A JSON list where the meta object belongs is refused."""
        meta = b"[1,2]"
        body = struct.pack("!BBHII", 1, Kind.READY, 0, 0, len(meta)) + meta
        with pytest.raises(WireError, match="not a JSON object"):
            decode(body)

    def test_expect_names_what_came_instead(self) -> None:
        """Waiting for READY and getting the end of the stream says so."""
        with pytest.raises(WireError, match="expected READY, got the end of the stream"):
            expect(None, Kind.READY)


class TestChannel:
    def test_frames_cross_a_socket_pair_in_order(self) -> None:
        """Two frames sent are received in order; a closed peer reads as the end of the stream."""
        left, right = socket.socketpair()
        sender, receiver = Channel(left), Channel(right)
        frames = [Frame(Kind.JUDGE, 1, {"times": [5]}, (b"e" * 1000,)), Frame(Kind.ABORT, 1, {})]
        for frame in frames:
            sender.send(frame)
        sender.close()
        assert [receiver.receive(), receiver.receive(), receiver.receive()] == [*frames, None]
        receiver.close()

    def test_an_oversized_announcement_is_refused_before_reading_it(self) -> None:
        """A length prefix over the limit is an error (no 4 GiB allocation on a peer's say-so)."""
        left, right = socket.socketpair()
        left.sendall(struct.pack("!I", MAX_FRAME + 1))
        receiver = Channel(right)
        with pytest.raises(WireError, match="limit"):
            receiver.receive()
        left.close()
        receiver.close()

    def test_a_connection_ending_inside_a_frame_is_an_error(self) -> None:
        """Half a frame then the end of the stream is not a clean end."""
        left, right = socket.socketpair()
        left.sendall(encode(Frame(Kind.READY, 0, {"a": 1}))[:-2])
        left.close()
        receiver = Channel(right)
        with pytest.raises(WireError, match="ended inside a frame"):
            receiver.receive()
        receiver.close()


class TestVerdictEntries:
    @pytest.mark.parametrize("action", [AuditAction.EXECUTED, AuditAction.REFUSED])
    def test_a_verdict_entry_round_trips(self, action: AuditAction) -> None:
        """An accepted or refused verdict arrives as the same audit entry."""
        entry = verdict(action)
        assert entry_from_json(entry_to_json(entry), CONNECTOR) == entry

    @pytest.mark.parametrize(
        ("changes", "match"),
        [
            ({"actor": "service:controls"}, "expected an order by service:connector-1"),
            ({"kind": "role"}, "expected an order"),
            ({"action": AuditAction.ROLE_GRANTED, "decision": "allow"}, "action 'role_granted'"),
            ({"decision": "deny"}, "action 'executed' and decision 'deny'"),
            ({"reason_code": "SEAL_INVALID"}, "decision 'allow' and reason 'SEAL_INVALID'"),
        ],
    )
    def test_an_entry_that_is_not_a_connector_verdict_is_refused(
        self, changes: dict[str, object], match: str
    ) -> None:
        """The API process logs only what has the shape of this connector's verdict."""
        with pytest.raises(WireError, match=match):
            entry_from_json(entry_to_json(verdict(changes=changes)), CONNECTOR)

    def test_an_unknown_reason_code_is_refused(self) -> None:
        """A reason code outside the stable list is malformed."""
        data = entry_to_json(verdict(AuditAction.REFUSED))
        data["reason_code"] = "WHATEVER"
        with pytest.raises(WireError, match="malformed"):
            entry_from_json(data, CONNECTOR)

    def test_a_frame_must_carry_one_entry_per_envelope(self) -> None:
        """Two entries for three envelopes is garbage."""
        meta: dict[str, object] = {"entries": [entry_to_json(verdict())] * 2}
        with pytest.raises(WireError, match="VERDICTS for 3 envelopes"):
            entries_from_frame(meta, 3, CONNECTOR)

    def test_ints_refuses_anything_but_integers(self) -> None:
        """Times and indexes are JSON integers: a boolean or text is refused."""
        assert ints([1, 2]) == [1, 2]
        for bad in ([True], ["1"], {"a": 1}, [1.5]):
            with pytest.raises(WireError):
                ints(bad)


class TestResults:
    def test_a_result_round_trips_with_its_fills(self) -> None:
        """Decision, digest, order id, audit index and fills arrive as sent."""
        result = ConnectorResult(
            Decision.allow("verified at the connector", ("policy.default",)), b"\x01" * 32, "T-1", 41,
            (fill(1), fill(2)),
        )  # fmt: skip
        (back,) = results_from_frame({"results": [result_to_json(result)]}, [b""], [41])
        assert back == result

    def test_a_result_under_another_audit_index_is_refused(self) -> None:
        """The result must name the index its verdict was logged at."""
        result = ConnectorResult(Decision.deny(ReasonCode.SEAL_INVALID, "no"), None, None, 7)
        with pytest.raises(WireError, match="audit index 7"):
            results_from_frame({"results": [result_to_json(result)]}, [b""], [8])

    def test_a_refused_result_with_fills_is_refused(self) -> None:
        """A refused order cannot have been filled."""
        data = result_to_json(ConnectorResult(Decision.deny(ReasonCode.REPLAYED, "seen"), None, "T-1", 3))
        data["executions"] = [fill().to_record()]
        with pytest.raises(WireError, match="allowed=False"):
            results_from_frame({"results": [data]}, [b""], [3])

    def test_a_bad_drop_copy_is_refused(self) -> None:
        """Drop copy bytes that do not parse make the result malformed."""
        data = result_to_json(ConnectorResult(Decision.deny(ReasonCode.REPLAYED, "seen"), None, "T-1", 3))
        with pytest.raises(WireError, match="malformed"):
            results_from_frame({"results": [data]}, [b"not a drop copy"], [3])
