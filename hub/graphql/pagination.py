"""Relay connections with keyset cursors (no OFFSET scans)."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import Select

from hub.graphql.context import BadInput

MAX_FIRST = 500
DEFAULT_FIRST = 50
# Keyset positions are row ids: at most 18 digits, so every one fits a 64-bit integer
# column (a 20-digit position overflowed the database driver: a 500). `int()` alone
# would also take "+1", " 1" and "1_000".
_INT_POSITION = re.compile(r"[0-9]{1,18}")
# Text positions are keys (enterprise codes): printable, and short.
_TEXT_POSITION = re.compile(r"[^\x00-\x1f\x7f]{1,200}")

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type(
    description="Where a page sits. Only the side a page was fetched towards is measured: "
    "paging forward (first/after) hasNextPage says whether more edges follow and "
    "hasPreviousPage is false; paging backward (last/before) hasPreviousPage says whether "
    "more edges precede and hasNextPage is false (as the Relay cursor specification allows)."
)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


@dataclass(frozen=True)
class Window:
    """Which page of a keyset a caller asked for: `size` edges after `after` and before
    `before`, the first ones (forward) or the last ones (backward)."""

    size: int
    backward: bool = False
    after: Any = None
    before: Any = None

    def keyset(self, query: Select[Any], column: Any) -> Select[Any]:
        """`query` narrowed to the window's range, ordered towards the page's far end,
        with one row beyond the page (it tells whether there are more)."""
        if self.after is not None:
            query = query.where(column > self.after)
        if self.before is not None:
            query = query.where(column < self.before)
        order = column.desc() if self.backward else column.asc()
        return query.order_by(order).limit(self.size + 1)


def encode_cursor(kind: str, position: int | str) -> str:
    """An opaque cursor for a keyset position."""
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode().rstrip("=")


def _decode(kind: str, cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError as exc:  # not base64 (or not ASCII), or not UTF-8 inside
        raise BadInput(f"the cursor {cursor!r} is not valid here") from exc
    prefix, _, position = text.partition(":")
    if prefix != kind:
        raise BadInput(f"the cursor {cursor!r} is not valid here")
    return position


def decode_cursor(kind: str, cursor: str | None) -> int | None:
    """The keyset position in a cursor; BAD_USER_INPUT when it is not one of ours."""
    if cursor is None:
        return None
    position = _decode(kind, cursor)
    if _INT_POSITION.fullmatch(position) is None:
        raise BadInput(f"the cursor {cursor!r} is not valid here")
    return int(position)


def decode_text_cursor(kind: str, cursor: str | None) -> str | None:
    """The keyset position of a cursor over text keys (e.g. enterprise codes)."""
    if cursor is None:
        return None
    position = _decode(kind, cursor)
    if _TEXT_POSITION.fullmatch(position) is None:
        raise BadInput(f"the cursor {cursor!r} is not valid here")
    return position


def page_size(first: int | None, name: str = "first") -> int:
    """`first` (or `last`), defaulted and capped; BAD_USER_INPUT when out of range."""
    if first is None:
        return DEFAULT_FIRST
    if first < 0 or first > MAX_FIRST:
        raise BadInput(f"{name} must be between 0 and {MAX_FIRST}")
    return first


def window(
    kind: str,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    text: bool = False,
) -> Window:
    """The window the Relay arguments ask for; BAD_USER_INPUT for a bad cursor or size.

    `first` and `last` together are refused: the Relay specification discourages them
    and a page that is both the first n and the last m of a range means nothing useful."""
    if first is not None and last is not None:
        raise BadInput("give either first (paging forward) or last (paging backward), not both")
    decode = decode_text_cursor if text else decode_cursor
    return Window(
        size=page_size(last, "last") if last is not None else page_size(first),
        backward=last is not None,
        after=decode(kind, after),
        before=decode(kind, before),
    )


def connection(
    nodes: list[T],
    positions: Sequence[int | str],
    kind: str,
    size: int | Window,
    *,
    has_more: bool | None = None,
) -> Connection[T]:
    """Builds a connection from up to size+1 nodes fetched towards the window's far end
    (the extra one means more); callers that drop rows after fetching pass `has_more`
    from the rows they fetched. A backward window's nodes come last first: they are put
    back in the keyset's order here."""
    span = size if isinstance(size, Window) else Window(size=size)
    if has_more is None:
        has_more = len(nodes) > span.size
    nodes, positions = nodes[: span.size], positions[: span.size]
    if span.backward:
        nodes, positions = nodes[::-1], positions[::-1]
    edges = [
        Edge(cursor=encode_cursor(kind, p), node=n) for n, p in zip(nodes, positions, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_more and not span.backward,
            has_previous_page=has_more and span.backward,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


async def visible_page(
    rows: Sequence[R],
    size: int | Window,
    kind: str,
    *,
    node_of: Callable[[R], Awaitable[T | None]],
    position_of: Callable[[R], int | str],
) -> Connection[T]:
    """A page from up to size+1 fetched rows, dropping those the caller may not see.

    The nodes are built concurrently so their DataLoader calls batch into one statement."""
    span = size if isinstance(size, Window) else Window(size=size)
    page = rows[: span.size]
    nodes = await asyncio.gather(*(node_of(r) for r in page))
    visible = [(n, position_of(r)) for n, r in zip(nodes, page, strict=True) if n is not None]
    return connection(
        [n for n, _ in visible],
        [p for _, p in visible],
        kind,
        span,
        has_more=len(rows) > span.size,
    )
