"""The refusal shape of credit and risk: a code, a plain message, the input field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class CreditErrorCode(StrEnum):
    """Why a credit or risk operation was refused."""

    NOT_A_DEPARTMENT = "NOT_A_DEPARTMENT"  # the caller has no row in the credit matrix
    NOT_ALLOWED = "NOT_ALLOWED"  # the matrix does not let this department do it
    UNKNOWN_VALUE = "UNKNOWN_VALUE"  # not a value of the department's rating scale
    UNKNOWN_ENTERPRISE = "UNKNOWN_ENTERPRISE"
    INVALID_DATES = "INVALID_DATES"
    REASON_REQUIRED = "REASON_REQUIRED"
    TOO_LONG = "TOO_LONG"
    NOT_FOUND = "NOT_FOUND"
    WRONG_STATUS = "WRONG_STATUS"  # the transition does not start from the alert's status
    INVALID_DOCUMENT = "INVALID_DOCUMENT"  # a rule set or scoring model that cannot be used
    VERSION_EXISTS = "VERSION_EXISTS"


@dataclass(frozen=True)
class CreditRefusal:
    """One refusal: a code, a plain message and the input field it concerns."""

    code: CreditErrorCode
    message: str
    path: str | None = None


class CreditRefused(Exception):
    """Nothing was changed: every problem found, at once."""

    def __init__(self, refusals: Sequence[CreditRefusal]):
        super().__init__("; ".join(r.message for r in refusals))
        self.refusals = list(refusals)


def refuse(code: CreditErrorCode, message: str, path: str | None = None) -> CreditRefused:
    """A refusal of one problem, to raise."""
    return CreditRefused([CreditRefusal(code, message, path)])
