"""Session sealing: one HPKE operation per short session, AES-256-GCM per sealed message.

An HPKE single-shot seal costs an X25519 key generation and agreement (~76 µs) and an open
another agreement (~45 µs); AES-256-GCM costs about a microsecond. A ``SessionSealer`` draws a
fresh random 256-bit session key, wraps it once to the recipient's X25519 key with HPKE (the
same suite as single-shot envelopes; the ``info`` names the recipient key id), and seals each
message with AES-256-GCM under that key with a counter nonce. Every message carries the wrapped
key, so each stays self-contained; the recipient unwraps a session once and keeps the unwrapped
key (bounded, ``SessionOpener``). Only the holder of the recipient's private key can unwrap it.

Why it is as safe as a single-shot seal: base-mode HPKE never authenticated the sender (the
Ed25519 signature and the controls attestation do that), the session key is random and never
leaves the sealing process, and (key, nonce) pairs never repeat (a counter per fresh key). What
changes is the exposure window of a memory compromise of the sealing process: it reveals the
envelopes of the current session (at most ``max_messages`` or ``max_age_s`` worth), where a
single-shot seal's ephemeral key revealed one. The sealing process holds the order in clear
anyway. Sessions rotate at those bounds.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from orderguard.execution._lru import VerifiedCache

SUITE: Final = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
SESSION_KEY_BYTES: Final = 32
MAX_SESSION_MESSAGES: Final = 4096
MAX_SESSION_AGE_S: Final = 1.0
_NONCE: Final = struct.Struct(">4xQ")  # 96-bit GCM nonce: four zero bytes, then the message counter


class SessionError(ValueError):
    """A wrapped session key that does not open with this recipient's key."""


def nonce_for(sequence: int) -> bytes:
    """The AES-GCM nonce of message ``sequence`` in its session."""
    return _NONCE.pack(sequence)


def wrap_info(prefix: bytes, recipient_key_id: str) -> bytes:
    return prefix + recipient_key_id.encode("utf-8")


class SessionSealer:
    """Hands out (wrapped session key, sequence number, cipher) for each message; thread-safe."""

    def __init__(
        self,
        recipient_key_id: str,
        recipient: X25519PublicKey,
        info_prefix: bytes,
        *,
        max_messages: int = MAX_SESSION_MESSAGES,
        max_age_s: float = MAX_SESSION_AGE_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < max_messages <= 1 << 32:
            raise ValueError(f"a session seals 1..{1 << 32} messages, got {max_messages}")
        self.recipient_key_id = recipient_key_id
        self._recipient = recipient
        self._info = wrap_info(info_prefix, recipient_key_id)
        self._max_messages = max_messages
        self._max_age_s = max_age_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._wrapped = b""
        self._cipher: AESGCM | None = None
        self._used = max_messages  # forces a fresh session on first use
        self._started = 0.0
        self.sessions = 0

    def next(self) -> tuple[bytes, int, AESGCM]:
        """The current session's wrapped key, this message's sequence number and the session cipher."""
        with self._lock:
            now = self._monotonic()
            if self._used >= self._max_messages or now - self._started >= self._max_age_s:
                key = os.urandom(SESSION_KEY_BYTES)
                self._wrapped = SUITE.encrypt(key, self._recipient, info=self._info)
                self._cipher = AESGCM(key)
                self._used, self._started = 0, now
                self.sessions += 1
            sequence = self._used
            self._used += 1
            assert self._cipher is not None
            return self._wrapped, sequence, self._cipher


class SessionOpener:
    """Unwraps session keys sealed to one of ``private_keys``; unwrapped keys are kept (bounded)."""

    def __init__(
        self, private_keys: Mapping[str, X25519PrivateKey], info_prefix: bytes, cache_size: int = 256
    ) -> None:
        self._private_keys = dict(private_keys)
        self._info_prefix = info_prefix
        # Keyed by the wrapped key alone (no per-message concatenation); a hit needs the key id too.
        self._opened: VerifiedCache[tuple[str, AESGCM]] = VerifiedCache(cache_size)

    def cipher(self, recipient_key_id: str, wrapped: bytes) -> AESGCM:
        """The session cipher for ``wrapped``; a SessionError if it does not open with that key."""
        opened = self._opened.get(wrapped)
        if opened is not None and opened[0] == recipient_key_id:
            return opened[1]
        private_key = self._private_keys.get(recipient_key_id)
        if private_key is None:
            raise SessionError(f"no private key {recipient_key_id} to open the session with")
        try:
            key = SUITE.decrypt(wrapped, private_key, info=wrap_info(self._info_prefix, recipient_key_id))
        except (InvalidTag, ValueError) as exc:  # InvalidTag: altered, or wrapped to another key
            raise SessionError(
                f"session key does not open with key {recipient_key_id} ({type(exc).__name__})"
            ) from None
        if len(key) != SESSION_KEY_BYTES:
            raise SessionError(f"session key is {len(key)} bytes, not {SESSION_KEY_BYTES}")
        cipher = AESGCM(key)
        self._opened.put(wrapped, (recipient_key_id, cipher))
        return cipher


def open_message(cipher: AESGCM, sequence: int, ciphertext: bytes, aad: bytes) -> bytes:
    """Decrypt one session message; a SessionError if any byte of it or of ``aad`` changed."""
    try:
        return cipher.decrypt(nonce_for(sequence), ciphertext, aad)
    except InvalidTag:
        raise SessionError("sealed message does not open under its session key (InvalidTag)") from None
