"""The `statistics` and `forexTotals` queries: aggregates computed in SQL by `hub.stats`.

Who may read them:
- `statistics`: departments (customs, tax, forex, market supervision) and supervisors
  (audit:read); an enterprise client (declare) reads its own enterprise's only; banks
  (finance:read) are refused: their consents name enterprises, never aggregates.
- `forexTotals`: forex:read or customs:read; an enterprise client for itself.
Aggregates hold no personal record, so nothing is added to the access log's record list;
the enterprises a result names are noted, so "who read my data" shows aggregate reads too.

What a caller may aggregate follows the category table: grouping or filtering by a field
needs its category (`groupBy: MONTH` reads appTime, order data: refused to market
supervision, FORBIDDEN naming it, before anything is computed); a measure the caller may not
read (totalValueCny is order money) is not summed and resolves to null with FORBIDDEN. A
supervisor (audit:read) reads no category: ungrouped, unfiltered order counts only. Small
cells are suppressed for every reader but customs (`hub.stats.suppression`).
"""

from __future__ import annotations

import strawberry

from hub.access.policy import Category, Grant
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.graphql.conditions import Use, field_category, readable_anywhere, require_readable
from hub.graphql.context import BadInput, Forbidden, Info
from hub.graphql.scalars import Decimal
from hub.graphql.trade import types
from hub.graphql.trade.fields import guarded
from hub.graphql.trade.types import MatchStatusEnum
from hub.stats import service
from hub.stats.rates import CURRENCY_NAMES, configured_rates
from hub.stats.service import BusinessType, Dimension, Direction, ForexBand

STATISTICS_READERS = (
    Scope.CUSTOMS_READ,
    Scope.TAX_READ,
    Scope.FOREX_READ,
    Scope.MARKET_READ,
    Scope.AUDIT_READ,
)
FOREX_READERS = (Scope.FOREX_READ, Scope.CUSTOMS_READ)

strawberry.enum(Dimension, name="StatisticsDimension", description="What to group orders by.")
strawberry.enum(BusinessType, name="BusinessType", description="B2B (order types B, W) or B2C.")
strawberry.enum(Direction, name="TradeDirection", description="I import, E export.")
strawberry.enum(
    ForexBand,
    name="ForexBand",
    description="Yearly USD receipts or payments against SAFE's threshold: BELOW up to "
    f"{service.WATCH_ABOVE_USD:,}, WATCH above {service.WATCH_ABOVE_USD:,} up to "
    f"{service.OVER_ABOVE_USD:,} (early warning), OVER above {service.OVER_ABOVE_USD:,} "
    "(must register with SAFE within a month).",
)


@strawberry.input(name="StatisticsFilter", description="Which orders to count (cancelled never).")
class StatisticsFilterInput:
    month_from: str | None = strawberry.field(default=None, description="YYYY-MM, inclusive.")
    month_to: str | None = strawberry.field(default=None, description="YYYY-MM, inclusive.")
    direction: Direction | None = None
    trade_mode: str | None = strawberry.field(default=None, description="e.g. 9610, 1210.")
    enterprise: str | None = strawberry.field(
        default=None, description="Orders of this platform (ebpCode) or seller (ebcCode)."
    )
    match_status: MatchStatusEnum | None = None


@strawberry.type(
    description="One group of orders: its key and its measures. A group of fewer orders "
    "than the minimum group size (HUB_STATS_MIN_GROUP) is suppressed for every reader but "
    "customs, and so are the cells that would let it be computed back from the others: "
    "`suppressed` is true and every measure null."
)
class StatisticsGroup:
    grant: strawberry.Private[Grant]
    group: strawberry.Private[service.StatisticsGroup]

    @strawberry.field(description="Null unless grouped by TRADE_MODE.")
    def trade_mode(self) -> str | None:
        return self.group.trade_mode

    @strawberry.field
    def direction(self) -> Direction | None:
        return self.group.direction

    @strawberry.field
    def business_type(self) -> BusinessType | None:
        return self.group.business_type

    @strawberry.field(description="YYYY-MM.")
    def month(self) -> str | None:
        return self.group.month

    @strawberry.field(
        description="The platform's city division (4 digits of its USCC); null for customs "
        "codes, which carry no division."
    )
    def region_code(self) -> str | None:
        return self.group.region_code

    @strawberry.field(description="The city name, where known.")
    def region(self) -> str | None:
        return self.group.region

    @strawberry.field(description="The platform (ebpCode).")
    def enterprise_code(self) -> str | None:
        return self.group.enterprise_code

    @strawberry.field(
        description="Its registered name, where you may read that enterprise's registration "
        "data (departments; an enterprise its own)."
    )
    async def enterprise_name(self, info: Info) -> str | None:
        code = self.group.enterprise_code
        if code is None:
            return None
        # The platform's name is its registration data: an enterprise reading its own
        # statistics learns its platforms' codes from its orders, not their filings.
        grant = (await info.context.viewer()).grant_for_enterprise(code)
        if grant is None or not grant.allows(Category.REGISTRATION):
            return None
        return self.group.enterprise_name

    @strawberry.field(description="True when the cell is suppressed: its measures are null.")
    def suppressed(self) -> bool:
        return self.group.suppressed

    @strawberry.field(description="Orders in the group (null when suppressed).")
    def order_count(self) -> int | None:
        return self.group.order_count

    @guarded(
        field_category(types.Order, "goods_value"),
        description="Goods value converted to CNY at the configured rates, rounded to cents.",
    )
    def total_value_cny(self) -> Decimal | None:
        value = self.group.total_value_cny
        return None if value is None else Decimal(value)

    @guarded(
        field_category(types.Order, "matching"),
        description="Orders whose three documents match.",
    )
    def matched_count(self) -> int | None:
        return self.group.matched_count

    @guarded(
        field_category(types.Order, "currency"),
        description="Orders in a currency the rate table lacks: not in totalValueCny.",
    )
    def unconverted_count(self) -> int | None:
        return self.group.unconverted_count


@strawberry.type(description="A conversion rate in force (configuration: HUB_FX_RATES).")
class ExchangeRate:
    currency: str = strawberry.field(description="Customs currency code, e.g. 502.")
    name: str | None = strawberry.field(description="ISO code, e.g. USD.")
    cny_per_unit: Decimal


@strawberry.type(description="Statistics of orders, grouped as asked.")
class StatisticsResult:
    group_by: list[Dimension]
    groups: list[StatisticsGroup]
    rates: list[ExchangeRate] = strawberry.field(description="The rates the totals used.")


@strawberry.type(description="One seller's yearly receipts and payments in USD.")
class ForexTotal:
    enterprise_code: str = strawberry.field(description="The seller (ebcCode).")
    enterprise_name: str | None
    year: int
    receipts_usd: Decimal = strawberry.field(description="Export receipts, in USD.")
    payments_usd: Decimal = strawberry.field(description="Import payments, in USD.")
    band: ForexBand = strawberry.field(description="Of the larger of receipts and payments.")
    unconverted_count: int = strawberry.field(
        description="Receipts/payments in a currency the rate table lacks: not in the totals."
    )

    @classmethod
    def of(cls, total: service.ForexTotal) -> ForexTotal:
        """From the service's total."""
        return cls(
            enterprise_code=total.enterprise_code,
            enterprise_name=total.enterprise_name,
            year=total.year,
            receipts_usd=Decimal(total.receipts_usd),
            payments_usd=Decimal(total.payments_usd),
            band=total.band,
            unconverted_count=total.unconverted_count,
        )


def _scoped_enterprise(
    principal: Principal, requested: str | None, readers: tuple[Scope, ...], what: str
) -> str | None:
    """The enterprise filter the caller may use: its own for enterprise clients."""
    if any(principal.has(scope) for scope in readers):
        return requested
    own = principal.enterprise_code
    if own and principal.has(Scope.DECLARE):
        if requested is not None and requested != own:
            raise Forbidden(f"an enterprise client reads {what} of its own enterprise only")
        return own
    scopes = ", ".join(scope.value for scope in readers)
    raise Forbidden(f"{what} need one of the scopes {scopes}, or an enterprise client")


# What each dimension and filter looks at: the Order field it reads (hence its category).
_DIMENSION_FIELDS = {
    Dimension.TRADE_MODE: "trade_mode",
    Dimension.DIRECTION: "direction",
    Dimension.BUSINESS_TYPE: "order_type",
    Dimension.MONTH: "app_time",
    Dimension.REGION: "ebp_code",
    Dimension.ENTERPRISE: "ebp_code",
}
_FILTER_FIELDS = {
    "month_from": ("filter.monthFrom", "app_time"),
    "month_to": ("filter.monthTo", "app_time"),
    "direction": ("filter.direction", "direction"),
    "trade_mode": ("filter.tradeMode", "trade_mode"),
    "enterprise": ("filter.enterprise", "ebp_code"),  # the platform or the seller
    "match_status": ("filter.matchStatus", "matching"),
}


def statistics_uses(group_by: list[Dimension], given: StatisticsFilterInput) -> list[Use]:
    """What a statistics query groups and filters by, with the categories of those fields."""
    uses = [
        Use.on(f"groupBy: {d.value}", types.Order, _DIMENSION_FIELDS[Dimension(d)])
        for d in dict.fromkeys(group_by)
    ]
    for name, (argument, field) in _FILTER_FIELDS.items():
        if getattr(given, name) is not None:
            uses.append(Use.on(argument, types.Order, field))
    return uses


@strawberry.type
class StatsQuery:
    @strawberry.field(
        description="Order counts, CNY totals and matched counts per group, computed in the "
        "database. Readable with customs:read, tax:read, forex:read, market:read, audit:read; "
        "an enterprise client sees its own enterprise's orders only; banks are refused."
    )
    async def statistics(
        self,
        info: Info,
        group_by: list[Dimension],
        filter: StatisticsFilterInput | None = None,  # the contract names it `filter`
    ) -> StatisticsResult:
        given = filter or StatisticsFilterInput()
        principal = info.context.principal
        enterprise = _scoped_enterprise(
            principal, given.enterprise, STATISTICS_READERS, "statistics"
        )
        readable = readable_anywhere(await info.context.viewer())
        require_readable(statistics_uses(group_by, given), readable)
        grant = Grant(readable, personal_in_clear=False)
        try:
            where = service.StatisticsFilter(
                month_from=given.month_from,
                month_to=given.month_to,
                direction=given.direction,
                trade_mode=given.trade_mode,
                enterprise=enterprise,
                match_status=given.match_status.value if given.match_status else None,
            )
        except service.InvalidFilter as exc:
            raise BadInput(str(exc)) from exc
        rates = configured_rates()
        groups = await service.statistics(
            session=info.context.read_session,
            group_by=group_by,
            where=where,
            rates=rates,
            values=grant.allows(field_category(types.Order, "goods_value")),
            matches=grant.allows(field_category(types.Order, "matching")),
        )
        if not principal.has(Scope.CUSTOMS_READ):
            # Customs reads every order anyway; every other reader gets no small cell.
            groups = service.suppress_small(
                groups,
                group_by=group_by,
                min_group=info.context.runtime.settings.stats_min_group,
            )
        named = [g.enterprise_code for g in groups if g.enterprise_code]
        info.context.audit.touch(enterprises=[*named, *([enterprise] if enterprise else [])])
        return StatisticsResult(
            group_by=list(dict.fromkeys(group_by)),
            groups=[StatisticsGroup(grant=grant, group=g) for g in groups],
            rates=[
                ExchangeRate(currency=code, name=CURRENCY_NAMES.get(code), cny_per_unit=rate)
                for code, rate in sorted(rates.cny_per_unit.items())
            ],
        )

    @strawberry.field(
        description="Per seller, the year's receipts (export) and payments (import) in USD "
        "with the SAFE band. Readable with forex:read or customs:read; an enterprise client "
        "reads its own."
    )
    async def forex_totals(
        self, info: Info, year: int, enterprise: str | None = None
    ) -> list[ForexTotal]:
        if not 1900 <= year <= 9999:
            raise BadInput(f"year {year} is out of range")
        code = _scoped_enterprise(info.context.principal, enterprise, FOREX_READERS, "forex totals")
        totals = await service.forex_totals(
            session=info.context.read_session, year=year, rates=configured_rates(), enterprise=code
        )
        info.context.audit.touch(enterprises=[t.enterprise_code for t in totals])
        return [ForexTotal.of(t) for t in totals]
