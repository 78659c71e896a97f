"""The durable audit log: a single sequencer thread, group commit, and a background checkpointer.

Callers on any thread encode their entry (JSON, salt, payload commitment) and
join the open batch; the sequencer takes the whole batch, assigns consecutive
indexes, writes it in one transaction (one sync), and only after the commit
extends the in-memory Merkle tree and wakes the callers. An index is therefore
assigned by the sequencer alone, and ``append`` returns only once durable.
After a failed write the log refuses further appends: the outcome of that
commit is unknown, and reopening rebuilds the tree from what is really stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import threading
import time
from itertools import repeat
from operator import itemgetter
from types import TracebackType
from typing import NoReturn

from sqlalchemy import Engine

from orderguard.audit.checkpoint import Checkpoint
from orderguard.audit.encoding import FORMAT_VERSION, encode_for_log
from orderguard.audit.keys import NoteSigner
from orderguard.audit.log_batch import LogBatch, wake_waiters
from orderguard.audit.merkle import HASH_SIZE, LEAF_PREFIX, MerkleTree
from orderguard.audit.proofs import consistency_proof, inclusion_proof
from orderguard.audit.store import AuditStore, BatchWriter
from orderguard.audit.writer_lock import WriterLock
from orderguard.domain.audit import AuditEntry
from orderguard.storage import make_engine

DEFAULT_ORIGIN = "orderguard.local/audit"

_sha256 = hashlib.sha256
_digest = type(_sha256()).digest
_pack_head = struct.Struct(">BQ").pack  # a leaf's first 9 bytes: format version and index
_second = itemgetter(1)


class AuditLogError(RuntimeError):
    """The log cannot accept or serve entries; the message says why and what to do."""


def _raise_first_gap(rows: list[tuple[int, bytes]], expected: int) -> NoReturn:
    """Name the first missing index or malformed leaf hash in ``rows``, which should start at ``expected``."""
    for offset, (idx, leaf_hash) in enumerate(rows):
        if idx != expected + offset:
            raise AuditLogError(
                f"audit store is damaged: entry {expected + offset} is missing (next stored index {idx}); "
                "run `orderguard audit verify` and restore from backup"
            )
        if len(leaf_hash) != HASH_SIZE:
            raise AuditLogError(
                f"audit store is damaged: entry {idx} has a {len(leaf_hash)}-byte leaf hash; "
                "run `orderguard audit verify` and restore from backup"
            )
    raise AuditLogError(f"audit store is damaged near entry {expected}; run `orderguard audit verify`")


class AuditLog:
    """An ``AuditSink`` backed by the audit tables, with signed checkpoints when given a signer."""

    def __init__(
        self,
        url: str | Engine,
        *,
        signer: NoteSigner | None = None,
        origin: str = DEFAULT_ORIGIN,
        checkpoint_interval: float = 0.1,
    ) -> None:
        self._owns_engine = isinstance(url, str)
        self.engine = make_engine(url) if isinstance(url, str) else url
        self._writer_lock = WriterLock(self.engine)
        self._writer_lock.acquire()  # before the tree is read: nobody else appends while we hold it
        self.store = AuditStore(self.engine)
        self.origin = origin
        self.signer = signer
        self._checkpoint_interval = checkpoint_interval
        try:
            self.tree = self._rebuild_tree()
        except BaseException:
            self._writer_lock.release()
            raise
        self._tree_lock = threading.Lock()
        self._batch_lock = threading.Lock()
        self._open = LogBatch()
        # Held while the open batch is empty: its first caller releases it to wake the sequencer, which
        # takes it again before swapping batches (a bare lock: an Event's Condition costs Python calls).
        self._work = threading.Lock()
        self._work.acquire()
        self._dirty = threading.Event()
        self._closing = False
        self._failure: BaseException | None = None
        self.batches_written = 0
        self.checkpointed_size = -1  # size of the newest checkpoint this process stored
        self.checkpointed_at = 0.0  # time.perf_counter() when it was stored
        self._writer = BatchWriter(self.engine)
        self._sequencer = threading.Thread(target=self._run_sequencer, name="audit-sequencer", daemon=True)
        self._sequencer.start()
        self._checkpointer: threading.Thread | None = None
        if signer is not None:
            self._checkpointer = threading.Thread(
                target=self._run_checkpointer, name="audit-checkpointer", daemon=True
            )
            self._checkpointer.start()

    def _rebuild_tree(self) -> MerkleTree:
        """The tree over the stored leaf hashes, built level by level (one hash per interior node).

        Indexes are unique and come sorted, so a chunk is gap-free exactly when its last index is its
        first plus its length minus one: only a damaged chunk is looked at row by row.
        """
        level0 = bytearray()
        for rows in self.store.leaf_hash_chunks():
            expected = len(level0) // HASH_SIZE
            if rows[0][0] != expected or rows[-1][0] != expected + len(rows) - 1:
                _raise_first_gap(rows, expected)
            hashes = b"".join(map(_second, rows))
            if len(hashes) != HASH_SIZE * len(rows):
                _raise_first_gap(rows, expected)
            level0 += hashes
        return MerkleTree.from_concatenated(level0)

    # --- writing -----------------------------------------------------------------------------------------

    def append(self, entry: AuditEntry) -> int:
        """Record ``entry``; returns its log index once it is committed to the database."""
        batch, position = self._join(encode_for_log([entry]))
        with batch.done:  # each woken caller releases the lock again for the next one
            pass
        return self._first_index(batch, position)

    def append_many(self, entries: list[AuditEntry]) -> list[int]:
        """Record several entries at consecutive indexes, durable together; returns their indexes."""
        if not entries:
            return []
        batch, position = self._join(encode_for_log(entries))
        with batch.done:
            pass
        first = self._first_index(batch, position)
        return list(range(first, first + len(entries)))

    async def append_async(self, entry: AuditEntry) -> int:
        """``append`` for a coroutine: awaits the commit on the event loop instead of blocking a thread."""
        encoded = encode_for_log([entry])
        future = asyncio.get_running_loop().create_future()
        batch, position = self._join(encoded, future)
        await future
        return self._first_index(batch, position)

    async def append_many_async(self, entries: list[AuditEntry]) -> list[int]:
        """``append_many`` for a coroutine: the same batch and commit; the caller awaits its own future,
        which the sequencer settles (one ``call_soon_threadsafe`` per loop and batch) once durable."""
        if not entries:
            return []
        encoded = encode_for_log(entries)
        future = asyncio.get_running_loop().create_future()
        batch, position = self._join(encoded, future)
        await future
        first = self._first_index(batch, position)
        return list(range(first, first + len(entries)))

    def _join(
        self, encoded: list[tuple[bytes, bytes, bytes]], future: asyncio.Future[None] | None = None
    ) -> tuple[LogBatch, int]:
        """Add ``encoded`` (and an awaiting caller's ``future``) to the open batch: (batch, position)."""
        with self._batch_lock:
            if self._closing:
                raise AuditLogError("audit log is closed; open a new AuditLog to append")
            if self._failure is not None:
                raise AuditLogError(f"audit log stopped after a failed write ({self._failure}); reopen it")
            batch = self._open
            position = batch.add(encoded, future)
            if not position:  # the first entry of a batch wakes the sequencer (see ``_work``)
                self._work.release()
        return batch, position

    @staticmethod
    def _first_index(batch: LogBatch, position: int) -> int:
        """The index of the entry at ``position`` of a settled batch, or its write error."""
        if batch.error is not None:
            raise AuditLogError(f"audit entry was not stored: {batch.error}") from batch.error
        return batch.first_index + position

    def _run_sequencer(self) -> None:
        while True:
            self._work.acquire()  # released by a batch's first entry, or by close()
            with self._batch_lock:
                batch, self._open = self._open, LogBatch()
                closing = self._closing
            if batch.items:
                self._write(batch)
            if closing:  # append() refuses once closing is set, so this was the last batch
                self._writer.close()
                return

    def _write(self, batch: LogBatch) -> None:
        # Whole-batch operations (map over C functions): no Python code runs per entry here.
        first = self.tree.size
        tails, salts, payloads = zip(*batch.items, strict=True)
        indexes = range(first, first + len(tails))
        leaves = list(map(bytes.__add__, map(_pack_head, repeat(FORMAT_VERSION), indexes), tails))
        hashes = list(map(_digest, map(_sha256, map(LEAF_PREFIX.__add__, leaves))))
        try:
            self._writer.write(indexes, hashes, leaves, salts, payloads)
        except Exception as exc:  # noqa: BLE001 - every caller of the batch must hear about any failure
            with self._batch_lock:
                self._failure = exc
            batch.error = exc
        else:
            with self._tree_lock:
                self.tree.extend_concatenated(b"".join(hashes))
            batch.first_index = first
            self.batches_written += 1
            if not self._dirty.is_set():  # Event.set runs a Condition's Python code; most batches need not
                self._dirty.set()
        batch.done.release()
        if batch.waiters:
            wake_waiters(batch.waiters)

    # --- reading -----------------------------------------------------------------------------------------

    def head(self) -> tuple[int, bytes]:
        """(size, root) of the durable log as this process knows it."""
        with self._tree_lock:
            return self.tree.size, self.tree.root()

    def root_at(self, size: int) -> bytes:
        """The root of the first ``size`` entries."""
        with self._tree_lock:
            return self.tree.root(size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        with self._tree_lock:
            return inclusion_proof(self.tree, index, self.tree.size if size is None else size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        with self._tree_lock:
            return consistency_proof(self.tree, size1, size2)

    # --- checkpoints -------------------------------------------------------------------------------------

    def checkpoint(self) -> str:
        """Sign and store a checkpoint of the current head now; returns the note text."""
        if self.signer is None:
            raise AuditLogError("no signing key: pass --key FILE or set ORDERGUARD_AUDIT_KEY")
        size, root = self.head()
        note = Checkpoint(self.origin, size, root).sign([self.signer])
        self.store.insert_checkpoint(size, self.signer.name, note)
        self.checkpointed_size, self.checkpointed_at = size, time.perf_counter()
        return note

    def _run_checkpointer(self) -> None:
        # Wakes on the first commit after a checkpoint and signs at once; the interval only bounds the rate.
        last = 0.0
        while not self._closing:
            if not self._dirty.wait(timeout=0.5):
                continue
            pause = last + self._checkpoint_interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self._dirty.clear()
            try:
                self.checkpoint()
            except Exception:  # noqa: BLE001 - a failed checkpoint is retried on the next commit
                self._dirty.set()
            last = time.monotonic()

    # --- lifecycle ---------------------------------------------------------------------------------------

    def close(self) -> None:
        """Finish pending appends, write a last checkpoint (if signing) and release the database."""
        with self._batch_lock:
            if self._closing:
                return
            self._closing = True
            if not self._open.items:  # otherwise its first entry has released ``_work`` already
                self._work.release()
        self._sequencer.join()
        if self._checkpointer is not None:
            self._dirty.set()
            self._checkpointer.join()
            if self._failure is None:
                self.checkpoint()
        self._writer_lock.release()
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
