"""The scope catalogue: every OAuth2 scope the hub knows, in one place."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    """OAuth2 scopes (space-separated in a token's `scope` claim)."""

    DECLARE = "declare"
    CUSTOMS_READ = "customs:read"
    TAX_READ = "tax:read"
    FOREX_READ = "forex:read"
    MARKET_READ = "market:read"
    FINANCE_READ = "finance:read"
    PII_READ = "pii:read"
    STANDARDS_WRITE = "standards:write"
    AUDIT_READ = "audit:read"
    DOCUMENTS_WRITE = "documents:write"
    WITNESS = "witness"
    CREDIT_WRITE = "credit:write"


SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.DECLARE: "declare trade records for the client's bound enterprise",
    Scope.CUSTOMS_READ: "customs: read the trade graph",
    Scope.TAX_READ: "tax administration: read amounts, taxes and released exports",
    Scope.FOREX_READ: "foreign exchange (SAFE): read payments, receipts and forex totals",
    Scope.MARKET_READ: "market supervision: read registrations, credit and goods",
    Scope.FINANCE_READ: "banks: read enterprises that granted a consent",
    Scope.PII_READ: "read personal data in clear (customs only)",
    Scope.STANDARDS_WRITE: "administer the data-standard registry",
    Scope.AUDIT_READ: "supervisors: read the access log",
    Scope.DOCUMENTS_WRITE: "register trusted GraphQL documents (operations run by id)",
    Scope.WITNESS: "departments: cosign the log's checkpoints after checking consistency",
    Scope.CREDIT_WRITE: "departments: record their credit rating and handle their risk alerts",
}

ALL_SCOPES: tuple[str, ...] = tuple(s.value for s in Scope)


class UnknownScopeError(ValueError):
    """A scope name that is not in the catalogue."""


def parse_scopes(text: str | None) -> tuple[Scope, ...]:
    """Parses a space-separated scope string, refusing names not in the catalogue."""
    result: list[Scope] = []
    for name in (text or "").split():
        try:
            scope = Scope(name)
        except ValueError as exc:
            known = ", ".join(ALL_SCOPES)
            raise UnknownScopeError(f"unknown scope {name!r}; known scopes: {known}") from exc
        if scope not in result:
            result.append(scope)
    return tuple(result)


def format_scopes(scopes: tuple[Scope, ...] | list[Scope] | frozenset[Scope]) -> str:
    """Renders scopes as the space-separated string OAuth2 uses, in catalogue order."""
    return " ".join(s.value for s in Scope if s in scopes)
