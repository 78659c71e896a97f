"""Wording shared by the detectors' explanations, so batch and stream say exactly the same."""

from __future__ import annotations


def counted(n: float, noun: str, plural: str | None = None, *, spec: str = ",") -> str:
    """``n`` formatted with ``spec`` and the noun agreeing with it: "1 record", "2 records", "1.5 records"."""
    word = noun if n == 1 else plural or f"{noun}s"
    return f"{n:{spec}} {word}"
