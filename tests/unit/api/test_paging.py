"""Keyset paging of list routes: opaque cursors, pages that neither repeat nor skip."""

from __future__ import annotations

import pytest
from fastapi import Response
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import URL

from orderguard.api.errors import ApiError
from orderguard.api.paging import NEXT_HEADER, CursorError, Pager, PageRequest, decode_cursor, encode_cursor

SHAPE = (int, str)


def _request(limit: int, cursor: str | None) -> PageRequest:
    return PageRequest(limit, cursor, URL("http://testserver/api/v1/things?limit=2"), Response())


def _key(item: tuple[int, str]) -> tuple[int, str]:
    return item


def _walk(items: list[tuple[int, str]], limit: int) -> list[list[tuple[int, str]]]:
    """Every page of ``items`` as a client following the next cursors sees them."""
    pages, cursor = [], None
    while True:
        pager = Pager(_request(limit, cursor), _key, SHAPE)
        pages.append(pager(items))
        cursor = pager.next_cursor
        if cursor is None:
            return pages


class TestCursor:
    def test_round_trip(self) -> None:
        """A cursor decodes to the key it was made from."""
        assert decode_cursor(encode_cursor((-17, "A-1")), SHAPE) == (-17, "A-1")

    @pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", encode_cursor(("x", "y")), encode_cursor((1,))])
    def test_foreign_cursor_is_refused_with_the_fix(self, cursor: str) -> None:
        """Text that is not base64 JSON of a key of this list's shape is refused, naming the parameter."""
        with pytest.raises(CursorError, match=r"^cursor: .* leave it out for the first page"):
            decode_cursor(cursor, SHAPE)

    def test_boolean_is_not_an_integer(self) -> None:
        """A JSON true where the key holds an integer is refused (bool is not taken for int)."""
        with pytest.raises(CursorError):
            decode_cursor(encode_cursor((True, "a")), SHAPE)

    def test_bad_cursor_is_an_api_400(self) -> None:
        """A pager made with a bad cursor refuses with 400 BAD_CURSOR before any page is cut."""
        with pytest.raises(ApiError) as refused:
            Pager(_request(10, "garbage!"), _key, SHAPE)
        assert (refused.value.status, refused.value.code) == (400, "BAD_CURSOR")


class TestPager:
    def test_last_page_has_no_next_cursor(self) -> None:
        """A list that fits in one page gives no next cursor; one more item gives one."""
        items = [(1, "a"), (2, "b")]
        pager = Pager(_request(2, None), _key, SHAPE)
        assert pager(items) == items
        assert pager.next_cursor is None
        pager = Pager(_request(1, None), _key, SHAPE)
        assert pager(items) == [(1, "a")]
        assert pager.next_cursor is not None

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(st.tuples(st.integers(-5, 5), st.text("abc", max_size=2)), unique=True, max_size=30),
        st.integers(1, 7),
    )
    def test_pages_join_to_the_whole_list(self, raw: list[tuple[int, str]], limit: int) -> None:
        """Following next cursors yields every item once, in order, at most ``limit`` to a page."""
        items = sorted(raw)
        pages = _walk(items, limit)
        assert [item for page in pages for item in page] == items
        assert all(len(page) <= limit for page in pages)

    def test_item_added_before_the_cursor_does_not_shift_the_next_page(self) -> None:
        """An item inserted ahead of the cursor between two requests neither repeats nor hides one."""
        items = [(1, "a"), (3, "c"), (5, "e"), (7, "g")]
        first = Pager(_request(2, None), _key, SHAPE)
        assert first(items) == [(1, "a"), (3, "c")]
        grown = sorted([*items, (0, "z")])
        second = Pager(_request(2, first.next_cursor), _key, SHAPE)
        assert second(grown) == [(5, "e"), (7, "g")]


class TestAnnounce:
    def test_next_page_is_named_in_the_headers(self) -> None:
        """page_of names the next page in Link (same URL, with the cursor) and X-Next-Cursor."""
        paging = _request(2, None)
        assert paging.page_of([(1, "a"), (2, "b"), (3, "c")], _key, SHAPE) == [(1, "a"), (2, "b")]
        cursor = paging.response.headers[NEXT_HEADER]
        assert decode_cursor(cursor, SHAPE) == (2, "b")
        link = paging.response.headers["link"]
        assert link == f'<http://testserver/api/v1/things?limit=2&cursor={cursor}>; rel="next"'

    def test_last_page_names_nothing(self) -> None:
        """The last page's answer has neither header."""
        paging = _request(5, None)
        paging.page_of([(1, "a")], _key, SHAPE)
        assert "link" not in paging.response.headers
        assert NEXT_HEADER.lower() not in paging.response.headers


class TestKeyset:
    def test_store_reads_one_more_and_the_page_is_cut(self) -> None:
        """The store reads limit + 1 rows; the page is the first limit, the next cursor names the last."""
        paging = _request(2, None)
        keyset = paging.keyset(_key, SHAPE, "things:f1")
        assert (keyset.fetch, keyset.after) == (3, None)
        assert keyset.page([(1, "a"), (2, "b"), (3, "c")]) == [(1, "a"), (2, "b")]
        cursor = paging.response.headers[NEXT_HEADER]
        assert decode_cursor(cursor, (str, *SHAPE)) == ("things:f1", 2, "b")
        follow = _request(2, cursor).keyset(_key, SHAPE, "things:f1")
        assert follow.after == (2, "b")

    def test_short_read_is_the_last_page(self) -> None:
        """Fewer rows than limit + 1 means no next page is named."""
        paging = _request(2, None)
        assert paging.keyset(_key, SHAPE, "s").page([(1, "a"), (2, "b")]) == [(1, "a"), (2, "b")]
        assert NEXT_HEADER.lower() not in paging.response.headers

    @pytest.mark.parametrize(
        "cursor",
        [
            encode_cursor(("things:f2", 2, "b")),
            encode_cursor((2, "b")),
            encode_cursor(("things:f1", "2", "b")),
            encode_cursor(("things:f1", 2**63, "b")),
            encode_cursor(("things:f1", 2, "b\x00")),
        ],
    )
    def test_cursor_of_other_scope_or_shape_is_a_400(self, cursor: str) -> None:
        """A cursor of other filters, of the in-memory pager, or with a mistyped key: a 400 on ``cursor``."""
        with pytest.raises(ApiError) as refused:
            _request(2, cursor).keyset(_key, SHAPE, "things:f1")
        assert refused.value.status == 400
        assert refused.value.message.startswith("cursor: ")
