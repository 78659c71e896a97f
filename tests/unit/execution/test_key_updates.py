"""Key updates after start: what a rotation or revocation may change in a directory, and what it may not."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orderguard.execution import KeyDirectory, KeyPurpose, KeyRecord, generate_key
from orderguard.execution.key_updates import (
    REVOKED_FOR_GOOD,
    KeysApplied,
    KeyUpdateRefusedError,
    merge_all,
    merged,
    revoked_for_good,
)


@pytest.fixture
def alice() -> KeyRecord:
    return generate_key("alice", KeyPurpose.ORDER_SIGNING, 1_000)[0]


class TestMerged:
    def test_a_new_key_is_taken_as_it_is(self, alice: KeyRecord) -> None:
        """Nothing known about the key: the update is the record."""
        assert merged(None, alice) is alice

    def test_a_window_may_close(self, alice: KeyRecord) -> None:
        """A rotation's closed window and a later start both narrow trust."""
        closed = replace(alice, not_after_ns=5_000, not_before_ns=2_000)
        assert merged(alice, closed) == closed

    @pytest.mark.parametrize(
        ("change", "said"),
        [
            ({"not_after_ns": None}, "may not reopen"),
            ({"not_after_ns": 6_000}, "may not reopen"),
            ({"not_before_ns": 500}, "not start earlier"),
            ({"owner": "bob"}, "may not change its owner"),
            ({"purpose": KeyPurpose.APPROVAL}, "may not change its owner, purpose"),
            ({"replaces": "k" + "0" * 24}, "predecessor"),
        ],
    )
    def test_a_change_that_widens_trust_is_refused(
        self, alice: KeyRecord, change: dict[str, object], said: str
    ) -> None:
        """Reopening, backdating or re-owning a key is refused with the key named."""
        current = replace(alice, not_after_ns=5_000)
        with pytest.raises(KeyUpdateRefusedError, match=said) as caught:
            merged(current, replace(current, **change))  # type: ignore[arg-type]
        assert alice.key_id in str(caught.value)

    def test_a_revocation_is_final(self, alice: KeyRecord) -> None:
        """The record without its revocation is refused; a later revocation keeps the earlier time."""
        gone = replace(alice, revoked_ns=3_000, revocation_reason="stolen")
        with pytest.raises(KeyUpdateRefusedError, match="revocation is final"):
            merged(gone, alice)
        again = merged(gone, replace(alice, revoked_ns=9_000, revocation_reason="other"))
        assert (again.revoked_ns, again.revocation_reason) == (3_000, "stolen")


class TestMergeAll:
    def test_nothing_applies_when_one_update_is_refused(self, alice: KeyRecord) -> None:
        """The whole update is checked before the caller applies any of it."""
        directory = KeyDirectory([replace(alice, revoked_ns=1, revocation_reason="x")])
        bob = generate_key("bob", KeyPurpose.ORDER_SIGNING, 0)[0]
        with pytest.raises(KeyUpdateRefusedError):
            merge_all(directory, [bob, alice])
        assert directory.get(bob.key_id) is None

    def test_updates_of_one_key_in_one_message_are_merged_in_order(self, alice: KeyRecord) -> None:
        """A close and then a revocation of one key both hold."""
        closed = replace(alice, not_after_ns=5_000)
        gone = replace(closed, revoked_ns=4_000, revocation_reason="stolen")
        (result,) = merge_all(KeyDirectory([alice]), [closed, gone])
        assert (result.not_after_ns, result.revoked_ns) == (5_000, 4_000)


class TestRevokedForGood:
    def test_a_revocation_holds_from_the_start_of_time_and_others_are_untouched(
        self, alice: KeyRecord
    ) -> None:
        """Only revoked records change, and only their revocation time."""
        bob = generate_key("bob", KeyPurpose.ORDER_SIGNING, 0)[0]
        gone = replace(alice, revoked_ns=3_000, revocation_reason="stolen")
        assert revoked_for_good([gone, bob]) == [replace(gone, revoked_ns=REVOKED_FOR_GOOD), bob]


class TestKeysApplied:
    def test_a_refusal_is_raised_with_the_connectors_reason(self) -> None:
        """The connector's own words reach the caller."""
        with pytest.raises(KeyUpdateRefusedError, match="refused the key update: no"):
            KeysApplied.from_meta({"applied": [], "ignored": [], "refused": "no"})

    def test_an_answer_without_lists_is_garbage(self) -> None:
        """Missing lists are a TypeError, not a silent empty answer."""
        with pytest.raises(TypeError, match="KEYS_APPLIED carries"):
            KeysApplied.from_meta({"refused": None})
