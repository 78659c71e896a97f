"""Reading Arrow arrays' buffers straight into NumPy: dictionary codes without Arrow's copies."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

I32 = npt.NDArray[np.int32]


def raw_indices(indices: pa.Array) -> npt.NDArray[np.integer]:
    """The index values as a read-only NumPy view of the Arrow buffer (undefined where null)."""
    width = np.dtype(indices.type.to_pandas_dtype())
    values = indices.buffers()[1]
    return np.frombuffer(values, dtype=width, count=len(indices), offset=indices.offset * width.itemsize)


def validity(indices: pa.Array) -> npt.NDArray[np.uint8]:
    """The validity bitmap unpacked: 1 where a row has a value."""
    bitmap = np.frombuffer(indices.buffers()[0], dtype=np.uint8)
    return np.unpackbits(bitmap, count=indices.offset + len(indices), bitorder="little")[indices.offset :]


def codes_of(indices: pa.Array) -> I32:
    """Dictionary indices as int32 codes, -1 for null.

    Read straight from the Arrow buffers: int32 indices without nulls are the codes
    themselves (a read-only view, no copy); otherwise one copy, the validity bitmap
    unpacked and applied in place (Arrow's is_valid/fill_null would copy twice more).
    """
    n = len(indices)
    if indices.buffers()[1] is None or not n:
        return np.full(n, -1, dtype=np.int32)
    raw = raw_indices(indices)
    if not indices.null_count and raw.dtype == np.int32:
        return raw.view(np.int32)
    codes = raw.astype(np.int32)  # a dictionary never holds 2**31 values
    if indices.null_count:
        codes[validity(indices) == 0] = -1
    return codes


def mapped_codes(indices: pa.Array, lookup: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    """lookup[index] per row, -1 where null: one gather from the raw indices, no int32 copy."""
    n = len(indices)
    if indices.buffers()[1] is None or not n or not len(lookup):
        return np.full(n, -1, dtype=np.int8)
    result = np.take(lookup, raw_indices(indices), mode="clip")  # clip: a null's index is undefined
    if indices.null_count:
        result[validity(indices) == 0] = -1
    return np.asarray(result, dtype=np.int8)
