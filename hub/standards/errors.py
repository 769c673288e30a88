"""Coded errors of the registry: what a caller did that the registry refuses."""

from __future__ import annotations

from enum import StrEnum


class StandardErrorCode(StrEnum):
    """Why the registry refused a request; clients branch on these."""

    INVALID_STANDARD_ID = "INVALID_STANDARD_ID"
    STANDARD_EXISTS = "STANDARD_EXISTS"
    UNKNOWN_STANDARD = "UNKNOWN_STANDARD"
    INVALID_VERSION = "INVALID_VERSION"
    UNKNOWN_VERSION = "UNKNOWN_VERSION"
    INVALID_SCHEMA = "INVALID_SCHEMA"
    UNSUPPORTED_PATTERN = "UNSUPPORTED_PATTERN"
    REMOTE_REF = "REMOTE_REF"
    UNRESOLVED_REF = "UNRESOLVED_REF"
    INCOMPATIBLE = "INCOMPATIBLE"
    VERSION_EXISTS = "VERSION_EXISTS"
    IMMUTABLE_VERSION = "IMMUTABLE_VERSION"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    INVALID_SUCCESSOR = "INVALID_SUCCESSOR"
    RETIRED = "RETIRED"
    NOT_PUBLISHED = "NOT_PUBLISHED"
    INVALID_INPUT = "INVALID_INPUT"
    # Data-category annotations (x-hub-category, see hub/standards/categories.py).
    UNANNOTATED_PROPERTY = "UNANNOTATED_PROPERTY"
    UNKNOWN_CATEGORY = "UNKNOWN_CATEGORY"
    CATEGORY_CONFLICT = "CATEGORY_CONFLICT"
    MISPLACED_CATEGORY = "MISPLACED_CATEGORY"
    CATEGORY_CHANGED = "CATEGORY_CHANGED"


class StandardsError(Exception):
    """A refusal with a code, a plain message and, where it applies, a JSON pointer."""

    def __init__(self, code: StandardErrorCode, message: str, path: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path


class StandardsErrors(Exception):
    """Several refusals at once (e.g. every meta-schema violation of a schema)."""

    def __init__(self, errors: list[StandardsError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors
