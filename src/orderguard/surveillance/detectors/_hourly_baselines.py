"""query_volume's baselines over a whole day, for the batch engine: per (actor, hour), own or peers'.

The same numbers the stream keeps as it goes (query_volume's habit and peer
records): the median of the actor's hourly totals over earlier active hours
within ``history_buckets`` hours, else the median of their peer group's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from orderguard.surveillance.columns import F64, I64, dense_unique
from orderguard.surveillance.context import median


def hourly_baselines(
    names: list[str],
    actor: I64,
    bucket: I64,
    records: I64,
    *,
    history_buckets: int,
    peer_group: Callable[[str], str],
    threshold: Callable[[float | None], float],
) -> tuple[F64, I64, list[tuple[float | None, bool]]]:
    """Per view: threshold and (actor, hour) key; per key: (baseline, own) as the stream has them."""
    span = int(bucket.max() - bucket.min()) + 1 if len(bucket) else 1
    key = actor * span + (bucket - (bucket.min() if len(bucket) else 0))
    keys, inverse = dense_unique(key)
    totals = np.bincount(inverse.reshape(-1), weights=records, minlength=len(keys)).astype(np.float64)
    k_actor, k_bucket = keys // span, keys % span
    baselines: list[float | None] = [None] * len(keys)
    start = 0
    for i in range(len(keys)):
        if i and k_actor[i] != k_actor[i - 1]:
            start = i
        lo = start
        while lo < i and k_bucket[lo] < k_bucket[i] - history_buckets:
            lo += 1
        start = lo
        if lo < i:
            baselines[i] = median([int(t) for t in totals[lo:i]])
    group_codes: dict[str, int] = {}
    k_group = np.array(
        [group_codes.setdefault(peer_group(names[a]), len(group_codes)) for a in k_actor.tolist()],
        dtype=np.int64,
    )
    peers = peer_medians(k_group, k_bucket, totals, history_buckets)
    chosen = [
        (b, True) if b is not None else (peers[(int(k_group[i]), int(k_bucket[i]))], False)
        for i, b in enumerate(baselines)
    ]
    limits = np.array([threshold(b) for b, _ in chosen], dtype=np.float64)
    inv = inverse.reshape(-1).astype(np.int64)
    return limits[inv], inv, chosen


def peer_medians(
    k_group: I64, k_bucket: I64, totals: F64, history_buckets: int
) -> dict[tuple[int, int], float | None]:
    """Per (peer group, bucket): the median of the group's totals in earlier buckets of the span."""
    result: dict[tuple[int, int], float | None] = {}
    for group in np.unique(k_group).tolist():
        mine = k_group == group
        order = np.argsort(k_bucket[mine], kind="stable")
        buckets, values = k_bucket[mine][order], totals[mine][order]
        for b in np.unique(buckets).tolist():
            lo = int(np.searchsorted(buckets, b - history_buckets, side="left"))
            hi = int(np.searchsorted(buckets, b, side="left"))
            result[(group, b)] = median([int(t) for t in values[lo:hi]]) if hi > lo else None
    return result
