"""Per-request DataLoaders, named <Target>By<Key>Loader: one statement per kind per request."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from strawberry.dataloader import DataLoader

from hub.access import authority
from hub.db import pair_in
from hub.declarations.models import Declaration
from hub.trade import models

RecordRef = tuple[str, str]  # (standard_id, record_key)
OrderKey = tuple[str, str]  # (ebp_code, order_no)
SessionSource = Callable[[], AsyncSession]
T = TypeVar("T")
_ACTIVE = "ACTIVE"


class ProvenanceByRecordLoader(DataLoader[RecordRef, list[Declaration]]):
    """Declarations of records, oldest first, batched over (standard_id, record_key)."""

    def __init__(self, session: SessionSource):
        super().__init__(load_fn=self._load)
        self._session = session

    async def _load(self, keys: Sequence[RecordRef]) -> list[list[Declaration]]:
        found: dict[RecordRef, list[Declaration]] = defaultdict(list)
        rows = await self._session().scalars(
            select(Declaration)
            .where(pair_in(Declaration.standard_id, Declaration.record_key, list(set(keys))))
            .order_by(Declaration.chain_index)
        )
        for row in rows:
            found[(row.standard_id, row.record_key)].append(row)
        return [found[k] for k in keys]


class OrderByKeyLoader(DataLoader[OrderKey, models.Order | None]):
    """Orders by (ebpCode, orderNo), cancelled ones included."""

    def __init__(self, session: SessionSource):
        super().__init__(load_fn=self._load)
        self._session = session

    async def _load(self, keys: Sequence[OrderKey]) -> list[models.Order | None]:
        rows = await self._session().scalars(
            select(models.Order).where(
                pair_in(models.Order.ebp_code, models.Order.order_no, list(set(keys)))
            )
        )
        found = {(r.ebp_code, r.order_no): r for r in rows}
        return [found.get(k) for k in keys]


_GROUP_MODELS: dict[str, Any] = {
    "cbec.payment": models.Payment,
    "cbec.receipt": models.Receipt,
    "cbec.waybill": models.Waybill,
    "cbec.inventory": models.Inventory,
}


class GroupByOrderLoader(DataLoader[OrderKey, dict[str, Any]]):
    """The documents each order links (payment, receipt, waybill, inventory), chosen by
    the authority table among the active ones naming the order: one statement per kind."""

    def __init__(self, session: SessionSource, orders: OrderByKeyLoader):
        super().__init__(load_fn=self._load)
        self._session = session
        self._orders = orders

    async def _load(self, keys: Sequence[OrderKey]) -> list[dict[str, Any]]:
        wanted = list(set(keys))
        orders = dict(zip(wanted, await self._orders.load_many(wanted), strict=True))
        candidates: dict[OrderKey, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for standard_id, model in _GROUP_MODELS.items():
            rows = await self._session().scalars(
                select(model)
                .where(pair_in(model.ebp_code, model.order_no, wanted), model.status == _ACTIVE)
                .order_by(model.id)
            )
            for row in rows:
                candidates[(row.ebp_code, row.order_no)][standard_id].append(row)
        chosen: dict[OrderKey, dict[str, Any]] = {}
        for key in wanted:
            order = orders.get(key)
            chosen[key] = (
                authority.choose_group(order.payload, candidates.get(key, {}))
                if order is not None
                else {}
            )
        return [chosen[k] for k in keys]


class _LinkedByOrderLoader(DataLoader[OrderKey, T | None], Generic[T]):
    """The document of one kind an order links (see GroupByOrderLoader)."""

    standard_id = ""

    def __init__(self, group: GroupByOrderLoader):
        super().__init__(load_fn=self._load)
        self._group = group

    async def _load(self, keys: Sequence[OrderKey]) -> list[T | None]:
        return [g.get(self.standard_id) for g in await self._group.load_many(list(keys))]


class PaymentByOrderLoader(_LinkedByOrderLoader[models.Payment]):
    """The payment of each order: one whose payCode and transaction the order names."""

    standard_id = "cbec.payment"


class ReceiptByOrderLoader(_LinkedByOrderLoader[models.Receipt]):
    """The export receipt of each order."""

    standard_id = "cbec.receipt"


class WaybillByOrderLoader(_LinkedByOrderLoader[models.Waybill]):
    """The waybill of each order: the one its inventory names, else the first declared."""

    standard_id = "cbec.waybill"


class InventoryByOrderLoader(_LinkedByOrderLoader[models.Inventory]):
    """The inventory of each order (naming the order's seller)."""

    standard_id = "cbec.inventory"


class _ByWaybillLoader(DataLoader[tuple[str, str], list[T]], Generic[T]):
    """Active rows naming waybills, by (logisticsCode, logisticsNo), in `order` order."""

    model: ClassVar[Any]
    order: ClassVar[str]

    def __init__(self, session: SessionSource):
        super().__init__(load_fn=self._load)
        self._session = session

    async def _load(self, keys: Sequence[tuple[str, str]]) -> list[list[T]]:
        model = self.model
        rows = await self._session().scalars(
            select(model)
            .where(
                pair_in(model.logistics_code, model.logistics_no, list(set(keys))),
                model.status == _ACTIVE,
            )
            .order_by(getattr(model, self.order), model.id)
        )
        found: dict[tuple[str, str], list[T]] = defaultdict(list)
        for row in rows:
            found[(row.logistics_code, row.logistics_no)].append(row)
        return [found[k] for k in keys]


class MilestonesByWaybillLoader(_ByWaybillLoader[models.WaybillEvent]):
    """Active milestones of waybills, oldest first."""

    model = models.WaybillEvent
    order = "status_time"


class PassagesByWaybillLoader(_ByWaybillLoader[models.WaybillPassage]):
    """Active arrival (507) and departure (509) listings of waybills, in the order they
    passed."""

    model = models.WaybillPassage
    order = "passed_at"


class CustomsStatusesByOrderLoader(DataLoader[OrderKey, list[models.CustomsStatusEvent]]):
    """Active customs receipts of orders' inventories, oldest first."""

    def __init__(self, session: SessionSource):
        super().__init__(load_fn=self._load)
        self._session = session

    async def _load(self, keys: Sequence[OrderKey]) -> list[list[models.CustomsStatusEvent]]:
        event = models.CustomsStatusEvent
        rows = await self._session().scalars(
            select(event)
            .where(
                pair_in(event.ebp_code, event.order_no, list(set(keys))), event.status == _ACTIVE
            )
            .order_by(event.return_time, event.id)
        )
        found: dict[OrderKey, list[models.CustomsStatusEvent]] = defaultdict(list)
        for row in rows:
            found[(row.ebp_code, row.order_no)].append(row)
        return [found[k] for k in keys]


class EnterpriseByCodeLoader(DataLoader[str, models.Enterprise | None]):
    """Enterprises by USCC or customs code."""

    def __init__(self, session: SessionSource):
        super().__init__(load_fn=self._load)
        self._session = session

    async def _load(self, keys: Sequence[str]) -> list[models.Enterprise | None]:
        rows = await self._session().scalars(
            select(models.Enterprise).where(models.Enterprise.code.in_(list(set(keys))))
        )
        found = {r.code: r for r in rows}
        return [found.get(k) for k in keys]


@dataclass(frozen=True)
class Page:
    """One page of an enterprise's nodes; equal pages of different enterprises batch."""

    filter_key: tuple[Any, ...]
    size: int
    after: int | None
    conditions: Any = field(compare=False, hash=False)
    before: int | None = None
    backward: bool = False  # the last `size` rows of the range, fetched last first


class PagesByOwnerLoader(DataLoader[tuple[str, Page], list[Any]]):
    """Pages of one kind of node per enterprise in one statement: a window function
    numbers each enterprise's rows, so 500 enterprises cost one query, not 500."""

    def __init__(self, session: SessionSource, model: Any, owners: tuple[Any, ...]):
        super().__init__(load_fn=self._load)
        self._session = session
        self._model = model
        self._owners = owners  # SQL expressions naming the enterprises whose list shows a row

    async def _load(self, keys: Sequence[tuple[str, Page]]) -> list[list[Any]]:
        model = self._model
        by_page: dict[Page, list[str]] = defaultdict(list)
        for code, page in keys:
            by_page[page].append(code)
        found: dict[tuple[str, Page], list[Any]] = defaultdict(list)
        for page, codes in by_page.items():
            owner = models.Enterprise.code
            order = operator.methodcaller("desc" if page.backward else "asc")
            ranked = (
                select(
                    model.id.label("node_id"),
                    owner.label("owner"),
                    func.row_number()
                    .over(partition_by=owner, order_by=order(model.id))
                    .label("rn"),
                )
                .join(models.Enterprise, or_(*(named == owner for named in self._owners)))
                .where(owner.in_(codes), page.conditions)
            )
            if page.after is not None:
                ranked = ranked.where(model.id > page.after)
            if page.before is not None:
                ranked = ranked.where(model.id < page.before)
            sub = ranked.subquery()
            node = aliased(model)
            rows = await self._session().execute(
                select(node, sub.c.owner)
                .join(sub, sub.c.node_id == node.id)
                .where(sub.c.rn <= page.size + 1)
                .order_by(sub.c.owner, order(node.id))
            )
            for row, code in rows:
                found[(code, page)].append(row)
        return [found[k] for k in keys]


@dataclass
class Loaders:
    """The request's loaders, sharing the request's read session."""

    provenance_by_record: ProvenanceByRecordLoader
    order_by_key: OrderByKeyLoader
    group_by_order: GroupByOrderLoader
    payment_by_order: PaymentByOrderLoader
    receipt_by_order: ReceiptByOrderLoader
    waybill_by_order: WaybillByOrderLoader
    inventory_by_order: InventoryByOrderLoader
    milestones_by_waybill: MilestonesByWaybillLoader
    passages_by_waybill: PassagesByWaybillLoader
    customs_statuses_by_order: CustomsStatusesByOrderLoader
    enterprise_by_code: EnterpriseByCodeLoader
    orders_by_enterprise: PagesByOwnerLoader
    payments_by_enterprise: PagesByOwnerLoader
    receipts_by_enterprise: PagesByOwnerLoader
    waybills_by_enterprise: PagesByOwnerLoader
    inventories_by_enterprise: PagesByOwnerLoader

    @classmethod
    def create(cls, session: SessionSource) -> Loaders:
        """Fresh loaders for one request."""
        orders = OrderByKeyLoader(session)
        group = GroupByOrderLoader(session, orders)
        return cls(
            provenance_by_record=ProvenanceByRecordLoader(session),
            order_by_key=orders,
            group_by_order=group,
            payment_by_order=PaymentByOrderLoader(group),
            receipt_by_order=ReceiptByOrderLoader(group),
            waybill_by_order=WaybillByOrderLoader(group),
            inventory_by_order=InventoryByOrderLoader(group),
            milestones_by_waybill=MilestonesByWaybillLoader(session),
            passages_by_waybill=PassagesByWaybillLoader(session),
            customs_statuses_by_order=CustomsStatusesByOrderLoader(session),
            enterprise_by_code=EnterpriseByCodeLoader(session),
            # An enterprise's orders: those the order row names it on (platform, seller,
            # payment institution); a carrier finds its orders through its waybills.
            orders_by_enterprise=PagesByOwnerLoader(
                session, models.Order, authority.owner_expressions("cbec.order", models.Order)
            ),
            payments_by_enterprise=PagesByOwnerLoader(
                session, models.Payment, authority.owner_expressions("cbec.payment", models.Payment)
            ),
            receipts_by_enterprise=PagesByOwnerLoader(
                session, models.Receipt, authority.owner_expressions("cbec.receipt", models.Receipt)
            ),
            waybills_by_enterprise=PagesByOwnerLoader(
                session, models.Waybill, authority.owner_expressions("cbec.waybill", models.Waybill)
            ),
            inventories_by_enterprise=PagesByOwnerLoader(
                session,
                models.Inventory,
                authority.owner_expressions("cbec.inventory", models.Inventory),
            ),
        )
