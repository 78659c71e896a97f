"""Paging of list routes: a page size (``limit``) and an opaque ``cursor`` from the previous page.

Pages are keyset pages: the cursor holds the sort key of the last item shown, and the next page
starts after it. An item added or removed meanwhile neither repeats nor skips another one, which
offsets cannot promise. Bodies stay JSON arrays (the v1 shape clients already read); the next page
is named in the answer's headers: ``Link: <...>; rel="next"`` and ``X-Next-Cursor``. A last page
has neither.

Long lists (alerts, cases) are paged by the store in SQL (``Keyset``: it reads one page and one
more row); short ones are cut out of a full read (``Pager``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Final, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from starlette.datastructures import URL

from orderguard.api.errors import ApiError

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000
CURSOR_MAX: Final = 512
NEXT_HEADER: Final = "X-Next-Cursor"
Key = tuple[str | int, ...]
T = TypeVar("T")

_TEXT: Final = {"type": "string"}
PAGED_HEADERS: Final = {
    "Link": {"description": 'the next page, `<url>; rel="next"`; absent on the last page', "schema": _TEXT},
    NEXT_HEADER: {"description": "the `cursor` of the next page; absent on the last page", "schema": _TEXT},
}


class CursorError(ValueError):
    """A cursor that was not made by this server for this list; the message says what to do."""


def encode_cursor(key: Key) -> str:
    """The opaque text of a sort key (base64url of JSON, no padding)."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, shape: tuple[type, ...]) -> Key:
    """The sort key in ``cursor`` if it has ``shape`` (the types of the list's key), else CursorError."""
    fix = "pass the cursor of the previous answer unchanged, or leave it out for the first page"
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise CursorError(f"cursor: {cursor[:40]!r} is not a cursor of this list; {fix}") from None
    fits = isinstance(values, list) and len(values) == len(shape)
    if not fits or not all(type(v) is t and _storable(v) for v, t in zip(values, shape, strict=True)):
        raise CursorError(f"cursor: {cursor[:40]!r} is not a cursor of this list; {fix}")
    return tuple(values)


def _storable(value: object) -> bool:
    """Whether a key value can be a bound SQL parameter on both backends (a 64-bit integer; text
    without NUL, which PostgreSQL refuses): a hand-made cursor must not turn into a 500."""
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return not isinstance(value, str) or "\x00" not in value


@dataclass(frozen=True, slots=True)
class PageRequest:
    """The ``limit`` and ``cursor`` query parameters of a paged list route, and where to name the
    next page (the request's URL, the answer's headers)."""

    limit: int
    cursor: str | None
    url: URL
    response: Response

    def after(self, shape: tuple[type, ...]) -> Key | None:
        """The key to start after (None: the first page); a bad cursor is a 400 naming it."""
        if self.cursor is None:
            return None
        try:
            return decode_cursor(self.cursor, shape)
        except CursorError as exc:
            raise ApiError(400, "BAD_CURSOR", str(exc)) from None

    def announce(self, next_cursor: str | None) -> None:
        """Name the next page in the answer's headers (nothing on the last page)."""
        if next_cursor is None:
            return
        self.response.headers["Link"] = f'<{self.url.include_query_params(cursor=next_cursor)}>; rel="next"'
        self.response.headers[NEXT_HEADER] = next_cursor

    def keyset(self, key: Callable[[T], Key], shape: tuple[type, ...], scope: str) -> Keyset[T]:
        """A page the store reads itself (keyset in SQL) for the list and filters named by ``scope``."""
        return Keyset(self, key, shape, scope)

    def pager(self, key: Callable[[T], Key], shape: tuple[type, ...]) -> Pager[T]:
        return Pager(self, key, shape)

    def page_of(self, items: Sequence[T], key: Callable[[T], Key], shape: tuple[type, ...]) -> list[T]:
        """The requested page of ``items`` (sorted by ``key``), the next one named in the headers."""
        pager = self.pager(key, shape)
        shown = pager(items)
        self.announce(pager.next_cursor)
        return shown


def page_request(
    request: Request,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=CURSOR_MAX, description="from the previous page's X-Next-Cursor")
    ] = None,
) -> PageRequest:
    return PageRequest(limit, cursor, request.url, response)


Paged = Annotated[PageRequest, Depends(page_request)]


class Pager(Generic[T]):
    """Cuts the requested page out of a list sorted by ``key`` (ascending), remembering the next
    page's cursor; a bad cursor is refused (400) when the pager is made, before any work."""

    def __init__(self, paging: PageRequest, key: Callable[[T], Key], shape: tuple[type, ...]) -> None:
        self.limit = paging.limit
        self.key = key
        self.after = paging.after(shape)
        self.next_cursor: str | None = None

    def __call__(self, items: Sequence[T]) -> list[T]:
        after = self.after
        rest = [item for item in items if after is None or self.key(item) > after]
        shown = rest[: self.limit]
        more = len(rest) > self.limit
        self.next_cursor = encode_cursor(self.key(shown[-1])) if more and shown else None
        return shown


class Keyset(Generic[T]):
    """A keyset page read by the store: it reads up to ``fetch`` items (the page and one more, to
    learn whether another page follows) sorted by ``key``, starting after ``after``; ``page`` cuts
    them to the page and names the next one.

    The cursor carries ``scope`` (the list and a fingerprint of its filters) before the key: a
    cursor of another list or another filter set is refused (400) when the keyset is made, as is
    one that was not made here. A cursor is a position only; every page is access-checked anew.
    """

    def __init__(
        self, paging: PageRequest, key: Callable[[T], Key], shape: tuple[type, ...], scope: str
    ) -> None:
        self.paging = paging
        self.key = key
        self.scope = scope
        self.fetch = paging.limit + 1
        self.after: Key | None = None
        if paging.cursor is not None:
            try:
                found = decode_cursor(paging.cursor, (str, *shape))
            except CursorError as exc:
                raise ApiError(400, "BAD_CURSOR", str(exc)) from None
            if found[0] != scope:
                raise ApiError(
                    400,
                    "BAD_CURSOR",
                    f"cursor: {paging.cursor[:40]!r} belongs to another list or other filters; pass the "
                    "filters the cursor was made with, or leave the cursor out to start from the first page",
                )
            self.after = found[1:]

    def page(self, items: Sequence[T]) -> list[T]:
        """The page out of what the store read, the next one named in the headers."""
        shown = list(items[: self.paging.limit])
        more = len(items) > self.paging.limit
        self.paging.announce(encode_cursor((self.scope, *self.key(shown[-1]))) if more and shown else None)
        return shown
