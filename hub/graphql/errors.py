"""Masking of unexpected exceptions: callers see an error id, the log has the trace."""

from __future__ import annotations

import logging
import uuid

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

log = logging.getLogger("hub.graphql")

# Exceptions carrying one of these codes are meant for the caller; any other exception
# raised by a resolver is a bug, and its message could leak internals.
VISIBLE_CODES = frozenset({"FORBIDDEN", "UNAUTHENTICATED", "BAD_USER_INPUT", "NOT_FOUND"})


def _should_mask(error: GraphQLError) -> bool:
    if error.original_error is None:
        return False  # syntax and validation errors describe the caller's document
    if isinstance(error.original_error, GraphQLError):
        return False
    return (error.extensions or {}).get("code") not in VISIBLE_CODES


class HubMaskErrors(MaskErrors):
    """Replaces unexpected exceptions by 'internal error (id …)'; the id is logged."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_should_mask, error_message="internal error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        error_id = uuid.uuid4().hex[:16]
        log.error("internal error %s at %s", error_id, error.path, exc_info=error.original_error)
        return GraphQLError(
            f"internal error (id {error_id})",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL", "errorId": error_id},
        )
