"""The durable log: sequencer-assigned indexes, group commit, restart, and the background checkpointer."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from orderguard.audit.checkpoint import verify_note
from orderguard.audit.encoding import decode_leaf, decode_payload
from orderguard.audit.keys import NoteSigner
from orderguard.audit.log import AuditLog, AuditLogError
from orderguard.audit.merkle import MerkleTree, hash_leaf
from orderguard.audit.proofs import verify_consistency, verify_inclusion
from orderguard.storage.audit_tables import audit_entries
from tests.integration.audit.helpers import keyset, open_log, order_entry, wait_for


class TestAppend:
    def test_indexes_are_consecutive_and_stored(self, db_url: str) -> None:
        """Appends get 0, 1, 2, ... and each stored row holds the encoded entry at that index."""
        with open_log(db_url) as log:
            assert [log.append(order_entry(n)) for n in range(5)] == [0, 1, 2, 3, 4]
            stored = log.store.entry(3)
            assert stored is not None
            idx, leaf_hash, leaf, _salt, payload = stored
            assert idx == 3
            assert hash_leaf(leaf) == leaf_hash
            assert decode_leaf(leaf).header["object_id"] == "ord-3"
            assert payload is not None
            assert decode_payload(payload)["after"]["qty"] == 103

    def test_concurrent_writers_get_distinct_contiguous_indexes(self, db_url: str) -> None:
        """Sixteen threads appending at once receive every index exactly once, matching the stored rows."""
        results: list[list[int]] = [[] for _ in range(16)]
        with open_log(db_url) as log:

            def writer(slot: int) -> None:
                for n in range(40):
                    results[slot].append(log.append(order_entry(slot * 1000 + n, actor=f"t{slot}")))

            threads = [threading.Thread(target=writer, args=(slot,)) for slot in range(16)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            everything = sorted(index for chunk in results for index in chunk)
            assert everything == list(range(640))
            for slot, chunk in enumerate(results):
                for index in chunk:
                    stored = log.store.entry(index)
                    assert stored is not None
                    assert decode_leaf(stored[2]).header["actor"] == f"t{slot}"
            with log.engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(audit_entries)).scalar() == 640

    def test_close_during_appends_keeps_every_acknowledged_entry(self, sqlite_url: str) -> None:
        """Closing while eight threads append keeps each acknowledged entry; later appends are refused."""
        log = open_log(sqlite_url)
        acked: list[list[int]] = [[] for _ in range(8)]
        refused = [False] * 8
        started = threading.Barrier(9)

        def writer(slot: int) -> None:
            started.wait()
            try:
                for n in range(100_000):
                    acked[slot].append(log.append(order_entry(slot * 100_000 + n)))
            except AuditLogError as exc:
                refused[slot] = "closed" in str(exc)

        threads = [threading.Thread(target=writer, args=(slot,)) for slot in range(8)]
        for thread in threads:
            thread.start()
        started.wait()
        assert wait_for(lambda: log.batches_written >= 5)
        log.close()
        for thread in threads:
            thread.join()
        assert all(refused)
        everything = sorted(index for chunk in acked for index in chunk)
        with AuditLog(sqlite_url) as reopened:
            assert everything == list(range(reopened.head()[0]))

    def test_append_many_is_consecutive(self, db_url: str) -> None:
        """A multi-entry append lands at consecutive indexes in one batch."""
        with open_log(db_url) as log:
            log.append(order_entry(0))
            assert log.append_many([order_entry(n) for n in range(1, 6)]) == [1, 2, 3, 4, 5]
            assert log.append_many([]) == []

    def test_restart_rebuilds_the_same_tree(self, db_url: str) -> None:
        """Reopening the log rebuilds the same root from stored leaf hashes and continues the numbering."""
        with open_log(db_url) as log:
            for n in range(37):
                log.append(order_entry(n))
            head = log.head()
        with AuditLog(db_url) as reopened:
            assert reopened.head() == head
            assert reopened.append(order_entry(99)) == 37
            proof = reopened.consistency_proof(37, 38)
            verify_consistency(37, 38, head[1], reopened.head()[1], proof)

    def test_inclusion_proofs_from_the_live_log(self, db_url: str) -> None:
        """The live log's inclusion proofs verify against its root."""
        with open_log(db_url) as log:
            for n in range(21):
                log.append(order_entry(n))
            size, root = log.head()
            for index in range(size):
                verify_inclusion(index, size, log.tree.leaf_hash(index), log.inclusion_proof(index), root)

    def test_closed_log_refuses_appends(self, sqlite_url: str) -> None:
        """After close, append raises instead of silently dropping the entry."""
        log = open_log(sqlite_url)
        log.close()
        with pytest.raises(AuditLogError, match="closed"):
            log.append(order_entry(1))

    def test_failed_write_reaches_the_caller_and_stops_the_log(self, db_url: str) -> None:
        """If the database refuses a batch, the caller gets an error and later appends are refused."""
        open_log(db_url).close()
        log = AuditLog(db_url)
        with log.engine.begin() as conn:  # a row at the next index makes the batch's INSERT fail
            conn.execute(audit_entries.insert().values(idx=0, leaf_hash=b"\0" * 32, leaf=b"x"))
        with pytest.raises(AuditLogError, match="not stored"):
            log.append(order_entry(1))
        with pytest.raises(AuditLogError, match="failed write"):
            log.append(order_entry(2))
        log.close()

    def test_rejects_bad_entry_before_queueing(self, sqlite_url: str) -> None:
        """An entry with an empty actor is refused with the field named; nothing is stored."""
        from dataclasses import replace

        from orderguard.audit.encoding import EncodingError

        with open_log(sqlite_url) as log:
            with pytest.raises(EncodingError, match="'actor'"):
                log.append(replace(order_entry(1), actor=""))
            assert log.head()[0] == 0


class TestCheckpointer:
    def test_background_checkpoint_follows_an_append(self, db_url: str) -> None:
        """After an append, a signed checkpoint of the new size appears without anyone asking."""
        signer = NoteSigner.generate("test-key")
        with open_log(db_url, signer) as log:
            log.append(order_entry(1))
            log.append(order_entry(2))
            assert wait_for(lambda: any(size == 2 for size, _, _ in log.store.checkpoints()))
            note = next(note for size, _, note in log.store.checkpoints() if size == 2)
            checkpoint, name = verify_note(note, keyset(signer))
            assert name == "test-key"
            assert checkpoint.root == MerkleTree([log.tree.leaf_hash(0), log.tree.leaf_hash(1)]).root()

    def test_on_demand_checkpoint_and_close(self, sqlite_url: str) -> None:
        """checkpoint() signs the current head at once, and close() leaves a checkpoint of the final size."""
        signer = NoteSigner.generate("k1")
        log = open_log(sqlite_url, signer)
        log.append(order_entry(1))
        note = log.checkpoint()
        assert verify_note(note, keyset(signer))[0].size == 1
        log.append(order_entry(2))
        log.close()
        assert max(size for size, _, _ in log.store.checkpoints()) == 2

    def test_checkpoint_needs_a_key(self, sqlite_url: str) -> None:
        """Without a signer, asking for a checkpoint says how to provide a key."""
        with open_log(sqlite_url) as log, pytest.raises(AuditLogError, match="ORDERGUARD_AUDIT_KEY"):
            log.checkpoint()
