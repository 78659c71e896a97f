"""Key updates after start: how a rotation, revocation or new key changes a directory, and what it may not.

The API process passes custody's changes on to the connector process (wire kind KEYS). The
connector applies them only where they narrow trust: a validity window may only close
(``not_before_ns`` later, ``not_after_ns`` earlier), and a revocation is final: no update
un-revokes a key, reopens its window, or changes its owner, purpose or predecessor. An update
that tries is refused whole (nothing of it applies), so a compromised or buggy API process cannot
talk a connector back into trusting a revoked key.
A new key is taken only from the custodian's key directory (``--key-directory``), never from the
parent alone: otherwise an intruder in the API process could add a signing key of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from orderguard.execution.keys import KeyDirectory, KeyRecord

REVOKED_FOR_GOOD: Final = 0  # a revocation the connector learned: in force at any time the parent names


class KeyUpdateRefusedError(ValueError):
    """An update that would widen trust in a key (un-revoke it, reopen its window, re-own it)."""


def merged(current: KeyRecord | None, update: KeyRecord) -> KeyRecord:
    """``current`` after ``update``; ``KeyUpdateRefusedError`` if the update would widen trust in it."""
    if current is None:
        return update
    key = f"key {current.key_id} of {current.owner}"
    if (update.owner, update.purpose, update.replaces) != (current.owner, current.purpose, current.replaces):
        raise KeyUpdateRefusedError(
            f"{key}: an update may not change its owner, purpose or predecessor "
            f"(to {update.owner}, {update.purpose.value}, {update.replaces})"
        )
    if current.revoked_ns is not None:
        if update.revoked_ns is None:
            raise KeyUpdateRefusedError(f"{key} is revoked; a revocation is final and cannot be undone")
        update = replace(
            update,
            revoked_ns=min(current.revoked_ns, update.revoked_ns),
            revocation_reason=current.revocation_reason,
        )
    if update.not_before_ns < current.not_before_ns:
        raise KeyUpdateRefusedError(f"{key}: its window may only close, not start earlier")
    if current.not_after_ns is not None and (
        update.not_after_ns is None or update.not_after_ns > current.not_after_ns
    ):
        raise KeyUpdateRefusedError(f"{key}: its window closed at {current.not_after_ns}; it may not reopen")
    return update


def merge_all(directory: KeyDirectory, updates: Iterable[KeyRecord]) -> list[KeyRecord]:
    """Every update merged with what ``directory`` holds; raises before anything is applied."""
    result: dict[str, KeyRecord] = {}
    for update in updates:
        result[update.key_id] = merged(result.get(update.key_id) or directory.get(update.key_id), update)
    return list(result.values())


def refuse_new_keys(directory: KeyDirectory, updates: Iterable[KeyRecord]) -> None:
    """``KeyUpdateRefusedError`` if an update names a key ``directory`` does not hold.

    Without the custodian's own directory the connector cannot tell a rotation from an intruder's
    key, so the parent may only narrow trust; a new key needs ``--key-directory`` or a restart.
    """
    new = sorted({u.key_id for u in updates if directory.get(u.key_id) is None})
    if new:
        raise KeyUpdateRefusedError(
            f"new key(s) {', '.join(new)}: a connector without --key-directory takes no new keys "
            "from the parent; register them in the custodian's key directory or restart the connector"
        )


def revoked_for_good(records: Sequence[KeyRecord]) -> list[KeyRecord]:
    """The records with each revocation in force from the start of time (the connector's view).

    The connector judges an order at the time the API process names; a revocation must not be
    dodged by naming a time before it, so once the connector knows of one it holds at any time.
    """
    return [
        r if r.revoked_ns is None else replace(r, revoked_ns=min(r.revoked_ns, REVOKED_FOR_GOOD))
        for r in records
    ]


@dataclass(frozen=True, slots=True)
class KeysApplied:
    """The connector's answer to a key update: the key ids it applied, and those it ignored (with its
    own key directory, keys the custodian's records lack)."""

    applied: tuple[str, ...]
    ignored: tuple[str, ...]

    @classmethod
    def from_meta(cls, meta: Mapping[str, object]) -> KeysApplied:
        """The answer of a KEYS_APPLIED frame; ``KeyUpdateRefusedError`` if the connector refused it."""
        refused = meta.get("refused")
        if refused is not None:
            raise KeyUpdateRefusedError(f"the connector refused the key update: {refused}")
        applied, ignored = meta.get("applied"), meta.get("ignored")
        if not isinstance(applied, list) or not isinstance(ignored, list):
            raise TypeError(f"KEYS_APPLIED carries {meta!r:.80}")
        return cls(tuple(str(k) for k in applied), tuple(str(k) for k in ignored))
