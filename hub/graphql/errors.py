"""Masking of unexpected exceptions: callers see an error id, the log has the trace.

Two kinds of errors are rewritten rather than masked: a resolver that failed because the
database is unreachable or busy reports SERVICE_UNAVAILABLE or DATABASE_BUSY (the endpoint
answers 503, hub/http/unavailable.py decides which), and in
production the "Did you mean …?" suggestions that would reveal schema names are removed.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator

from graphql import GraphQLError
from sqlalchemy.exc import DBAPIError
from strawberry.extensions import MaskErrors, SchemaExtension

from hub.http import unavailable

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


def _rewritten(
    error: GraphQLError,
    message: str,
    extensions: dict[str, object],
    original_error: Exception | None = None,
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original_error,
        extensions=extensions,
    )


def _unstorable_text(exc: BaseException | None) -> bool:
    """True for database errors caused by characters the database refuses in text."""
    if not isinstance(exc, DBAPIError):
        return False
    cause = getattr(exc.orig, "__cause__", None) or exc.orig
    return type(cause).__name__ in {
        "CharacterNotInRepertoireError",  # asyncpg: NUL in text
        "UntranslatableCharacterError",
    } or isinstance(exc.orig, UnicodeEncodeError)


class HubMaskErrors(MaskErrors):
    """Replaces unexpected exceptions by 'internal error (id …)'; the id is logged."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_should_mask, error_message="internal error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        refusal = unavailable.refusal_for(error.original_error)
        if refusal is not None:
            # Not a bug: the caller should retry. No id, no trace here (the request's one
            # log line is written when the 503 is sent), and the endpoint answers 503.
            unavailable.note(error.original_error, where=f"at {error.path}")
            return _rewritten(error, refusal.message, {"code": refusal.code})
        if _unstorable_text(error.original_error):
            # The caller sent text the database cannot hold (NUL on PostgreSQL): its fault.
            return _rewritten(
                error,
                "an argument holds a character that cannot be stored or compared (e.g. NUL)",
                {"code": "BAD_USER_INPUT"},
            )
        error_id = uuid.uuid4().hex[:16]
        log.error("internal error %s at %s", error_id, error.path, exc_info=error.original_error)
        return _rewritten(
            error, f"internal error (id {error_id})", {"code": "INTERNAL", "errorId": error_id}
        )


# graphql-core writes suggestions as a sentence " Did you mean 'x', 'y' or 'z'?" (or "the
# enum value 'x'"): last in validation errors, but in the middle of variable coercion errors
# ("... unknown field 'a'. Did you mean 'b'? Found: {...}."). Schema names cannot hold a
# "?", so the sentence ends at the first one wherever it stands.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    """`message` without graphql-core's "Did you mean …?" sentences, wherever they are."""
    return _SUGGESTION.sub("", message)


class HideSuggestions(SchemaExtension):
    """Strips field, argument, type and enum suggestions from every error (production).

    Suggestions let a caller without introspection rebuild the schema name by name. They
    come from validation and from variable coercion, so the final errors are rewritten
    rather than one phase's.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if not errors:
            return
        # The original exception stays attached so that masking, whichever extension
        # runs last, still recognises a bug.
        result.errors = [  # type: ignore[union-attr]
            error
            if _SUGGESTION.search(error.message) is None
            else _rewritten(
                error,
                without_suggestions(error.message),
                dict(error.extensions or {}),
                error.original_error,
            )
            for error in errors
        ]
