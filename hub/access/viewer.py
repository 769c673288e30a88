"""Row rules and grants for one request: which records a caller sees, and in which categories.

Departments see every record (in their categories); an enterprise sees the records it is a
party to; a bank sees the records of enterprises that consented, for the consented period
and categories only. Consents are read once per request, so revocation and expiry take
effect on the next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, false, or_, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access.consents import ActiveGrant, active_grants
from hub.access.policy import (
    OWN_ENTERPRISE_CATEGORIES,
    Category,
    Grant,
    department_categories,
)
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.trade.models import Inventory, Order, Waybill


def _day(app_time: str) -> date | None:
    try:
        return date(int(app_time[:4]), int(app_time[4:6]), int(app_time[6:8]))
    except (ValueError, IndexError):
        return None


@dataclass
class Viewer:
    """What one caller may see; built once per request."""

    principal: Principal
    department: frozenset[Category]
    consents: dict[str, ActiveGrant] = field(default_factory=dict)

    @property
    def enterprise(self) -> str | None:
        """The caller's bound enterprise, if any."""
        return self.principal.enterprise_code

    @property
    def personal_in_clear(self) -> bool:
        """Customs with pii:read reads personal data in clear."""
        return self.principal.has(Scope.CUSTOMS_READ) and self.principal.has(Scope.PII_READ)

    @property
    def sees_every_record(self) -> bool:
        """Departments read every record (within their categories)."""
        return bool(self.department)

    def order_rows(self) -> ColumnElement[bool]:
        """SQL predicate on `orders` selecting the rows this caller may see."""
        if self.sees_every_record:
            return true()
        clauses: list[ColumnElement[bool]] = []
        if self.enterprise:
            clauses.append(party_predicate(self.enterprise))
        for code, active in self.consents.items():
            for period in active.periods:
                clauses.append(
                    and_(
                        or_(Order.ebc_code == code, Order.ebp_code == code),
                        Order.app_time >= period.data_from.strftime("%Y%m%d000000"),
                        Order.app_time <= period.data_to.strftime("%Y%m%d235959"),
                    )
                )
        return or_(*clauses) if clauses else false()

    def grant_for_order(
        self, *, ebp_code: str, ebc_code: str, pay_code: str | None, app_time: str, party: bool
    ) -> Grant | None:
        """The grant on one order (and its documents), or None when it is not visible."""
        categories = set(self.department)
        if party:
            categories |= OWN_ENTERPRISE_CATEGORIES
        consent_id = None
        day = _day(app_time)
        for code in {ebp_code, ebc_code}:
            active = self.consents.get(code)
            if active is not None and day is not None:
                categories |= active.categories_on(day)
                consent_id = consent_id or next(iter(active.consent_ids_on(day)), None)
        if not categories:
            return None
        return Grant(frozenset(categories), self.personal_in_clear, consent_id)

    def grant_for_enterprise(self, code: str) -> Grant | None:
        """The grant on an enterprise node, or None when it is not visible."""
        categories = set(self.department)
        consent_id = None
        if self.enterprise == code:
            categories |= OWN_ENTERPRISE_CATEGORIES
        active = self.consents.get(code)
        if active is not None:
            categories |= active.categories & {Category.REGISTRATION, Category.CREDIT}
            consent_id = next(iter(active.consent_ids), None)
        if not categories:
            return None
        return Grant(frozenset(categories), self.personal_in_clear, consent_id)


def party_predicate(code: str) -> ColumnElement[bool]:
    """Orders the enterprise is a party to: platform, seller, payer, carrier or agent."""
    carried = select(Waybill.ebp_code, Waybill.order_no).where(Waybill.logistics_code == code)
    declared = select(Inventory.ebp_code, Inventory.order_no).where(
        or_(Inventory.agent_code == code, Inventory.logistics_code == code)
    )
    return or_(
        Order.ebp_code == code,
        Order.ebc_code == code,
        Order.pay_code == code,
        tuple_(Order.ebp_code, Order.order_no).in_(carried),
        tuple_(Order.ebp_code, Order.order_no).in_(declared),
    )


async def build_viewer(*, session: AsyncSession, principal: Principal) -> Viewer:
    """Reads what the caller may see (for banks: their active, unexpired consents)."""
    viewer = Viewer(principal=principal, department=department_categories(principal))
    if principal.has(Scope.FINANCE_READ):
        viewer.consents = await active_grants(
            session=session,
            bank_client_id=principal.client_id,
            bank_issuer=principal.issuer_key,
            enterprise_codes=None,
            at=datetime.now(UTC),
        )
    return viewer
