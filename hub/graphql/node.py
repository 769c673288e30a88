"""Relay's global object identification: the `Node` interface and its opaque ids.

A global id is the URL-safe base64 (unpadded, like the cursors) of the type name and the
record's natural key, each key part percent-escaped so that a `:` inside a part cannot
shift the parts: `Order:<ebpCode>:<orderNo>`. It is opaque to clients (they pass it back
to `node(id:)`), but it is not secret: it spells the key, so a type's `id` field belongs
to the data category of its key fields and is refused where they are.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import quote, unquote

import strawberry

from hub.graphql.context import BadInput

# Ids `nodes(ids:)` takes at once (enforced with the other list caps, hub.graphql.limits).
MAX_NODES = 100
# The base64url alphabet only: `urlsafe_b64decode` would silently drop other characters.
_ID = re.compile(r"[A-Za-z0-9_-]{1,600}")
# A decoded key part: printable and short (a NUL would reach PostgreSQL as a 500).
_PART = re.compile(r"[^\x00-\x1f\x7f]{1,200}")


@strawberry.interface(
    description="An object with a global id (Relay): refetch it with `node(id:)`. The id "
    "spells the object's natural key, so it is readable where the key fields are."
)
class Node:
    @strawberry.field(description="The global id: opaque, stable, and unique across types.")
    def id(self) -> strawberry.ID:
        raise NotImplementedError  # every implementing type resolves its own


def global_id(type_name: str, *key: str) -> strawberry.ID:
    """The global id of the `type_name` object with this natural key."""
    text = ":".join([type_name, *(quote(part, safe="") for part in key)])
    return strawberry.ID(base64.urlsafe_b64encode(text.encode()).decode().rstrip("="))


def parse_global_id(value: str) -> tuple[str, tuple[str, ...]]:
    """(type name, key parts) of a global id; BAD_USER_INPUT when it is not one of ours.

    Only the canonical spelling is accepted (the one `global_id` writes), so one object
    has exactly one id."""
    refused = BadInput(f"{value[:80]!r} is not a node id of this hub")
    if _ID.fullmatch(value) is None:
        raise refused
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        type_name, *escaped = text.split(":")
        key = tuple(unquote(part, errors="strict") for part in escaped)
    except ValueError as exc:  # not base64, not UTF-8 inside, or a bad escape
        raise refused from exc
    if not escaped or any(_PART.fullmatch(part) is None for part in key):
        raise refused
    if global_id(type_name, *key) != value:
        raise refused
    return type_name, key
