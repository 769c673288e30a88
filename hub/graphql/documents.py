"""Parsed GraphQL documents, shared by the endpoint's checks and the access log.

Clients resend the same few documents, so small ones are parsed once per process; large
ones (a request body may be megabytes) are parsed each time rather than kept as cache keys.
"""

from __future__ import annotations

from functools import lru_cache

from graphql import DocumentNode, GraphQLError, parse

_CACHEABLE_CHARS = 16 * 1024


@lru_cache(maxsize=512)
def _cached(query: str) -> DocumentNode | None:
    return _parse(query)


def _parse(query: str) -> DocumentNode | None:
    try:
        return parse(query, no_location=True)
    except GraphQLError:
        return None  # strawberry reports the syntax error to the caller itself


def parse_document(query: str | None) -> DocumentNode | None:
    """The parsed document, or None when there is none or it does not parse."""
    if not query:
        return None
    return _cached(query) if len(query) <= _CACHEABLE_CHARS else _parse(query)
