"""A strict length-prefixed binary codec for the envelope, attestation and sealed records.

Every field is either a big-endian u64 or a u32 length followed by that many
bytes. The reader refuses truncation, lengths beyond the buffer and trailing
bytes, so one byte string decodes to at most one value and any change to a
length or a field either fails to parse or changes a field that is later
authenticated.
"""

from __future__ import annotations

import struct
from typing import Final

_U32: Final = struct.Struct(">I")
_U64: Final = struct.Struct(">Q")
_pack_u32: Final = _U32.pack
_pack_u64: Final = _U64.pack
u64: Final = _pack_u64  # a big-endian u64 as bytes, as Writer().u64 writes it (no Python frame per call)
MAX_FIELD: Final = 1 << 20  # no field of ours is near a megabyte; a bigger length is corruption


class CodecError(ValueError):
    """Bytes that are not a well-formed record of the expected layout."""


class Writer:
    """Appends fields; ``getvalue`` returns the encoding."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def raw(self, data: bytes) -> Writer:
        self._parts.append(data)
        return self

    def u64(self, value: int) -> Writer:
        self._parts.append(_pack_u64(value))
        return self

    def blob(self, data: bytes) -> Writer:
        size = len(data)
        if size > MAX_FIELD:
            raise CodecError(f"field of {size} bytes exceeds the {MAX_FIELD}-byte limit")
        self._parts += (_pack_u32(size), data)
        return self

    def text(self, value: str) -> Writer:
        return self.blob(value.encode("utf-8"))

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


def blobs(*fields: bytes) -> bytes:
    """What ``Writer().blob(f)`` for each of ``fields`` gives, in one join."""
    parts: list[bytes] = []
    for data in fields:
        size = len(data)
        if size > MAX_FIELD:
            raise CodecError(f"field of {size} bytes exceeds the {MAX_FIELD}-byte limit")
        parts += (_pack_u32(size), data)
    return b"".join(parts)


class Reader:
    """Reads fields in order; every read checks bounds; ``finish`` refuses leftovers."""

    __slots__ = ("_data", "_pos", "_what")

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._pos = 0
        self._what = what

    @property
    def position(self) -> int:
        return self._pos

    def raw(self, size: int) -> bytes:
        end = self._pos + size
        if end > len(self._data):
            raise CodecError(f"{self._what}: truncated at byte {self._pos} (needed {size} more bytes)")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def u64(self) -> int:
        if self._pos + 8 > len(self._data):
            raise CodecError(f"{self._what}: truncated at byte {self._pos} (needed 8 more bytes)")
        value: int = _U64.unpack_from(self._data, self._pos)[0]
        self._pos += 8
        return value

    def blob(self) -> bytes:
        data, pos = self._data, self._pos  # one call per field: this runs for every field of every order
        if pos + 4 > len(data):
            raise CodecError(f"{self._what}: truncated at byte {pos} (needed 4 more bytes)")
        size: int = _U32.unpack_from(data, pos)[0]
        if size > MAX_FIELD:
            raise CodecError(f"{self._what}: field length {size} at byte {pos} is implausible")
        start, end = pos + 4, pos + 4 + size
        if end > len(data):
            raise CodecError(f"{self._what}: truncated at byte {start} (needed {size} more bytes)")
        self._pos = end
        return data[start:end]

    def text(self) -> str:
        at = self._pos
        try:
            return self.blob().decode("utf-8")
        except UnicodeDecodeError:
            raise CodecError(f"{self._what}: text field at byte {at} is not UTF-8") from None

    def finish(self) -> None:
        if self._pos != len(self._data):
            raise CodecError(f"{self._what}: {len(self._data) - self._pos} unexpected trailing bytes")
