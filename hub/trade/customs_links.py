"""The CEB 2022-05 records that name an inventory or a waybill by other means than its order:
arrival and departure lists (507/509) by their waybills' numbers, summary results (792) and
tax bills (816) by customs' inventory number (invtNo), cancellations and returns (623/625)
by the order but only where they name the inventory's own parties.

Called by hub.trade.projection inside the declaring transaction. Which records agree is
the authority table's word (`Link.disagreement`): a record naming another broker, seller or
carrier than the inventory is stored, but the graph never applies it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access.authority import RECORD_TYPES
from hub.db import pair_in
from hub.trade.models import (
    CustomsStatusEvent,
    Inventory,
    InventoryRequest,
    Summary,
    SummaryLine,
    TaxBill,
    Waybill,
    WaybillPassage,
)

ACTIVE = "ACTIVE"
VOID_BILL = "3"  # 816 status 3: the bill was voided
_CHUNK = 400
OrderKey = tuple[str, str]
KIND_OF_REQUEST = {"cbec.inventory-cancel": "CANCEL", "cbec.inventory-return": "RETURN"}
KIND_OF_PASSAGE = {"cbec.arrival": "ARRIVAL", "cbec.departure": "DEPARTURE"}
KIND_OF_SUMMARY = {"cbec.summary-apply": "APPLY", "cbec.summary-result": "RESULT"}


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _link(standard_id: str) -> Any:
    link = RECORD_TYPES[standard_id].link_to("cbec.inventory")
    assert link is not None
    return link


# --- rows of the node tables -----------------------------------------------------------------


def request_row(standard_id: str, p: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a cancellation or return."""
    return {
        "kind": KIND_OF_REQUEST[standard_id],
        "ebp_code": p["ebpCode"],
        "order_no": p["orderNo"],
        "agent_code": p["agentCode"],
        "invt_no": p.get("invtNo"),
    }


def tax_bill_row(p: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a tax bill."""
    return {
        "invt_no": p["invtNo"],
        "tax_no": p["taxNo"],
        "bill_status": p["status"],
        "return_time": p["returnTime"],
    }


def summary_row(standard_id: str, p: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a summary application or result."""
    return {
        "kind": KIND_OF_SUMMARY[standard_id],
        "agent_code": p["agentCode"],
        "ebc_code": p["ebcCode"],
        "sum_no": p.get("sumNo"),
        "entry_id": p.get("entryId"),
    }


# --- arrival and departure lists --------------------------------------------------------------


_PASSAGE_HEAD = (
    "copNo",
    "preNo",
    "customsCode",
    "operatorCode",
    "loctNo",
    "trafMode",
    "trafName",
    "voyageNo",
    "billNo",
    "domesticTrafNo",
    "leaveTime",
    "appTime",
)


async def write_passages(
    session: AsyncSession, lists: Sequence[tuple[str, str, Mapping[str, Any], str, str]]
) -> set[tuple[str, str]]:
    """Replaces the passages of these lists (standard id, record key, payload, status,
    declaration id): one row per listed waybill, with the list's head. Returns the waybills
    (logisticsCode, logisticsNo) they name now or named before."""
    keys = sorted({key for _, key, _, _, _ in lists})
    before: set[tuple[str, str]] = set()
    for chunk in _chunks(keys):
        listed = await session.execute(
            select(WaybillPassage.logistics_code, WaybillPassage.logistics_no).where(
                WaybillPassage.list_key.in_(chunk)
            )
        )
        before |= {(code, number) for code, number in listed}
        await session.execute(delete(WaybillPassage).where(WaybillPassage.list_key.in_(chunk)))
    rows = []
    for standard_id, key, payload, status, declaration_id in lists:
        kind = KIND_OF_PASSAGE[standard_id]
        head = {f: payload[f] for f in _PASSAGE_HEAD if payload.get(f) not in (None, "")}
        head["declarationId"] = declaration_id
        for line in payload.get("items") or ():
            rows.append(
                {
                    "list_key": key,
                    "kind": kind,
                    # The list names the carrier: only its own waybills are touched.
                    "logistics_code": payload["logisticsCode"],
                    "logistics_no": line["logisticsNo"],
                    "passed_at": payload.get("leaveTime") or payload["appTime"],
                    "head": head | {"totalPackageNo": line.get("totalPackageNo")},
                    "status": status,
                    "declaration_id": declaration_id,
                }
            )
    if rows:
        await session.execute(insert(WaybillPassage), rows)
    return before | {(r["logistics_code"], r["logistics_no"]) for r in rows}


async def refresh_passages(session: AsyncSession, waybills: set[tuple[str, str]]) -> None:
    """Sets each waybill's latest active arrival and departure (their lists' heads)."""
    for chunk in _chunks(sorted(waybills)):
        rows = await session.execute(
            select(WaybillPassage)
            .where(
                pair_in(WaybillPassage.logistics_code, WaybillPassage.logistics_no, chunk),
                WaybillPassage.status == ACTIVE,
            )
            .order_by(WaybillPassage.passed_at, WaybillPassage.id)
        )
        latest: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
        for (passage,) in rows:
            latest[(passage.logistics_code, passage.logistics_no)][passage.kind] = passage.head
        await session.execute(
            update(Waybill.__table__)
            .where(
                Waybill.__table__.c.logistics_code == bindparam("b_code"),
                Waybill.__table__.c.logistics_no == bindparam("b_no"),
            )
            .values(arrival=bindparam("b_arrival"), departure=bindparam("b_departure"))
            .execution_options(synchronize_session=False),
            [
                {
                    "b_code": code,
                    "b_no": number,
                    "b_arrival": latest[(code, number)].get("ARRIVAL"),
                    "b_departure": latest[(code, number)].get("DEPARTURE"),
                }
                for code, number in chunk
            ],
        )


# --- customs' inventory number, summaries -----------------------------------------------------


async def write_summary_lines(
    session: AsyncSession, summaries: Sequence[tuple[str, Mapping[str, Any]]]
) -> set[str]:
    """Replaces the listed inventories of these summaries (record key, payload); returns
    the invtNos they list now or listed before."""
    keys = sorted({key for key, _ in summaries})
    before: set[str] = set()
    for chunk in _chunks(keys):
        listed = await session.execute(
            select(SummaryLine.invt_no).where(SummaryLine.summary_key.in_(chunk))
        )
        before |= set(listed.scalars())
        await session.execute(delete(SummaryLine).where(SummaryLine.summary_key.in_(chunk)))
    rows = [
        {"summary_key": key, "invt_no": line["invtNo"]}
        for key, payload in summaries
        for line in payload.get("items") or ()
    ]
    if rows:
        await session.execute(insert(SummaryLine), rows)
    return before | {r["invt_no"] for r in rows}


async def fill_invt_numbers(session: AsyncSession, order_keys: set[OrderKey]) -> set[str]:
    """Sets each inventory's customs number: its own invtNo, else the latest one its
    receipts (622/604) carry. Returns the numbers now known."""
    known: set[str] = set()
    for chunk in _chunks(sorted(order_keys)):
        inventories = (
            await session.execute(
                select(
                    Inventory.id, Inventory.ebp_code, Inventory.order_no, Inventory.payload
                ).where(pair_in(Inventory.ebp_code, Inventory.order_no, chunk))
            )
        ).all()
        if not inventories:
            continue
        receipts = await session.execute(
            select(
                CustomsStatusEvent.ebp_code, CustomsStatusEvent.order_no, CustomsStatusEvent.invt_no
            )
            .where(
                pair_in(CustomsStatusEvent.ebp_code, CustomsStatusEvent.order_no, chunk),
                CustomsStatusEvent.invt_no.is_not(None),
                CustomsStatusEvent.status == ACTIVE,
            )
            .order_by(CustomsStatusEvent.return_time, CustomsStatusEvent.id)
        )
        from_receipts = {(ebp, no): invt for ebp, no, invt in receipts}
        updates = []
        for row in inventories:
            number = (row.payload or {}).get("invtNo") or from_receipts.get(
                (row.ebp_code, row.order_no)
            )
            updates.append({"b_id": row.id, "b_invt": number})
            if number:
                known.add(number)
        table = Inventory.__table__
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(invt_no=bindparam("b_invt"))
            .execution_options(synchronize_session=False),
            updates,
        )
    return known


async def apply_summaries(session: AsyncSession, invt_numbers: set[str]) -> None:
    """Gives inventories with these numbers the customs declaration (entryId, sumNo) of the
    latest summary result listing them that names the same broker and seller."""
    link = _link("cbec.summary-result")
    for chunk in _chunks(sorted(invt_numbers)):
        inventories = (
            await session.execute(
                select(Inventory.id, Inventory.invt_no, Inventory.payload).where(
                    Inventory.invt_no.in_(chunk)
                )
            )
        ).all()
        if not inventories:
            continue
        results = await session.execute(
            select(SummaryLine.invt_no, Summary.payload, Summary.sum_no, Summary.entry_id)
            .join(Summary, Summary.record_key == SummaryLine.summary_key)
            .where(
                SummaryLine.invt_no.in_(chunk),
                Summary.kind == "RESULT",
                Summary.status == ACTIVE,
            )
            .order_by(Summary.id)
        )
        by_number: dict[str, list[Any]] = defaultdict(list)
        for row in results:
            by_number[row.invt_no].append(row)
        updates = []
        for inventory in inventories:
            agreeing = [
                r
                for r in by_number.get(inventory.invt_no, ())
                if not link.disagreement(r.payload, inventory.payload or {})
            ]
            chosen = agreeing[-1] if agreeing else None
            updates.append(
                {
                    "b_id": inventory.id,
                    "b_entry": chosen.entry_id if chosen else None,
                    "b_sum": chosen.sum_no if chosen else None,
                }
            )
        table = Inventory.__table__
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(entry_id=bindparam("b_entry"), sum_no=bindparam("b_sum"))
            .execution_options(synchronize_session=False),
            updates,
        )


async def orders_of_invt_numbers(session: AsyncSession, invt_numbers: set[str]) -> set[OrderKey]:
    """The orders of the inventories with these customs numbers."""
    found: set[OrderKey] = set()
    for chunk in _chunks(sorted(invt_numbers)):
        rows = await session.execute(
            select(Inventory.ebp_code, Inventory.order_no).where(Inventory.invt_no.in_(chunk))
        )
        found |= {(ebp, no) for ebp, no in rows}
    return found


# --- what an order's inventory carries (read by rematch) --------------------------------------


async def requests_by_order(
    session: AsyncSession, keys: Sequence[OrderKey]
) -> dict[OrderKey, list[Any]]:
    """Cancellations and returns of the orders (active or withdrawn), in declaration order."""
    found: dict[OrderKey, list[Any]] = defaultdict(list)
    request = InventoryRequest
    for chunk in _chunks(keys):
        rows = await session.execute(
            select(
                request.ebp_code,
                request.order_no,
                request.kind,
                request.status,
                request.payload,
                request.declaration_id,
            )
            .where(pair_in(request.ebp_code, request.order_no, chunk))
            .order_by(request.id)
        )
        for row in rows:
            found[(row.ebp_code, row.order_no)].append(row)
    return found


async def orders_with_requests(session: AsyncSession, keys: set[OrderKey]) -> set[OrderKey]:
    """The orders among these that have a cancellation or return (active or withdrawn)."""
    return set(await requests_by_order(session, sorted(keys)))


async def bills_by_number(session: AsyncSession, numbers: Iterable[str]) -> dict[str, list[Any]]:
    """Active tax bills by customs' inventory number, oldest first."""
    found: dict[str, list[Any]] = defaultdict(list)
    for chunk in _chunks(sorted(set(numbers))):
        rows = await session.execute(
            select(TaxBill.invt_no, TaxBill.payload, TaxBill.bill_status, TaxBill.declaration_id)
            .where(TaxBill.invt_no.in_(chunk), TaxBill.status == ACTIVE)
            .order_by(TaxBill.return_time, TaxBill.id)
        )
        for row in rows:
            found[row.invt_no].append(row)
    return found


def standing_requests(requests: Sequence[Any], inventory: Mapping[str, Any]) -> list[Any]:
    """The active requests that name the inventory's own parties (the others are stored,
    never applied)."""
    agreeing = []
    for row in requests:
        if row.status != ACTIVE:
            continue
        standard = "cbec.inventory-cancel" if row.kind == "CANCEL" else "cbec.inventory-return"
        if not _link(standard).disagreement(row.payload, inventory):
            agreeing.append(row)
    return agreeing


def request_view(row: Any) -> dict[str, Any]:
    """What the graph shows of a cancellation or return."""
    p = row.payload
    view = {
        "kind": row.kind,
        "copNo": p.get("copNo"),
        "invtNo": p.get("invtNo"),
        "appTime": p.get("appTime"),
        "appStatus": p.get("appStatus"),
        "reason": p.get("reason"),
        "note": p.get("note"),
        "declarationId": row.declaration_id,
    }
    if row.kind == "RETURN":
        view["items"] = [
            {"gnum": line.get("gnum"), "qty": line.get("qty"), "unit": line.get("unit")}
            for line in p.get("items") or ()
        ]
    return view


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def chosen_bill(bills: Sequence[Any], inventory: Mapping[str, Any]) -> dict[str, Any] | None:
    """The latest tax bill that names the inventory's parties and is not void, as the graph
    shows it: taxes in total and per line."""
    link = _link("cbec.tax-bill")
    agreeing = [b for b in bills if not link.disagreement(b.payload, inventory)]
    if not agreeing or agreeing[-1].bill_status == VOID_BILL:
        return None
    bill = agreeing[-1]
    p = bill.payload
    parts = ("customsTax", "valueAddedTax", "consumptionTax")
    total = sum((_money(p.get(f)) for f in parts), Decimal(0))
    return {
        "taxNo": p.get("taxNo"),
        "status": p.get("status"),
        "returnTime": p.get("returnTime"),
        **{f: p.get(f) for f in parts},
        "total": str(total),
        "items": [
            {k: line.get(k) for k in ("gnum", "gcode", "taxPrice", *parts)}
            for line in p.get("items") or ()
        ],
        "declarationId": bill.declaration_id,
    }
