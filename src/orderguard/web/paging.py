"""Page links for long lists in the UI: which slice is shown, and the links to the others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Pages:
    """Where a list of ``total`` items stands when shown ``per_page`` at a time, on page ``number``
    (1 is the first); ``query`` holds the filters every link keeps, empty ones too (an empty
    filter may differ from its default: ``status=`` is every status, no ``status`` is open ones)."""

    path: str
    query: tuple[tuple[str, str], ...]
    total: int
    number: int
    per_page: int

    @classmethod
    def of(cls, path: str, filters: dict[str, str], total: int, number: int, per_page: int) -> Pages:
        return cls(path, tuple(filters.items()), total, number, per_page)

    def slice(self, items: Sequence[T]) -> Sequence[T]:
        """The items of this page (for a list already in memory)."""
        return items[self.offset : self.number * self.per_page]

    @property
    def offset(self) -> int:
        """How many items come before this page (a store reads the page with OFFSET/LIMIT)."""
        return (self.number - 1) * self.per_page

    @property
    def count(self) -> int:
        """How many pages there are (one, even for an empty list)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def first_shown(self) -> int:
        return min(self.total, (self.number - 1) * self.per_page + 1)

    @property
    def last_shown(self) -> int:
        return min(self.total, self.number * self.per_page)

    def link(self, number: int) -> str:
        query = urlencode([*self.query, *([("page", str(number))] if number > 1 else [])])
        return f"{self.path}?{query}" if query else self.path

    @property
    def previous(self) -> str | None:
        return self.link(self.number - 1) if self.number > 1 else None

    @property
    def next(self) -> str | None:
        return self.link(self.number + 1) if self.number < self.count else None
