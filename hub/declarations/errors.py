"""Coded refusals of the intake, one list for GraphQL, the CLI and the tests."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeclarationErrorCode(StrEnum):
    """Why a record was not accepted; clients branch on these."""

    UNKNOWN_STANDARD = "UNKNOWN_STANDARD"
    UNKNOWN_VERSION = "UNKNOWN_VERSION"
    INVALID_STANDARD_REF = "INVALID_STANDARD_REF"
    NOT_PUBLISHED = "NOT_PUBLISHED"
    RETIRED = "RETIRED"
    NOT_AN_OBJECT = "NOT_AN_OBJECT"
    INVALID_CHARACTERS = "INVALID_CHARACTERS"
    TOO_DEEP = "TOO_DEEP"  # objects and arrays nest deeper than hub.canonical.MAX_DEPTH
    SCHEMA_VIOLATION = "SCHEMA_VIOLATION"
    NOT_A_PARTY = "NOT_A_PARTY"  # the payload does not name the declarant at all
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"  # named, but in a role that may not do this
    NOT_RECORD_PARTY = "NOT_RECORD_PARTY"  # the stored record does not name it so
    KEY_CHANGED = "KEY_CHANGED"  # a change would alter the record's key fields
    PARTIES_CHANGED = "PARTIES_CHANGED"  # a change would alter the record's parties
    LINK_MISMATCH = "LINK_MISMATCH"  # the record it names does not name it back
    NOT_BOUND = "NOT_BOUND"
    RECORD_EXISTS = "RECORD_EXISTS"
    RECORD_NOT_FOUND = "RECORD_NOT_FOUND"
    RECORD_CANCELLED = "RECORD_CANCELLED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    BATCH_TOO_LARGE = "BATCH_TOO_LARGE"
    BATCH_ABORTED = "BATCH_ABORTED"


@dataclass(frozen=True)
class DeclarationIssue:
    """One reason a record was refused: code, JSON pointer, keyword, plain message."""

    code: DeclarationErrorCode
    message: str
    path: str = ""
    keyword: str | None = None
