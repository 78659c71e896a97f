"""The connector wire protocol (v1): length-prefixed frames between the API process and the connector.

The two ends are different trust domains, so the codec is plain data (struct + JSON), never
pickle. A frame is::

    u32 length of the rest | u8 version (1) | u8 kind | u16 blob count | u32 request id
    | u32 meta length | meta (UTF-8 JSON object) | per blob: u32 length | bytes

all big-endian. ``meta`` carries the small fields; blobs carry opaque bytes (envelopes, drop
copies) without re-encoding. Anything else (a wrong version, an unknown kind, a frame over
``MAX_FRAME`` bytes, a short read, meta that is not a JSON object) is a ``WireError``: the reader
drops the connection rather than guess. docs/execution.md ("Connector process") lists the kinds.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from dataclasses import dataclass, field
from enum import IntEnum
from typing import BinaryIO, Final

VERSION: Final = 1
MAX_FRAME: Final = 64 * 1024 * 1024
_LENGTH = struct.Struct("!I")
_HEAD = struct.Struct("!BBHII")  # version, kind, blob count, request id, meta length


class WireError(Exception):
    """A frame that does not follow the protocol, or a connection that ended mid-frame."""


class Kind(IntEnum):
    HELLO = 1  # connector -> parent: its key record (public)
    SETUP = 2  # parent -> connector: public key records, drop copy recipient, options
    READY = 3  # connector -> parent: set up
    JUDGE = 4  # parent -> connector: envelopes (blobs) and their times
    VERDICTS = 5  # connector -> parent: one audit entry per envelope
    COMMIT = 6  # parent -> connector: the audit indexes of those entries (durable)
    RESULTS = 7  # connector -> parent: one result per envelope; drop copies as blobs
    ABORT = 8  # parent -> connector: the verdicts were not logged; send nothing
    ERROR = 9  # connector -> parent: a request it could not serve
    KEYS = 10  # parent -> connector: new, rotated or revoked public key records (custody's changes)
    KEYS_APPLIED = 11  # connector -> parent: which it applied, or why it refused them all
    SIGN = 12  # parent -> desk signer: canonical order intents (blobs) to sign
    SIGNED = 13  # desk signer -> parent: per intent its key and signature group, or its refusal


@dataclass(frozen=True, slots=True)
class Frame:
    kind: Kind
    request_id: int
    meta: dict[str, object]
    blobs: tuple[bytes, ...] = field(default=())


def expect(frame: Frame | None, kind: Kind) -> Frame:
    """``frame`` if it is of ``kind``; a ``WireError`` saying what came instead."""
    if frame is None or frame.kind is not kind:
        raise WireError(f"expected {kind.name}, got {frame.kind.name if frame else 'the end of the stream'}")
    return frame


def encode(frame: Frame) -> bytes:
    """The bytes of ``frame`` on the wire, length prefix included."""
    meta = json.dumps(frame.meta, separators=(",", ":")).encode()
    parts = [_HEAD.pack(VERSION, frame.kind, len(frame.blobs), frame.request_id, len(meta)), meta]
    for blob in frame.blobs:
        parts += (_LENGTH.pack(len(blob)), blob)
    body = b"".join(parts)
    if len(body) > MAX_FRAME:
        raise WireError(f"frame of {len(body)} bytes is over the {MAX_FRAME}-byte limit")
    return _LENGTH.pack(len(body)) + body


def decode(body: bytes) -> Frame:
    """A frame from its bytes after the length prefix."""
    if len(body) < _HEAD.size:
        raise WireError(f"frame of {len(body)} bytes is shorter than its {_HEAD.size}-byte header")
    version, kind, count, request_id, meta_length = _HEAD.unpack_from(body)
    if version != VERSION:
        raise WireError(f"protocol version {version}, expected {VERSION}")
    try:
        frame_kind = Kind(kind)
    except ValueError:
        raise WireError(f"unknown frame kind {kind}") from None
    offset = _HEAD.size + meta_length
    if offset > len(body):
        raise WireError("frame meta runs past the end of the frame")
    try:
        meta = json.loads(body[_HEAD.size : offset])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"frame meta is not JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise WireError("frame meta is not a JSON object")
    blobs = []
    for _ in range(count):
        if offset + _LENGTH.size > len(body):
            raise WireError("frame blob length runs past the end of the frame")
        (length,) = _LENGTH.unpack_from(body, offset)
        offset += _LENGTH.size
        if offset + length > len(body):
            raise WireError("frame blob runs past the end of the frame")
        blobs.append(body[offset : offset + length])
        offset += length
    if offset != len(body):
        raise WireError(f"{len(body) - offset} stray bytes after the frame's blobs")
    return Frame(frame_kind, request_id, meta, tuple(blobs))


class Channel:
    """Frames over one connected stream socket: ``send`` from any thread, ``receive`` from one."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._reader: BinaryIO = sock.makefile("rb")
        self._send_lock = threading.Lock()

    def send(self, frame: Frame) -> None:
        data = encode(frame)
        with self._send_lock:
            self.sock.sendall(data)

    def receive(self) -> Frame | None:
        """The next frame, or None when the peer closed the connection between frames."""
        prefix = self._reader.read(_LENGTH.size)
        if not prefix:
            return None
        if len(prefix) < _LENGTH.size:
            raise WireError("connection ended inside a frame's length prefix")
        (length,) = _LENGTH.unpack(prefix)
        if length > MAX_FRAME:
            raise WireError(f"frame of {length} bytes announced; the limit is {MAX_FRAME}")
        body = self._reader.read(length)
        if len(body) < length:
            raise WireError(f"connection ended inside a frame ({len(body)} of {length} bytes)")
        return decode(body)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # already shut by the peer
            self.sock.shutdown(socket.SHUT_RDWR)
        self._reader.close()
        self.sock.close()
