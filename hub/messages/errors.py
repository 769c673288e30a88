"""Coded refusals of a whole customs message (records refused one by one carry the
intake's DeclarationErrorCode)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MessageErrorCode(StrEnum):
    """Why a posted message was refused as a whole; clients branch on these."""

    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"  # not Content-Type application/xml
    MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"  # over HUB_MAX_MESSAGE_BYTES
    XML_MALFORMED = "XML_MALFORMED"  # not well-formed XML
    XML_DTD_FORBIDDEN = "XML_DTD_FORBIDDEN"  # a DOCTYPE (entities are never expanded)
    WRONG_NAMESPACE = "WRONG_NAMESPACE"  # the root is not in the CEB namespace
    UNKNOWN_MESSAGE_TYPE = "UNKNOWN_MESSAGE_TYPE"  # a root the hub does not take
    XSD_VIOLATION = "XSD_VIOLATION"  # the official XSD refuses the message
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"  # XML receipts asked for a type that has none


@dataclass(frozen=True)
class MessageIssue:
    """One refusal: code, the element path it concerns (`/CEB311Message/Order[2]/...`),
    plain message."""

    code: str
    message: str
    path: str = ""

    def as_json(self) -> dict[str, str]:
        """The answer's `errors` entry."""
        return {"code": self.code, "path": self.path, "message": self.message}


class MessageRefused(Exception):
    """The message is refused as a whole (4xx, nothing declared)."""

    def __init__(self, status: int, issues: list[MessageIssue]):
        super().__init__("; ".join(i.message for i in issues[:3]))
        self.status = status
        self.issues = issues
