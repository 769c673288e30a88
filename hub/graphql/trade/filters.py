"""Filters of the order and enterprise lists, turned into SQL."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, String, and_, cast, or_, true

from hub.trade.matching import MatchStatus
from hub.trade.models import Enterprise, Order


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
