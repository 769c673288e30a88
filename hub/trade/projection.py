"""Projection of accepted declarations into the trade graph, then re-matching the orders.

Runs inside the declaring transaction. Work is set-based (a few statements per batch, not
per record) because batches of hundreds of records are the normal case.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, case, func, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access import authority
from hub.access.authority import PLACEHOLDER_CODES, record_type
from hub.access.policy import Category
from hub.db import Base, pair_in
from hub.events import outbox
from hub.standards.categories import shipped_category
from hub.trade import customs_links, quota
from hub.trade.limits import Standing, applies_retail_limits, full_tax_applies, limit_value
from hub.trade.matching import match_order
from hub.trade.models import (
    CustomsStatusEvent,
    Enterprise,
    Inventory,
    InventoryRequest,
    Order,
    Payment,
    Receipt,
    Summary,
    TaxBill,
    Waybill,
    WaybillEvent,
)
from hub.trade.regions import region_of
from hub.trade.returns import returned_value
from hub.trade.rules_config import RuleConfig
from hub.trade.tax import TaxBasis, import_tax

ACTIVE = "ACTIVE"
CANCELLED = "CANCELLED"
TAX_MISMATCH = "TAX_MISMATCH"
# The tax customs assessed (816) is not the hub's estimate (beyond tax_tolerance_cny).
TAX_ASSESSED_DIFFERS = "TAX_ASSESSED_DIFFERS"
_CHUNK = 400

OrderKey = tuple[str, str]


@dataclass(frozen=True)
class Accepted:
    """A newly accepted declaration to project."""

    standard_id: str
    payload: Mapping[str, Any]
    app_type: str
    record_key: str
    declaration_id: str
    major: int = 1


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _insert(session: AsyncSession, model: Any) -> Any:
    # A Core insert on the table: one executemany for all rows. The ORM's bulk path splits
    # rows by which values are None, which made hundreds of small statements per batch.
    table = model.__table__
    return pg_insert(table) if _dialect(session) == "postgresql" else sqlite_insert(table)


def _money(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _collapse(records: list[Accepted]) -> list[tuple[Accepted, int]]:
    """Last declaration per record key, with how many declarations of it the batch holds."""
    last: dict[str, Accepted] = {}
    count: dict[str, int] = defaultdict(int)
    for record in records:
        last[record.record_key] = record
        count[record.record_key] += 1
    return [(record, count[key]) for key, record in last.items()]


def _node(record: Accepted, count: int, now: datetime) -> dict[str, Any]:
    return {
        "record_key": record.record_key,
        "status": CANCELLED if record.app_type == "3" else ACTIVE,
        "version": count,
        "payload": dict(record.payload),
        "declaration_id": record.declaration_id,
        "updated_at": now,
    }


def _order_row(p: Mapping[str, Any]) -> dict[str, Any]:
    app_time = str(p.get("appTime", "00000000000000"))
    return {
        "ebp_code": p["ebpCode"],
        "order_no": p["orderNo"],
        "ebc_code": p["ebcCode"],
        "pay_code": p.get("payCode"),
        "direction": "I" if p.get("orderType") == "I" else "E",
        "order_type": p.get("orderType", "I"),
        "trade_mode": p.get("tradeMode"),
        "currency": p.get("currency", "142"),
        "goods_value": _money(p.get("goodsValue")) or Decimal(0),
        "actural_paid": _money(p.get("acturalPaid")),
        "tax_total": _money(p.get("taxTotal")),
        "buyer_id_number": p.get("buyerIdNumber"),
        "app_time": app_time,
        "order_year": int(app_time[:4]),
        "order_month": f"{app_time[:4]}-{app_time[4:6]}",
        "match_status": "INCOMPLETE",
        "match_missing": [],
        "match_discrepancies": [],
        "risk_flags": [],
    }


def _payment_row(p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "pay_code": p["payCode"],
        "pay_transaction_id": p["payTransactionId"],
        "ebp_code": p["ebpCode"],
        "order_no": p["orderNo"],
        "amount_paid": _money(p.get("amountPaid")) or Decimal(0),
        "currency": p.get("currency", "142"),
        "pay_time": p.get("payTime", ""),
    }


def _receipt_row(p: Mapping[str, Any]) -> dict[str, Any]:
    # CEB403 (2.0.0) makes payCode and payNo optional.
    return {
        "pay_code": p.get("payCode") or "",
        "pay_no": p.get("payNo") or "",
        "ebp_code": p["ebpCode"],
        "order_no": p["orderNo"],
        "charge": _money(p.get("charge")) or Decimal(0),
        "currency": p.get("currency", "142"),
        "accounting_date": p.get("accountingDate", ""),
    }


def _waybill_row(p: Mapping[str, Any]) -> dict[str, Any]:
    # A 2.0.0 waybill names no platform (CEB511) or no order at all (CEB505): its
    # inventory links it later (`_link_waybills`).
    return {
        "logistics_code": p["logisticsCode"],
        "logistics_no": p["logisticsNo"],
        "ebp_code": p.get("ebpCode") or "",
        "order_no": p.get("orderNo") or "",
        "ie_flag": p.get("ieFlag", "I"),
    }


def _inventory_row(p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ebp_code": p["ebpCode"],
        "order_no": p["orderNo"],
        "ebc_code": p["ebcCode"],
        "agent_code": p["agentCode"],
        "logistics_code": p["logisticsCode"],
        "logistics_no": p["logisticsNo"],
        "ie_flag": p.get("ieFlag", "I"),
        "trade_mode": p["tradeMode"],
        "customs_code": p["customsCode"],
        "cop_no": p.get("copNo") or None,
    }


_NODES: dict[str, tuple[type[Base], Any]] = {
    "order": (Order, lambda _, p: _order_row(p)),
    "payment": (Payment, lambda _, p: _payment_row(p)),
    "receipt": (Receipt, lambda _, p: _receipt_row(p)),
    "waybill": (Waybill, lambda _, p: _waybill_row(p)),
    "inventory": (Inventory, lambda _, p: _inventory_row(p)),
    "inventory_request": (InventoryRequest, customs_links.request_row),
    "tax_bill": (TaxBill, lambda _, p: customs_links.tax_bill_row(p)),
    "summary": (Summary, customs_links.summary_row),
}
# Tables holding records of two standards: their node keys name the standard, so that a
# 623 and a 625 (or a 701 and a 792) with equal key values stay two nodes.
_SHARED_NODES = frozenset({"inventory_request", "summary", "passage"})


def node_key(record: Accepted, node: str) -> str:
    """The record's key in its graph table."""
    if node in _SHARED_NODES:
        return f"{record.standard_id}:{record.record_key}"
    return record.record_key


# Columns an upsert must not overwrite: match results are recomputed separately.
_KEEP_ON_UPDATE = {"id", "record_key", "match_status", "match_missing", "match_discrepancies"}
_KEEP_ON_UPDATE |= {"risk_flags", "customs_status", "customs_status_time", "last_milestone"}
_KEEP_ON_UPDATE |= {"last_milestone_time", "tax_computed", "limit_value"}
# Set by links, not by the record's own payload (hub.trade.customs_links).
_KEEP_ON_UPDATE |= {"invt_no", "entry_id", "sum_no", "requests", "tax_bill", "tax_assessed"}
_KEEP_ON_UPDATE |= {"arrival", "departure"}


async def _upsert_nodes(
    session: AsyncSession, node: str, records: list[Accepted], now: datetime
) -> None:
    model, row_of = _NODES[node]
    table = model.__table__
    rows = [
        {**_node(r, n, now), "record_key": node_key(r, node), **row_of(r.standard_id, r.payload)}
        for r, n in _collapse(records)
    ]
    for chunk in _chunks(rows):
        statement = _insert(session, model)
        columns = [c for c in chunk[0] if c not in _KEEP_ON_UPDATE]
        updates = {c: statement.excluded[c] for c in columns}
        updates["version"] = table.c.version + statement.excluded.version
        await session.execute(
            statement.on_conflict_do_update(index_elements=["record_key"], set_=updates), chunk
        )


_STUB_ROLES = {
    "ebpCode": ("ebpName", "ebp"),
    "ebcCode": ("ebcName", "ebc"),
    "payCode": ("payName", "payment"),
    "logisticsCode": ("logisticsName", "logistics"),
    "agentCode": ("agentName", "agent"),
    "assureCode": (None, "guarantor"),
    "ownerCode": (None, "ebc"),
}


def _enterprise_fields(code: str) -> dict[str, Any]:
    region = region_of(code=code)
    return {
        "division": region.division if region else None,
        "city": region.city if region else None,
        "district": region.district if region else None,
    }


def _registration(standard_id: str, field_name: str) -> bool:
    """True when the standard annotates the field as registration data."""
    try:
        return shipped_category(standard_id, f"/{field_name}") is Category.REGISTRATION
    except LookupError:
        return False


async def _upsert_enterprises(
    session: AsyncSession, records: list[Accepted], now: datetime
) -> None:
    filings = [(r, n) for r, n in _collapse(records) if r.standard_id == "cbec.enterprise"]
    if filings:
        rows = [
            {
                "code": r.payload["code"],
                "name": r.payload["name"],
                "customs_code": r.payload.get("customsCode"),
                "roles": list(r.payload.get("roles", [])),
                "credit_class": r.payload.get("creditClass"),
                "filed": True,
                "record_key": r.record_key,
                "declaration_id": r.declaration_id,
                "updated_at": now,
                **_enterprise_fields(r.payload["code"]),
            }
            for r, _ in filings
        ]
        statement = _insert(session, Enterprise)
        columns = [c for c in rows[0] if c != "code"]
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["code"], set_={c: statement.excluded[c] for c in columns}
            ),
            rows,
        )
    # Parties named in other records become known enterprises (not overwriting filings).
    stubs: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.standard_id == "cbec.enterprise":
            continue
        for field_name, (name_field, role) in _STUB_ROLES.items():
            code = record.payload.get(field_name)
            if not code or code in stubs or code in PLACEHOLDER_CODES:
                continue
            name = record.payload.get(name_field) if name_field else None
            if name_field and not _registration(record.standard_id, name_field):
                # An enterprise's name is registration data; a name only an order, a waybill
                # or an inventory states is data of that record's category (payName is
                # order data): showing it on the enterprise node would hand it to readers
                # of registration only (market supervision).
                name = None
            stubs[code] = {
                "code": code,
                "name": name or code,
                "customs_code": None,
                "roles": [role],
                "credit_class": None,
                "filed": False,
                "record_key": code,
                "declaration_id": None,
                "updated_at": now,
                **_enterprise_fields(code),
            }
    if stubs:
        statement = _insert(session, Enterprise)
        await session.execute(
            statement.on_conflict_do_nothing(index_elements=["code"]),
            # Code order: concurrent batches (no global write lock) insert new enterprises in
            # one order, so two first mentions cannot deadlock (node rows need not: each
            # record is held by its writer, hub/declarations/serial.py).
            [stubs[code] for code in sorted(stubs)],
        )


# 2.0.0 (CEB513) status letters in the hub's milestone vocabulary: the specification's
# only status, S, is "signed for by the consignee", the hub's R (1.0.0 read S as picked up).
_MILESTONES_2 = {"S": "R"}


def _milestone(record: Accepted) -> tuple[str, str]:
    """(milestone letter, status time) of a waybill status, whatever its version."""
    p = record.payload
    if record.major >= 2:
        status = p["logisticsStatus"]
        return _MILESTONES_2.get(status, status), p["logisticsTime"]
    return p["logisticsStatus"], p["statusTime"]


def _receipt_event(record: Accepted) -> dict[str, Any]:
    """The event row of a customs receipt. A 2.0.0 import receipt (CEB622) names its
    inventory by copNo, not its order: the order is filled in once the inventory is known
    (`_link_receipts`)."""
    p = record.payload
    named_order = bool(p.get("orderNo"))
    return {
        "record_key": record.record_key,
        "ebp_code": p.get("ebpCode", "") if named_order else "",
        "order_no": p["orderNo"] if named_order else "",
        "agent_code": p.get("agentCode") or None,
        "cop_no": p.get("copNo") or None,
        "return_status": int(p["returnStatus"]),
        "return_time": p["returnTime"],
        "invt_no": p.get("invtNo") or None,
        "status": CANCELLED if record.app_type == "3" else ACTIVE,
        "declaration_id": record.declaration_id,
    }


async def _link_receipts(
    session: AsyncSession, pairs: set[tuple[str, str]], keys: set[str]
) -> set[OrderKey]:
    """Gives receipts that name their inventory only by (agentCode, copNo) the order of
    that inventory; returns the orders of the batch's receipts that now have one."""
    if pairs:
        inventory = select(Inventory).where(
            Inventory.agent_code == CustomsStatusEvent.agent_code,
            Inventory.cop_no == CustomsStatusEvent.cop_no,
        )
        first = inventory.order_by(Inventory.id).limit(1)
        for chunk in _chunks(sorted(pairs)):
            await session.execute(
                update(CustomsStatusEvent)
                .where(
                    CustomsStatusEvent.order_no == "",
                    pair_in(CustomsStatusEvent.agent_code, CustomsStatusEvent.cop_no, chunk),
                    inventory.exists(),
                )
                .values(
                    ebp_code=first.with_only_columns(Inventory.ebp_code).scalar_subquery(),
                    order_no=first.with_only_columns(Inventory.order_no).scalar_subquery(),
                )
                .execution_options(synchronize_session=False)
            )
    linked: set[OrderKey] = set()
    for chunk in _chunks(sorted(keys)):
        rows = await session.execute(
            select(CustomsStatusEvent.ebp_code, CustomsStatusEvent.order_no).where(
                CustomsStatusEvent.record_key.in_(chunk), CustomsStatusEvent.order_no != ""
            )
        )
        linked |= {(row.ebp_code, row.order_no) for row in rows}
    return linked


async def _link_waybills(session: AsyncSession, waybill_keys: set[str]) -> set[OrderKey]:
    """Gives waybills that name no platform the order of the inventory naming their
    logisticsCode + logisticsNo, as the specification links them: an export waybill
    (CEB505) names no order at all, an import one (CEB511, 2.0.0) its orderNo but no
    ebpCode, and then only an inventory of that orderNo links it (a broker cannot pull a
    stranger's parcel into its order). Returns the orders of those waybills."""
    inventory = select(Inventory).where(
        Inventory.logistics_code == Waybill.logistics_code,
        Inventory.logistics_no == Waybill.logistics_no,
        Inventory.ie_flag == Waybill.ie_flag,
        Inventory.status == ACTIVE,
        or_(Waybill.order_no == "", Inventory.order_no == Waybill.order_no),
    )
    first = inventory.order_by(Inventory.id).limit(1)
    linked: set[OrderKey] = set()
    for chunk in _chunks(sorted(waybill_keys)):
        await session.execute(
            update(Waybill)
            .where(Waybill.record_key.in_(chunk), Waybill.ebp_code == "", inventory.exists())
            .values(
                ebp_code=first.with_only_columns(Inventory.ebp_code).scalar_subquery(),
                order_no=first.with_only_columns(Inventory.order_no).scalar_subquery(),
            )
            .execution_options(synchronize_session=False)
        )
        rows = await session.execute(
            select(Waybill.ebp_code, Waybill.order_no).where(
                Waybill.record_key.in_(chunk), Waybill.ebp_code != "", Waybill.order_no != ""
            )
        )
        linked |= {(row.ebp_code, row.order_no) for row in rows}
    return linked


async def _events(session: AsyncSession, records: list[Accepted], now: datetime) -> set[OrderKey]:
    affected: set[OrderKey] = set()
    milestones = [r for r in records if r.standard_id == "cbec.logistics-status"]
    if milestones:
        rows = [
            {
                "record_key": r.record_key,
                "logistics_code": r.payload["logisticsCode"],
                "logistics_no": r.payload["logisticsNo"],
                "milestone": _milestone(r)[0],
                "status_time": _milestone(r)[1],
                "status": CANCELLED if r.app_type == "3" else ACTIVE,
                "declaration_id": r.declaration_id,
            }
            for r, _ in _collapse(milestones)
        ]
        statement = _insert(session, WaybillEvent)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["record_key"],
                set_={c: statement.excluded[c] for c in ("status", "declaration_id")},
            ),
            rows,
        )
        waybill_keys = {f"{row['logistics_code']}|{row['logistics_no']}" for row in rows}
        await refresh_milestones(session=session, waybill_keys=waybill_keys)
    receipts = [r for r in records if r.standard_id == "cbec.inventory-status"]
    if receipts:
        rows = [_receipt_event(r) for r, _ in _collapse(receipts)]
        statement = _insert(session, CustomsStatusEvent)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["record_key"],
                set_={c: statement.excluded[c] for c in ("status", "declaration_id")},
            ),
            rows,
        )
        affected |= {(row["ebp_code"], row["order_no"]) for row in rows if row["order_no"]}
    return affected


async def _apply_customs_links(
    session: AsyncSession, by_node: Mapping[str, list[Accepted]], receipt_orders: set[OrderKey]
) -> set[OrderKey]:
    """Arrival and departure lists onto their waybills, customs' inventory numbers onto the
    inventories, summary results (entryId) onto the inventories they list; returns the
    orders a tax bill now applies to (their tax is decided again)."""
    lists = [
        (
            r.standard_id,
            node_key(r, "passage"),
            r.payload,
            CANCELLED if r.app_type == "3" else ACTIVE,
            r.declaration_id,
        )
        for r, _ in _collapse(by_node.get("passage", []))
    ]
    if lists:
        waybills = await customs_links.write_passages(session, lists)
        await customs_links.refresh_passages(session, waybills)
    numbers: set[str] = set()
    summaries = [
        (node_key(r, "summary"), r.payload) for r, _ in _collapse(by_node.get("summary", []))
    ]
    if summaries:
        numbers |= await customs_links.write_summary_lines(session, summaries)
    orders = {(r.payload["ebpCode"], r.payload["orderNo"]) for r in by_node.get("inventory", [])}
    orders |= receipt_orders
    known = await customs_links.fill_invt_numbers(session, orders) if orders else set()
    if numbers | known:
        await customs_links.apply_summaries(session, numbers | known)
    billed = {str(r.payload["invtNo"]) for r in by_node.get("tax_bill", [])}
    if known:
        billed |= set(await customs_links.bills_by_number(session, known))
    return await customs_links.orders_of_invt_numbers(session, billed) if billed else set()


async def refresh_milestones(*, session: AsyncSession, waybill_keys: set[str]) -> None:
    """Sets each waybill's latest active milestone from its events (one statement per chunk)."""
    latest = (
        select(WaybillEvent.milestone)
        .where(
            WaybillEvent.logistics_code == Waybill.logistics_code,
            WaybillEvent.logistics_no == Waybill.logistics_no,
            WaybillEvent.status == ACTIVE,
        )
        .order_by(WaybillEvent.status_time.desc(), WaybillEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    latest_time = (
        select(func.max(WaybillEvent.status_time))
        .where(
            WaybillEvent.logistics_code == Waybill.logistics_code,
            WaybillEvent.logistics_no == Waybill.logistics_no,
            WaybillEvent.status == ACTIVE,
        )
        .scalar_subquery()
    )
    for chunk in _chunks(sorted(waybill_keys)):
        await session.execute(
            update(Waybill)
            .where(Waybill.record_key.in_(chunk))
            .values(last_milestone=latest, last_milestone_time=latest_time)
            .execution_options(synchronize_session=False)
        )


async def refresh_customs_status(*, session: AsyncSession, inventory_keys: set[str]) -> None:
    """Sets each inventory's latest active customs status from its receipts."""
    matches = (
        (CustomsStatusEvent.ebp_code == Inventory.ebp_code)
        & (CustomsStatusEvent.order_no == Inventory.order_no)
        & (CustomsStatusEvent.status == ACTIVE)
    )
    latest = (
        select(CustomsStatusEvent.return_status)
        .where(matches)
        .order_by(CustomsStatusEvent.return_time.desc(), CustomsStatusEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    latest_time = select(func.max(CustomsStatusEvent.return_time)).where(matches).scalar_subquery()
    for chunk in _chunks(sorted(inventory_keys)):
        await session.execute(
            update(Inventory)
            .where(Inventory.record_key.in_(chunk))
            .values(customs_status=latest, customs_status_time=latest_time)
            .execution_options(synchronize_session=False)
        )


async def apply(
    *, session: AsyncSession, accepted: list[Accepted], rules: RuleConfig, now: datetime
) -> None:
    """Projects newly accepted declarations and re-matches every order they touch."""
    by_node: dict[str, list[Accepted]] = defaultdict(list)
    affected: set[OrderKey] = set()
    status_only: set[OrderKey] = set()
    for record in accepted:
        rtype = record_type(record.standard_id, record.major)
        if rtype is None:
            continue  # a standard the graph does not model: stored and chained only
        by_node[rtype.node].append(record)
        key = rtype.order_key(record.payload)
        if key is None:
            continue
        if rtype.node == "customs_status":
            # A customs receipt changes no match and no tax: only the order's status and
            # where it counts toward its buyer's year (hub.trade.limits).
            status_only.add(key)
        else:
            affected.add(key)
    await _upsert_enterprises(session, accepted, now)
    for node, records in by_node.items():
        if node in _NODES:
            await _upsert_nodes(session, node, records, now)
    status_orders = await _events(session, accepted, now)
    # 2.0.0 links: receipts named by copNo, export waybills named by their inventory.
    new_inventories = [r.payload for r in by_node.get("inventory", [])]
    cop_pairs = {
        (str(p.get("agentCode")), str(p.get("copNo"))) for p in new_inventories if p.get("copNo")
    }
    unlinked = [r for r in by_node.get("customs_status", []) if not r.payload.get("orderNo")]
    cop_pairs |= {
        (str(r.payload.get("agentCode")), str(r.payload.get("copNo")))
        for r in unlinked
        if r.payload.get("copNo") and r.payload.get("agentCode")
    }
    if cop_pairs:
        receipt_orders = await _link_receipts(session, cop_pairs, {r.record_key for r in unlinked})
        # Receipts that found their order only now count for it like any other receipt.
        status_orders |= receipt_orders
        status_only |= receipt_orders
    # Waybills naming no platform (505; 511 in 2.0.0) are linked through their inventory.
    unlinked_waybills = {
        r.record_key for r in by_node.get("waybill", []) if not r.payload.get("ebpCode")
    }
    unlinked_waybills |= {f"{p['logisticsCode']}|{p['logisticsNo']}" for p in new_inventories}
    if unlinked_waybills:
        affected |= await _link_waybills(session, unlinked_waybills)
    inventory_keys = {r.record_key for r in by_node.get("inventory", [])}
    inventory_keys |= {f"{ebp}|{order_no}" for ebp, order_no in status_orders}
    if inventory_keys:
        # Receipts may arrive before their inventory, and inventories before receipts.
        await refresh_customs_status(session=session, inventory_keys=inventory_keys)
    # CEB 2022-05 records naming inventories by invtNo and waybills by list.
    affected |= await _apply_customs_links(session, by_node, status_orders)
    if by_node.get("waybill"):
        # Milestones may have arrived before their waybill.
        await refresh_milestones(
            session=session, waybill_keys={r.record_key for r in by_node["waybill"]}
        )
    if status_only - affected:
        await refresh_order_customs_status(session=session, keys=status_only - affected)
    if affected or status_only:
        await rematch(
            session=session, keys=affected, rules=rules, receipts_only=status_only - affected
        )


async def refresh_order_customs_status(*, session: AsyncSession, keys: set[OrderKey]) -> None:
    """Sets orders' customs status to their inventory's latest receipt (set-based)."""
    before = await outbox.order_states(session=session, keys=keys)
    latest = (
        select(CustomsStatusEvent.return_status)
        .where(
            CustomsStatusEvent.ebp_code == Order.ebp_code,
            CustomsStatusEvent.order_no == Order.order_no,
            CustomsStatusEvent.status == ACTIVE,
        )
        .order_by(CustomsStatusEvent.return_time.desc(), CustomsStatusEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    for chunk in _chunks(sorted(f"{ebp}|{order_no}" for ebp, order_no in keys)):
        await session.execute(
            update(Order)
            .where(Order.record_key.in_(chunk))
            .values(customs_status=latest)
            .execution_options(synchronize_session=False)
        )
    await outbox.order_changes(session=session, before=before, keys=keys, now=datetime.now(UTC))


async def _by_order(
    session: AsyncSession, model: Any, keys: list[OrderKey], columns: Sequence[Any]
) -> dict[OrderKey, list[Any]]:
    """Active documents of the given orders as plain rows (no ORM objects: this is hot), in
    declaration order: the authority table chooses which one the order links."""
    found: dict[OrderKey, list[Any]] = {}
    for chunk in _chunks(keys):
        rows = await session.execute(
            select(model.ebp_code, model.order_no, *columns)
            .where(
                pair_in(model.ebp_code, model.order_no, chunk),
                model.status == ACTIVE,
            )
            .order_by(model.id)
        )
        for row in rows:
            found.setdefault((row.ebp_code, row.order_no), []).append(row)
    return found


# What rematch reads of an order besides its payload (_by_order adds ebp_code, order_no).
_ORDER_COLUMNS = (
    Order.id,
    Order.ebc_code,
    Order.direction,
    Order.status,
    Order.buyer_id_number,
    Order.order_year,
)


async def _orders(
    session: AsyncSession, keys: list[OrderKey]
) -> tuple[dict[OrderKey, Any], dict[OrderKey, Any]]:
    """The orders of these keys: active ones with their payloads, and the cancelled ones."""
    active: dict[OrderKey, Any] = {}
    withdrawn: dict[OrderKey, Any] = {}
    wanted = set(keys)
    for chunk in _chunks(keys):
        rows = await session.execute(
            select(
                Order.ebp_code,
                Order.order_no,
                # Only an active order's payload is read: a cancelled one is not re-matched.
                case((Order.status == ACTIVE, Order.payload), else_=null()).label("payload"),
                Order.risk_flags,
                *_ORDER_COLUMNS,
            ).where(pair_in(Order.ebp_code, Order.order_no, chunk))
        )
        for row in rows:
            key = (row.ebp_code, row.order_no)
            if key in wanted:
                (active if row.status == ACTIVE else withdrawn)[key] = row
    return active, withdrawn


def _indivisible(order: Mapping[str, Any]) -> bool:
    items = order.get("items") or []
    return len(items) == 1 and _money(items[0].get("qty")) == Decimal(1)


async def rematch(
    *,
    session: AsyncSession,
    keys: set[OrderKey],
    rules: RuleConfig,
    receipts_only: set[OrderKey] | frozenset[OrderKey] = frozenset(),
) -> None:
    """Recomputes matching, tax and limit flags for the orders with these keys.

    Orders in `receipts_only` had only customs receipts arrive: their matching and tax
    stand, and only where they count toward the buyer's year is decided again. All limit
    work of one call runs in one `quota.account`, so the buyer rows are locked in one order.
    """
    if receipts_only:
        # An order with a cancellation or return is decided in full: its standing depends
        # on which of them name its inventory's parties.
        requested = await customs_links.orders_with_requests(session, set(receipts_only))
        keys, receipts_only = keys | requested, set(receipts_only) - requested
    # The statuses before, so that each change is written to the event log (outbox).
    before = await outbox.order_states(session=session, keys=keys)
    orders, withdrawn = await _orders(session, sorted(keys))
    present = sorted(orders)
    imports = [k for k in present if orders[k].direction == "I"]
    exports = [k for k in present if orders[k].direction != "I"]
    # Imports are paid (411), exports receive payment (403): ask only for what can match.
    payments = await _by_order(session, Payment, imports, (Payment.payload,)) if imports else {}
    receipts = await _by_order(session, Receipt, exports, (Receipt.payload,)) if exports else {}
    waybills = await _by_order(session, Waybill, present, (Waybill.payload,))
    inventories = await _by_order(
        session,
        Inventory,
        present,
        (Inventory.id, Inventory.payload, Inventory.trade_mode, Inventory.invt_no),
    )
    customs = await quota.receipts_by_order(session=session, keys=present)
    requests = await customs_links.requests_by_order(session, present)
    bills = await customs_links.bills_by_number(
        session, {i.invt_no for rows in inventories.values() for i in rows if i.invt_no}
    )
    inventory_updates: list[dict[str, Any]] = []
    returned: dict[OrderKey, Decimal] = {}

    updates: dict[int, dict[str, Any]] = {}
    subjects: list[quota.Subject] = []
    for key, order in orders.items():
        direction = order.direction
        # The documents the order links, chosen as the graph chooses them (authority table):
        # a payment naming another payer, or a second waybill, is not matched.
        linked = authority.choose_group(
            order.payload,
            {
                "cbec.payment": payments.get(key, ()),
                "cbec.receipt": receipts.get(key, ()),
                "cbec.waybill": waybills.get(key, ()),
                "cbec.inventory": inventories.get(key, ()),
            },
        )
        money_doc = linked["cbec.payment"] if direction == "I" else linked["cbec.receipt"]
        waybill = linked["cbec.waybill"]
        inventory = linked["cbec.inventory"]
        inventory_payload = inventory.payload if inventory else None
        result = match_order(
            order=order.payload,
            payment=money_doc.payload if money_doc else None,
            waybill=waybill.payload if waybill else None,
            inventory=inventory_payload,
            direction=direction,
            config=rules,
        )
        trade_mode = order.payload.get("tradeMode") or (inventory.trade_mode if inventory else None)
        order_receipts = customs.get(key, [])
        # Cancellations and returns (623/625) and the tax bill (816) count only where they
        # name the inventory's own parties (customs_links, the authority table's links).
        standing = (
            customs_links.standing_requests(requests.get(key, ()), inventory_payload)
            if inventory_payload is not None
            else []
        )
        cancelled = any(r.kind == "CANCEL" for r in standing)
        bill = (
            customs_links.chosen_bill(bills.get(inventory.invt_no, ()), inventory.payload)
            if inventory is not None and inventory.invt_no
            else None
        )
        if inventory is not None:
            inventory_updates.append(
                {
                    "b_id": inventory.id,
                    "b_requests": [customs_links.request_view(r) for r in standing] or None,
                    "b_bill": bill,
                }
            )
        row: dict[str, Any] = {
            "b_id": order.id,
            "trade_mode": trade_mode,
            "match_status": result.status.value,
            "match_missing": list(result.missing),
            "match_discrepancies": [d.stored() for d in result.discrepancies],
            "customs_status": order_receipts[-1].status if order_receipts else None,
            "tax_computed": None,
            "limit_value": None,
            "risk_flags": [],
            "tax_assessed": _money(bill["total"]) if bill else None,
        }
        value = None
        indivisible = _indivisible(order.payload)
        if applies_retail_limits(direction=direction, trade_mode=trade_mode):
            value = limit_value(order=order.payload, inventory=inventory_payload, config=rules)
            # One indivisible item over the single limit owes full tax: compare with that.
            full = full_tax_applies(value=value, indivisible=indivisible, config=rules)
            tax = import_tax(
                order=order.payload,
                inventory=inventory_payload,
                config=rules,
                basis=TaxBasis.FULL if full else TaxBasis.RETAIL,
            )
            row["tax_computed"] = tax.computed
            row["limit_value"] = value
            if not tax.matches:
                row["risk_flags"].append(TAX_MISMATCH)
            assessed = row["tax_assessed"]
            if assessed is not None and abs(assessed - tax.computed) > rules.tax_tolerance_cny:
                row["risk_flags"].append(TAX_ASSESSED_DIFFERS)
            if inventory_payload is not None and any(
                r.kind == "RETURN" for r in requests.get(key, ())
            ):
                returned[key] = returned_value(
                    order=order.payload,
                    inventory=inventory_payload,
                    returns=[r.payload for r in standing if r.kind == "RETURN"],
                    config=rules,
                )
        updates[order.id] = row
        subjects.append(
            quota.Subject(
                order_id=order.id,
                ebp_code=order.ebp_code,
                buyer_id_number=order.buyer_id_number,
                year=order.order_year,
                value=value,
                indivisible=indivisible,
                standing=quota.standing_of(
                    status=order.status,
                    platform=order.ebp_code,
                    seller=order.ebc_code,
                    # A standing cancellation (623) withdraws the inventory from the year.
                    inventory_active=inventory is not None and not cancelled,
                    receipts=order_receipts,
                    rules=rules,
                )
                if value is not None
                else Standing.OUT,
            )
        )
    # A cancelled order keeps its match, but no longer counts toward its buyer's year.
    subjects += [
        quota.Subject(order.id, order.ebp_code, None, order.order_year, None, False, Standing.OUT)
        for order in withdrawn.values()
    ]
    stored, stored_flags = await quota.stored_subjects(
        session=session, keys=set(receipts_only) - set(orders) - set(withdrawn), rules=rules
    )
    stored_flags |= {order.id: list(order.risk_flags or []) for order in withdrawn.values()}
    limit_flags = await quota.account(session=session, subjects=[*subjects, *stored], rules=rules)
    for order_id, row in updates.items():
        row["risk_flags"] = quota.with_limit_flags(row["risk_flags"], limit_flags.get(order_id, ()))
    await quota.write_flags(session=session, current=stored_flags, limit_flags=limit_flags)
    if updates:
        rows = list(updates.values())
        table = Order.__table__
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(c) for c in rows[0] if c != "b_id"}),
            rows,
        )
    if inventory_updates:
        table = Inventory.__table__
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(requests=bindparam("b_requests"), tax_bill=bindparam("b_bill")),
            inventory_updates,
        )
    if returned:
        # Last: it re-decides the limits of these orders with what their returns give back.
        await quota.set_returned(session=session, returned=returned, rules=rules)
    await outbox.order_changes(session=session, before=before, keys=keys, now=datetime.now(UTC))
