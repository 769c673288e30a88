"""Relay connections with keyset cursors (no OFFSET scans)."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import strawberry

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


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


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


def page_size(first: int | None) -> int:
    """`first`, defaulted and capped; BAD_USER_INPUT when out of range."""
    if first is None:
        return DEFAULT_FIRST
    if first < 0 or first > MAX_FIRST:
        raise BadInput(f"first must be between 0 and {MAX_FIRST}")
    return first


def connection(
    nodes: list[T],
    positions: Sequence[int | str],
    kind: str,
    size: int,
    *,
    has_next: bool | None = None,
) -> Connection[T]:
    """Builds a connection from up to size+1 fetched nodes (the extra one means a next page);
    callers that drop rows after fetching pass `has_next` from the rows they fetched."""
    if has_next is None:
        has_next = len(nodes) > size
    nodes, positions = nodes[:size], positions[:size]
    edges = [
        Edge(cursor=encode_cursor(kind, p), node=n) for n, p in zip(nodes, positions, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
    )


async def visible_page(
    rows: Sequence[R],
    size: int,
    kind: str,
    *,
    node_of: Callable[[R], Awaitable[T | None]],
    position_of: Callable[[R], int | str],
) -> Connection[T]:
    """A page from up to size+1 fetched rows, dropping those the caller may not see.

    The nodes are built concurrently so their DataLoader calls batch into one statement."""
    page = rows[:size]
    nodes = await asyncio.gather(*(node_of(r) for r in page))
    visible = [(n, position_of(r)) for n, r in zip(nodes, page, strict=True) if n is not None]
    return connection(
        [n for n, _ in visible], [p for _, p in visible], kind, size, has_next=len(rows) > size
    )
