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
    SCHEMA_VIOLATION = "SCHEMA_VIOLATION"
    NOT_A_PARTY = "NOT_A_PARTY"
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
