"""Row rules and grants for one request: which records a caller sees, and in which categories.

Departments see every record (in their categories); an enterprise sees the records it is a
party to, in the categories the authority table gives its roles there; a bank sees the
records of enterprises that consented, for the consented period and categories only.
Consents are read once per request, so revocation and expiry take effect on the next
request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access import authority
from hub.access.consents import ActiveGrant, active_grants
from hub.access.policy import Category, Grant, department_categories
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.trade.models import Inventory, Order, Payment, Receipt, Waybill

# What an enterprise reads of its own enterprise node (the authority table's filing row).
_OWN_FILING = authority.RECORD_TYPES["cbec.enterprise"].reads_of({authority.Role.ENTERPRISE})
# The tables of an order's group, for the authority table's SQL row predicate.
GROUP_MODELS = {
    "cbec.order": Order,
    "cbec.payment": Payment,
    "cbec.receipt": Receipt,
    "cbec.waybill": Waybill,
    "cbec.inventory": Inventory,
}


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
            clauses.append(authority.group_clause(Order, self.enterprise, GROUP_MODELS))
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
        self,
        *,
        ebp_code: str,
        ebc_code: str,
        app_time: str,
        reads: authority.Reads = authority.NOTHING,
    ) -> Grant | None:
        """The grant on one order (and its documents), or None when it is not visible.

        `reads` is what the caller's own enterprise reads of the record as a party (from
        the authority table: `group_reads` or `document_reads`)."""
        categories = set(self.department) | reads.categories
        # Departments and banks see every personal field (masked unless customs with
        # pii:read); a party only those its roles name.
        personal = None if self.department else reads.personal
        consent_id = None
        day = _day(app_time)
        for code in {ebp_code, ebc_code}:
            active = self.consents.get(code)
            if active is not None and day is not None:
                granted = active.categories_on(day)
                if granted:
                    categories |= granted
                    personal = None
                consent_id = consent_id or next(iter(active.consent_ids_on(day)), None)
        if not categories:
            return None
        return Grant(frozenset(categories), self.personal_in_clear, consent_id, personal)

    def listable(self, code: str) -> frozenset[Category]:
        """Categories of an enterprise's records the caller may list under its node: its
        department's, all of its own enterprise's (the rows decide the roles), and what a
        consent of that enterprise names (the rows decide the period)."""
        categories = set(self.department)
        if self.enterprise == code:
            categories |= authority.EVERYTHING.categories
        active = self.consents.get(code)
        if active is not None:
            categories |= active.categories
        return frozenset(categories)

    def grant_for_enterprise(self, code: str) -> Grant | None:
        """The grant on an enterprise node, or None when it is not visible."""
        categories = set(self.department)
        consent_id = None
        if self.enterprise == code:
            categories |= _OWN_FILING.categories
        active = self.consents.get(code)
        if active is not None:
            categories |= active.categories & {Category.REGISTRATION, Category.CREDIT}
            consent_id = next(iter(active.consent_ids), None)
        if not categories:
            return None
        return Grant(frozenset(categories), self.personal_in_clear, consent_id)


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
