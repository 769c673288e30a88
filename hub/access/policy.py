"""The access policy as data: which scopes read which data category.

This module is the one place the table of DESIGN.md lives. Every graph field names its
category; the resolvers, `_entities`, the SDL (`@requiresScopes`) and the field
descriptions all read this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hub.auth.principal import Principal
from hub.auth.scopes import Scope


class Category(StrEnum):
    """Data categories of the trade graph."""

    REGISTRATION = "registration"  # ids, names, roles, region
    CREDIT = "credit"  # credit class, risk flags
    ORDER = "order"  # headers, amounts, trade mode
    GOODS = "goods"  # lines, HS codes, origin
    PAYMENT = "payment"  # payments, receipts
    LOGISTICS = "logistics"  # waybills, milestones
    CLEARANCE = "clearance"  # inventories, customs status
    TAX = "tax"  # tax amounts
    PERSONAL = "personal"  # buyer / payer / consignee


_ALL_BUT_PERSONAL = frozenset(c for c in Category if c is not Category.PERSONAL)

# Department scope → categories it reads in clear. PERSONAL is read in clear only with
# pii:read (customs); everyone else who may read a record sees personal fields masked.
DEPARTMENT_CATEGORIES: dict[Scope, frozenset[Category]] = {
    Scope.CUSTOMS_READ: _ALL_BUT_PERSONAL,
    Scope.TAX_READ: frozenset(
        {
            Category.REGISTRATION,
            Category.CREDIT,
            Category.ORDER,
            Category.GOODS,
            Category.PAYMENT,
            Category.CLEARANCE,
            Category.TAX,
        }
    ),
    Scope.FOREX_READ: frozenset(
        {
            Category.REGISTRATION,
            Category.CREDIT,
            Category.ORDER,
            Category.PAYMENT,
            Category.CLEARANCE,
        }
    ),
    Scope.MARKET_READ: frozenset({Category.REGISTRATION, Category.CREDIT, Category.GOODS}),
    # Banks: at most these, and only what an active consent names for that enterprise.
    Scope.FINANCE_READ: frozenset(
        {
            Category.REGISTRATION,
            Category.CREDIT,
            Category.ORDER,
            Category.PAYMENT,
            Category.LOGISTICS,
            Category.CLEARANCE,
        }
    ),
}
# An enterprise reads every category of records it is a party to (personal data masked).
OWN_ENTERPRISE_CATEGORIES = _ALL_BUT_PERSONAL
# Categories a bank may be granted in a consent.
CONSENTABLE_CATEGORIES = DEPARTMENT_CATEGORIES[Scope.FINANCE_READ]
DEPARTMENT_SCOPES = tuple(DEPARTMENT_CATEGORIES)


def scopes_for(category: Category) -> list[list[str]]:
    """The `@requiresScopes` value of a category: any one of these scope sets suffices."""
    if category is Category.PERSONAL:
        return [[Scope.CUSTOMS_READ.value, Scope.PII_READ.value]]
    return [[s.value] for s, cats in DEPARTMENT_CATEGORIES.items() if category in cats] + [
        [Scope.DECLARE.value]
    ]


def describe(category: Category) -> str:
    """The sentence appended to a field's description."""
    if category is Category.PERSONAL:
        return (
            "Category: personal. In clear only with customs:read + pii:read; "
            "masked for every other reader."
        )
    readers = ", ".join(s.value for s, cats in DEPARTMENT_CATEGORIES.items() if category in cats)
    return (
        f"Category: {category.value}. Readable with {readers} (finance:read only under an "
        "active consent naming it), and by the enterprises party to the record."
    )


@dataclass(frozen=True)
class Grant:
    """What one caller may read of one enterprise's records.

    `personal` names the personal fields that resolve (masked unless `personal_in_clear`);
    None means all of them. A record's party reads only some (a carrier: the consignee),
    as the authority table says."""

    categories: frozenset[Category]
    personal_in_clear: bool
    consent_id: str | None = None
    personal: frozenset[str] | None = None

    def allows(self, category: Category, field: str | None = None) -> bool:
        """True when fields of the category resolve (personal: in clear or masked, and
        only the personal fields this grant names)."""
        if category is Category.PERSONAL:
            return self.personal is None or (field is not None and field in self.personal)
        return category in self.categories


def department_label(principal: Principal) -> str:
    """A short label of the caller's role for the access log."""
    for scope, label in (
        (Scope.CUSTOMS_READ, "customs"),
        (Scope.TAX_READ, "tax"),
        (Scope.FOREX_READ, "forex"),
        (Scope.MARKET_READ, "market"),
        (Scope.FINANCE_READ, "bank"),
        (Scope.AUDIT_READ, "supervisor"),
        (Scope.STANDARDS_WRITE, "registry"),
    ):
        if principal.has(scope):
            return label
    return "enterprise" if principal.enterprise_code else "other"


def department_categories(principal: Principal) -> frozenset[Category]:
    """Categories the caller's department scopes grant for every enterprise (banks: none)."""
    granted: set[Category] = set()
    for scope, categories in DEPARTMENT_CATEGORIES.items():
        if scope is not Scope.FINANCE_READ and principal.has(scope):
            granted |= categories
    return frozenset(granted)


class Department(StrEnum):
    """The departments that rate enterprises and handle risk alerts."""

    CUSTOMS = "customs"
    TAX = "tax"
    FOREX = "forex"
    MARKET = "market"


@dataclass(frozen=True)
class CreditRights:
    """What a department may do with credit data beyond reading its categories.

    Seeing is the category table's: ratings and the hub's evaluation are CREDIT; an alert
    is readable by a department whose categories hold the alert's category (its evidence).
    Recording a rating and acting on an alert also need `credit:write`."""

    department: Department
    # It records its own rating of an enterprise (on its own scale, hub/credit/scales.py).
    records_rating: bool
    # It acknowledges and disposes the alerts raised for these departments.
    disposes: frozenset[Department]
    # It reads the differentiated supervision of an enterprise (inspection sampling rate).
    sees_supervision: bool = False


# The credit part of the policy matrix: one row per department scope. Enterprises never
# record or dispose; they (and banks under a consent naming CREDIT) read ratings, and of
# alerts about themselves only those disposed as confirmed (hub/risk/access.py).
CREDIT_RIGHTS: dict[Scope, CreditRights] = {
    Scope.CUSTOMS_READ: CreditRights(
        Department.CUSTOMS, True, frozenset({Department.CUSTOMS}), sees_supervision=True
    ),
    Scope.TAX_READ: CreditRights(Department.TAX, True, frozenset({Department.TAX})),
    Scope.FOREX_READ: CreditRights(Department.FOREX, True, frozenset({Department.FOREX})),
    Scope.MARKET_READ: CreditRights(Department.MARKET, True, frozenset({Department.MARKET})),
}


def credit_rights(principal: Principal) -> CreditRights | None:
    """The caller's row of the credit matrix (its first department scope), or None."""
    for scope, rights in CREDIT_RIGHTS.items():
        if principal.has(scope):
            return rights
    return None
