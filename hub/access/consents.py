"""Bank consents: an enterprise lets a bank read some categories of its data for a while.

A consent names a bank (an OAuth2 client with `finance:read`), data categories, a purpose,
the period of the records it covers (`data_from`..`data_to`, by record date, inclusive)
and an expiry. The hub signs it as a JWT (`typ: consent+jwt`) so the bank can show it to
others; they verify it with the hub's public JWKS. The access policy asks `active_grants`
on every bank read.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from joserfc import jwt
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access.models import Consent
from hub.access.policy import CONSENTABLE_CATEGORIES, Category
from hub.auth.keys import KeyStore
from hub.auth.models import Client
from hub.auth.principal import Principal
from hub.auth.scopes import Scope, parse_scopes
from hub.events import outbox
from hub.events.kinds import EventKind

CONSENT_JWT_TYPE = "consent+jwt"
MAX_PURPOSE_LENGTH = 500
# Keeps each IN (...) list well below SQLite's and asyncpg's bound-parameter limits.
_CODES_PER_QUERY = 500


class ConsentStatus(StrEnum):
    """The state of a consent as a reader sees it at a given moment."""

    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"  # never stored: derived from expires_at at read time


class ConsentErrorCode(StrEnum):
    """Why a consent was refused; clients branch on these."""

    NOT_AN_ENTERPRISE = "NOT_AN_ENTERPRISE"
    UNKNOWN_BANK = "UNKNOWN_BANK"
    NO_CATEGORIES = "NO_CATEGORIES"
    CATEGORY_NOT_CONSENTABLE = "CATEGORY_NOT_CONSENTABLE"
    INVALID_PURPOSE = "INVALID_PURPOSE"
    INVALID_PERIOD = "INVALID_PERIOD"
    TIMEZONE_REQUIRED = "TIMEZONE_REQUIRED"
    ALREADY_EXPIRED = "ALREADY_EXPIRED"
    UNKNOWN_CONSENT = "UNKNOWN_CONSENT"
    NOT_YOURS = "NOT_YOURS"
    ALREADY_REVOKED = "ALREADY_REVOKED"


class ConsentError(Exception):
    """A refusal with a code, a plain message and the input field it concerns.

    When one request has several problems, the first is raised and `problems` lists all
    of them (this one first), so a caller can fix everything in one go.
    """

    def __init__(
        self,
        code: ConsentErrorCode,
        message: str,
        path: str | None = None,
        *,
        others: Iterable[ConsentError] = (),
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path
        self.problems: tuple[ConsentError, ...] = (self, *others)


@dataclass(frozen=True)
class GrantPeriod:
    """What one consent grants: categories of records dated within [data_from, data_to]."""

    categories: frozenset[Category]
    data_from: date
    data_to: date
    consent_id: str

    def covers(self, day: date) -> bool:
        """True when a record dated `day` falls in the consent's data period."""
        return self.data_from <= day <= self.data_to


@dataclass(frozen=True)
class ActiveGrant:
    """Every active consent of one enterprise to one bank, kept as separate periods.

    Consents are not merged into one period: a consent for `order` in 2024 and one for
    `payment` in 2025 must not grant `payment` for 2024. Ask `categories_on(day)` for a
    dated record. `categories`, `data_from` and `data_to` are the envelope over all
    periods (what the bank may read at all, for some dates), not a grant for every date.
    """

    enterprise_code: str
    periods: tuple[GrantPeriod, ...]

    @property
    def categories(self) -> frozenset[Category]:
        """The union of the categories of every period (for some dates, not all)."""
        return frozenset().union(*(p.categories for p in self.periods))

    @property
    def data_from(self) -> date:
        """The earliest record date any consent covers."""
        return min(p.data_from for p in self.periods)

    @property
    def data_to(self) -> date:
        """The latest record date any consent covers."""
        return max(p.data_to for p in self.periods)

    @property
    def consent_ids(self) -> tuple[str, ...]:
        """The ids of the consents behind this grant, oldest first."""
        return tuple(p.consent_id for p in self.periods)

    def categories_on(self, day: date) -> frozenset[Category]:
        """The categories granted for a record dated `day` (the union over the periods)."""
        return frozenset().union(*(p.categories for p in self.periods if p.covers(day)))

    def consent_ids_on(self, day: date, category: Category | None = None) -> tuple[str, ...]:
        """The consents that cover a record dated `day` (and the category, when given)."""
        return tuple(
            p.consent_id
            for p in self.periods
            if p.covers(day) and (category is None or category in p.categories)
        )


def effective_status(consent: Consent, at: datetime) -> ConsentStatus:
    """The consent's status at `at`: REVOKED wins over EXPIRED; expiry is exclusive."""
    if consent.status == ConsentStatus.REVOKED:
        return ConsentStatus.REVOKED
    # Like a JWT's exp: the consent is no longer valid *at* its expiry instant.
    if at >= consent.expires_at:
        return ConsentStatus.EXPIRED
    return ConsentStatus.ACTIVE


def _new_id() -> str:
    return "cns_" + secrets.token_hex(14)  # 32 characters: the width of consents.id


def _categories(names: list[str], problems: list[ConsentError]) -> list[Category]:
    if not names:
        problems.append(
            ConsentError(
                ConsentErrorCode.NO_CATEGORIES, "name at least one data category", "categories"
            )
        )
    result: list[Category] = []
    for index, name in enumerate(names):
        try:
            category: Category | None = Category(name)
        except ValueError:
            category = None
        if category is None or category not in CONSENTABLE_CATEGORIES:
            allowed = ", ".join(c.value for c in Category if c in CONSENTABLE_CATEGORIES)
            problems.append(
                ConsentError(
                    ConsentErrorCode.CATEGORY_NOT_CONSENTABLE,
                    f"a bank cannot be granted the category {name!r}; grantable: {allowed}",
                    f"categories/{index}",
                )
            )
        elif category not in result:
            result.append(category)
    # Catalogue order, so the same grant always signs the same claim.
    return sorted(result, key=list(Category).index)


async def _is_bank(*, session: AsyncSession, client_id: str) -> bool:
    client = await session.scalar(select(Client).where(Client.client_id == client_id))
    if client is None or client.disabled_at is not None:
        return False
    try:
        return Scope.FINANCE_READ in parse_scopes(client.scopes)
    except ValueError:
        return False


def _raise(problems: list[ConsentError]) -> None:
    if problems:
        first = problems[0]
        raise ConsentError(first.code, first.message, first.path, others=problems[1:])


def _sign(*, consent: Consent, keys: KeyStore, issuer: str) -> str:
    key = keys.signing_key()
    header = {"alg": key.alg, "kid": key.kid, "typ": CONSENT_JWT_TYPE}
    claims = {
        "iss": issuer,
        "jti": consent.id,
        "sub": consent.enterprise_code,
        "aud": consent.bank_client_id,
        "categories": list(consent.categories),
        "purpose": consent.purpose,
        "data_from": consent.data_from.isoformat(),
        "data_to": consent.data_to.isoformat(),
        # Rounded down, so the signed consent never outlives the stored one.
        "exp": int(consent.expires_at.timestamp()),
        "iat": int(consent.created_at.timestamp()),
    }
    return jwt.encode(header, claims, key)


async def grant(
    *,
    session: AsyncSession,
    enterprise_code: str | None,
    granted_by: str,
    bank_client_id: str,
    categories: list[str],
    purpose: str,
    data_from: date,
    data_to: date,
    expires_at: datetime,
    keys: KeyStore,
    issuer: str,
    granted_by_issuer: str | None = None,
) -> Consent:
    """Records and signs an enterprise's consent to a bank; refuses with every problem.

    The bank is always a client of this hub (`bank_issuer` None); `granted_by_issuer` is the
    granting principal's external issuer, if it is not a hub client."""
    if not enterprise_code:
        raise ConsentError(
            ConsentErrorCode.NOT_AN_ENTERPRISE,
            "only a client bound to an enterprise can grant consents",
        )
    now = datetime.now(UTC)
    problems: list[ConsentError] = []
    if not await _is_bank(session=session, client_id=bank_client_id):
        problems.append(
            ConsentError(
                ConsentErrorCode.UNKNOWN_BANK,
                f"{bank_client_id!r} is not an enabled client with the scope 'finance:read'",
                "bank",
            )
        )
    granted = _categories(categories, problems)
    purpose = purpose.strip()
    if not purpose or len(purpose) > MAX_PURPOSE_LENGTH:
        problems.append(
            ConsentError(
                ConsentErrorCode.INVALID_PURPOSE,
                f"state the purpose in 1 to {MAX_PURPOSE_LENGTH} characters",
                "purpose",
            )
        )
    if data_from > data_to:
        problems.append(
            ConsentError(
                ConsentErrorCode.INVALID_PERIOD,
                f"the data period starts ({data_from}) after it ends ({data_to})",
                "dataTo",
            )
        )
    if expires_at.tzinfo is None:
        # A bare local time is ambiguous (the zone is UTC+8, servers often UTC).
        problems.append(
            ConsentError(
                ConsentErrorCode.TIMEZONE_REQUIRED,
                "give the expiry with a UTC offset, e.g. 2026-12-31T23:59:59+08:00",
                "expiresAt",
            )
        )
    elif expires_at <= now:
        problems.append(
            ConsentError(
                ConsentErrorCode.ALREADY_EXPIRED,
                f"the expiry {expires_at.isoformat()} is not in the future",
                "expiresAt",
            )
        )
    _raise(problems)
    consent = Consent(
        id=_new_id(),
        enterprise_code=enterprise_code,
        bank_client_id=bank_client_id,
        bank_issuer=None,
        categories=[c.value for c in granted],
        purpose=purpose,
        data_from=data_from,
        data_to=data_to,
        expires_at=expires_at.astimezone(UTC),
        status=ConsentStatus.ACTIVE.value,
        granted_by=granted_by,
        granted_by_issuer=granted_by_issuer,
        created_at=now,
        revoked_at=None,
        jws="",
    )
    consent.jws = _sign(consent=consent, keys=keys, issuer=issuer)
    session.add(consent)
    await session.flush()
    await outbox.consent_changed(
        session=session, consent=consent, kind=EventKind.CONSENT_GRANTED, now=now
    )
    return consent


async def revoke(*, session: AsyncSession, consent_id: str, enterprise_code: str | None) -> Consent:
    """Revokes one of the enterprise's consents; it stops granting anything at once."""
    if not enterprise_code:
        raise ConsentError(
            ConsentErrorCode.NOT_AN_ENTERPRISE,
            "only a client bound to an enterprise can revoke consents",
        )
    # The row lock makes two concurrent revocations end as one REVOKED and one refusal.
    consent = await session.scalar(
        select(Consent).where(Consent.id == consent_id).with_for_update()
    )
    if consent is None:
        raise ConsentError(
            ConsentErrorCode.UNKNOWN_CONSENT, f"there is no consent {consent_id!r}", "id"
        )
    if consent.enterprise_code != enterprise_code:
        raise ConsentError(
            ConsentErrorCode.NOT_YOURS, "the consent was granted by another enterprise", "id"
        )
    if consent.status == ConsentStatus.REVOKED:
        when = consent.revoked_at.isoformat() if consent.revoked_at else "an unknown time"
        raise ConsentError(
            ConsentErrorCode.ALREADY_REVOKED, f"the consent was already revoked at {when}", "id"
        )
    # An expired consent may still be revoked: the record then says it was withdrawn.
    consent.status = ConsentStatus.REVOKED.value
    consent.revoked_at = datetime.now(UTC)
    await session.flush()
    await outbox.consent_changed(
        session=session, consent=consent, kind=EventKind.CONSENT_REVOKED, now=consent.revoked_at
    )
    return consent


async def list_for(*, session: AsyncSession, principal: Principal) -> list[Consent]:
    """The consents the caller may see: granted by its enterprise, to it as a bank, or all."""
    query = select(Consent).order_by(Consent.created_at.desc(), Consent.id)
    if not principal.has(Scope.AUDIT_READ):
        visible = []
        if principal.enterprise_code:
            visible.append(Consent.enterprise_code == principal.enterprise_code)
        if principal.has(Scope.FINANCE_READ):
            visible.append(_bank_is(principal.client_id, principal.issuer_key))
        if not visible:
            return []
        query = query.where(or_(*visible))
    return list(await session.scalars(query))


async def bank_names(*, session: AsyncSession, client_ids: Collection[str]) -> dict[str, str]:
    """The display names of bank clients by client id (unknown ids are left out)."""
    ids = sorted(set(client_ids))
    names: dict[str, str] = {}
    for start in range(0, len(ids), _CODES_PER_QUERY):
        chunk = ids[start : start + _CODES_PER_QUERY]
        rows = await session.execute(
            select(Client.client_id, Client.name).where(Client.client_id.in_(chunk))
        )
        names.update({client_id: name for client_id, name in rows})
    return names


def _bank_is(client_id: str, issuer_key: str | None) -> ColumnElement[bool]:
    """Consents to the principal (issuer, client id); None: a client of this hub."""
    issuer = (
        Consent.bank_issuer.is_(None) if issuer_key is None else (Consent.bank_issuer == issuer_key)
    )
    return and_(Consent.bank_client_id == client_id, issuer)


async def active_grants(
    *,
    session: AsyncSession,
    bank_client_id: str,
    enterprise_codes: Collection[str] | None,
    at: datetime,
    bank_issuer: str | None = None,
) -> dict[str, ActiveGrant]:
    """Each enterprise's unrevoked, unexpired consents to the bank at `at` (None: every one).

    The bank is the principal (`bank_issuer`, `bank_client_id`); None: a client of this hub."""
    query = (
        select(Consent)
        .where(
            _bank_is(bank_client_id, bank_issuer),
            Consent.status == ConsentStatus.ACTIVE.value,
            Consent.expires_at > at,
        )
        .order_by(Consent.created_at, Consent.id)
    )
    if enterprise_codes is None:
        queries = [query]
    else:
        codes = sorted(set(enterprise_codes))
        queries = [
            query.where(Consent.enterprise_code.in_(codes[start : start + _CODES_PER_QUERY]))
            for start in range(0, len(codes), _CODES_PER_QUERY)
        ]
    periods: dict[str, list[GrantPeriod]] = {}
    for chunk in queries:
        for row in await session.scalars(chunk):
            # Re-checked here so a hand-edited row can never grant personal data.
            granted = frozenset(
                c for c in Category if c.value in row.categories and c in CONSENTABLE_CATEGORIES
            )
            if granted:
                periods.setdefault(row.enterprise_code, []).append(
                    GrantPeriod(granted, row.data_from, row.data_to, row.id)
                )
    return {code: ActiveGrant(code, tuple(items)) for code, items in periods.items()}
