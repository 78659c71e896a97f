"""Are all strings of a column distinct? Fast for the common cases without hashing in Arrow.

Arrow's hash kernels take several seconds for ten million ids on a small machine. Ids are usually
written in increasing order, which one vectorized comparison proves; otherwise a 64-bit polynomial
hash is computed over the string bytes with NumPy, sorted, and any equal hashes are compared exactly.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MAX_HASHED_LENGTH: Final = 256


def _strictly_increasing(column: pa.ChunkedArray) -> bool:
    previous: str | None = None
    for chunk in column.chunks:
        if len(chunk) == 0:
            continue
        if len(chunk) > 1 and not pc.all(pc.greater(chunk.slice(1), chunk.slice(0, len(chunk) - 1))).as_py():
            return False
        first, last = chunk[0].as_py(), chunk[len(chunk) - 1].as_py()
        if previous is not None and not first > previous:
            return False
        previous = last
    return True


def _hashes(chunk: pa.Array) -> np.ndarray | None:
    """A 64-bit hash of each string of a null-free string chunk, or None if strings are very long."""
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
    data_buffer = chunk.buffers()[2]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(1, np.uint8)
    starts = offsets[:-1].astype(np.int64)
    lengths = (offsets[1:] - offsets[:-1]).astype(np.int64)
    longest = int(lengths.max(initial=0))
    if longest > _MAX_HASHED_LENGTH:
        return None
    if len(lengths) and int(lengths.min()) == longest and longest > 0:
        return _fixed_width_hashes(data[int(starts[0]) : int(starts[0]) + len(lengths) * longest], longest)
    result = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    multiplier = np.uint64(1099511628211)
    last = max(len(data) - 1, 0)
    for position in range(longest):
        byte = data[np.minimum(starts + position, last)].astype(np.uint64)
        byte[lengths <= position] = 0
        result = result * multiplier + byte + np.uint64(1)
    return result


def _fixed_width_hashes(data: np.ndarray, width: int) -> np.ndarray:
    """Hash equal-length strings (the usual id shape) eight bytes at a time, without gathers."""
    words = -(-width // 8)
    padded = np.zeros((len(data) // width, words * 8), dtype=np.uint8)
    padded[:, :width] = data.reshape(-1, width)
    lanes = padded.view("<u8")
    result = np.full(len(padded), np.uint64(width), dtype=np.uint64)
    for lane in range(words):
        result = (result ^ lanes[:, lane]) * np.uint64(0x9E3779B97F4A7C15)
        result ^= result >> np.uint64(29)
    return result


def all_distinct(column: pa.ChunkedArray) -> bool:
    """True if no non-null value occurs twice."""
    if column.null_count:
        column = pc.drop_null(column)
    if len(column) < 2 or _strictly_increasing(column):
        return True
    parts = []
    for chunk in column.chunks:
        hashed = _hashes(chunk.cast(pa.string()))
        if hashed is None:
            return bool(pc.count_distinct(column).as_py() == len(column))
        parts.append(hashed)
    hashes = np.concatenate(parts)
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    same = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(same) == 0:
        return True
    # Equal hashes: compare the strings themselves (a true duplicate or a rare collision).
    rows = np.unique(np.concatenate([order[same], order[same + 1]]))
    values = column.take(pa.array(rows)).to_pylist()
    return len(set(values)) == len(values)
