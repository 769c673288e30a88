"""Filters of the order and enterprise lists, turned into SQL, and what each looks at.

A filter argument is a condition on a graph field: it needs read access to that field's
category (`hub.graphql.conditions`). `order_filter_check` refuses a filter the caller can
never evaluate and returns the per-record check that keeps only records it may evaluate
the filter on; `enterprise_filter_check` does the same for enterprises.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, String, and_, cast, or_, true

from hub.access.policy import Grant
from hub.access.viewer import Viewer
from hub.graphql.conditions import Use, grant_covers, readable_anywhere, require_readable
from hub.graphql.trade import types
from hub.trade import models
from hub.trade.matching import MatchStatus
from hub.trade.models import Enterprise, Order

RowCheck = Callable[[Grant, Any], bool]


@strawberry.enum(description="The role an enterprise plays on an order.")
class PartyRole(StrEnum):
    PLATFORM = "PLATFORM"
    SELLER = "SELLER"
    PAYMENT = "PAYMENT"


@strawberry.input(description="Narrow a list of orders; every condition must hold.")
class OrderFilter:
    enterprise: str | None = strawberry.field(
        default=None, description="An enterprise code named on the order (see `role`)."
    )
    role: PartyRole | None = strawberry.field(
        default=None, description="With `enterprise`: only orders where it plays this role."
    )
    trade_mode: str | None = None
    direction: str | None = strawberry.field(default=None, description="I or E.")
    date_from: date | None = strawberry.field(default=None, description="appTime on or after.")
    date_to: date | None = strawberry.field(default=None, description="appTime on or before.")
    match_status: MatchStatus | None = None
    risk_flag: str | None = None
    customs_status: int | None = None
    include_cancelled: bool = False


def _json_list_contains(column: Any, value: str) -> ColumnElement[bool]:
    # JSON lists are text on SQLite and json on PostgreSQL: compare their text, with the
    # caller's value escaped so that % and _ stay literal.
    literal = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(column, String).like(f'%"{literal}"%', escape="\\")


def order_conditions(f: OrderFilter | None) -> ColumnElement[bool]:
    """SQL conditions on `orders` for a filter."""
    if f is None:
        return Order.status == "ACTIVE"
    parts: list[ColumnElement[bool]] = []
    if not f.include_cancelled:
        parts.append(Order.status == "ACTIVE")
    if f.enterprise:
        by_role = {
            PartyRole.PLATFORM: Order.ebp_code == f.enterprise,
            PartyRole.SELLER: Order.ebc_code == f.enterprise,
            PartyRole.PAYMENT: Order.pay_code == f.enterprise,
        }
        parts.append(
            by_role[f.role] if f.role else or_(*by_role.values())  # any role by default
        )
    if f.trade_mode:
        parts.append(Order.trade_mode == f.trade_mode)
    if f.direction:
        parts.append(Order.direction == f.direction)
    if f.date_from:
        parts.append(Order.app_time >= f.date_from.strftime("%Y%m%d000000"))
    if f.date_to:
        parts.append(Order.app_time <= f.date_to.strftime("%Y%m%d235959"))
    if f.match_status:
        parts.append(Order.match_status == MatchStatus(f.match_status).value)
    if f.risk_flag:
        # JSON lists are stored as text on SQLite and json on PostgreSQL: compare as text.
        parts.append(_json_list_contains(Order.risk_flags, f.risk_flag))
    if f.customs_status is not None:
        parts.append(Order.customs_status == f.customs_status)
    return and_(true(), *parts)


# Each argument → the Order field it tests (its category is that field's).
_ORDER_FILTER_FIELDS = {
    "trade_mode": ("filter.tradeMode", "trade_mode"),
    "direction": ("filter.direction", "direction"),
    "date_from": ("filter.dateFrom", "app_time"),
    "date_to": ("filter.dateTo", "app_time"),
    "match_status": ("filter.matchStatus", "matching"),
    "risk_flag": ("filter.riskFlag", "risk_flags"),
    "customs_status": ("filter.customsStatus", "customs_status"),
    "include_cancelled": ("filter.includeCancelled", "status"),
}
# `enterprise` tests the column of its role: the platform's and seller's codes are
# registration data, the payment institution's is the order's (cbec.order /payCode).
_ROLE_FIELDS = {
    PartyRole.PLATFORM: "ebp_code",
    PartyRole.SELLER: "ebc_code",
    PartyRole.PAYMENT: "pay_code",
}


def _role_use(role: PartyRole) -> Use:
    return Use.on(f"filter.role: {role.value}", types.Order, _ROLE_FIELDS[role])


def order_filter_uses(f: OrderFilter | None) -> list[Use]:
    """What the filter looks at, apart from `enterprise` without a role (see below)."""
    if f is None:
        return []
    uses = []
    for name, (argument, field) in _ORDER_FILTER_FIELDS.items():
        value = getattr(f, name)
        if value is not None and value is not False and value != "":
            uses.append(Use.on(argument, types.Order, field))
    if f.enterprise and f.role:
        uses.append(_role_use(f.role))
    return uses


def order_filter_check(f: OrderFilter | None, viewer: Viewer) -> RowCheck | None:
    """Refuses (FORBIDDEN) a filter on a category the caller reads of no order; returns
    the check an order must pass to be listed (None: every visible order passes).

    `enterprise` without a role matches any role; an order then counts only when the
    enterprise holds a role on it whose column the caller may read (a market supervisor
    finds the orders of a platform or seller, never those a bank merely pays)."""
    uses = order_filter_uses(f)
    any_role = f is not None and bool(f.enterprise) and f.role is None
    if any_role:
        # At least one role must be testable at all: the platform's and seller's codes.
        require_readable([_role_use(PartyRole.PLATFORM)], readable_anywhere(viewer))
    require_readable(uses, readable_anywhere(viewer))
    if not uses and not any_role:
        return None
    role_uses = {role: _role_use(role) for role in PartyRole}

    def passes(grant: Grant, row: models.Order) -> bool:
        if not grant_covers(grant, uses):
            return False
        if any_role:
            assert f is not None
            return any(
                getattr(row, _ROLE_FIELDS[role]) == f.enterprise
                and grant_covers(grant, [role_uses[role]])
                for role in PartyRole
            )
        return True

    return passes


@strawberry.input(description="Narrow a list of enterprises.")
class EnterpriseFilter:
    role: str | None = strawberry.field(
        default=None, description="ebp, ebc, logistics, payment, agent, warehouse, guarantor."
    )
    city: str | None = None
    division: str | None = strawberry.field(
        default=None, description="A USCC division code or its prefix (e.g. 3203 Xuzhou)."
    )
    credit_class: str | None = None
    name_contains: str | None = None


def enterprise_conditions(f: EnterpriseFilter | None) -> ColumnElement[bool]:
    """SQL conditions on `enterprises` for a filter."""
    if f is None:
        return true()
    parts: list[Any] = []
    if f.role:
        parts.append(_json_list_contains(Enterprise.roles, f.role))
    if f.city:
        parts.append(Enterprise.city == f.city)
    if f.division:
        parts.append(Enterprise.division.like(f"{f.division}%"))
    if f.credit_class:
        parts.append(Enterprise.credit_class == f.credit_class)
    if f.name_contains:
        parts.append(Enterprise.name.contains(f.name_contains, autoescape=True))
    return and_(true(), *parts)


_ENTERPRISE_FILTER_FIELDS = {
    "role": ("filter.role", "roles"),
    "city": ("filter.city", "region"),
    "division": ("filter.division", "region"),
    "credit_class": ("filter.creditClass", "credit_class"),
    "name_contains": ("filter.nameContains", "name"),
}


def enterprise_filter_check(f: EnterpriseFilter | None, viewer: Viewer) -> RowCheck | None:
    """Refuses a filter on a category the caller reads of no enterprise; returns the check
    an enterprise must pass to be listed (None: every visible enterprise passes)."""
    if f is None:
        return None
    from hub.graphql.trade.enterprise import Enterprise as EnterpriseNode

    uses = [
        Use.on(argument, EnterpriseNode, field)
        for name, (argument, field) in _ENTERPRISE_FILTER_FIELDS.items()
        if getattr(f, name)
    ]
    require_readable(uses, readable_anywhere(viewer))
    if not uses:
        return None
    return lambda grant, _row: grant_covers(grant, uses)
