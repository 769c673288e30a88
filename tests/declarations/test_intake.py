"""Declaring records: validation, parties, idempotency, lifecycle, batches, standards."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from hub.canonical import canonical_json, content_hash
from hub.db import unit_of_work
from hub.declarations.models import Declaration
from hub.standards import service as standards
from hub.trade.models import Order
from tests.declarations.conftest import (
    DECLARE,
    DECLARE_BATCH,
    PAYER_INSTITUTION,
    PLATFORM,
    SELLER,
    import_documents,
)
from tests.standards.samples import WAREHOUSE_OWNER
from tests.support import log_integrated

Declare = Callable[..., Awaitable[dict[str, Any]]]
Gql = Callable[..., Awaitable[dict[str, Any]]]


async def _count(app: Starlette, model: Any = Declaration) -> int:
    async with app.state.runtime.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_valid_order_is_stored_with_provenance_and_projected(
    declare: Declare, app: Starlette, read_order: Any
) -> None:
    payload = import_documents()["order"]
    result = await declare("cbec.order", payload, as_=PLATFORM)
    assert result["errors"] == [] and result["duplicate"] is False
    declaration = result["declaration"]
    assert declaration["standard"] == "cbec.order@1.0.0"
    assert declaration["declarant"] == PLATFORM
    assert declaration["contentHash"] == content_hash(payload)
    assert declaration["chainIndex"] == 1
    assert declaration["prevHash"] is None  # pending in the log: linked once integrated
    assert declaration["recordKey"] == f"{PLATFORM}|XZ202403150001"
    order = await read_order("XZ202403150001")
    assert order["status"] == "ACTIVE"
    assert order["matching"]["status"] == "INCOMPLETE"
    assert set(order["matching"]["missing"]) == {"payment", "waybill", "inventory"}
    assert [p["declarationId"] for p in order["provenance"]] == [declaration["id"]]
    await log_integrated(app)
    async with app.state.runtime.session_factory() as session:
        stored = await session.get(Declaration, declaration["id"])
    assert stored is not None
    assert stored.payload == canonical_json(payload).decode()
    assert stored.prev_hash == "0" * 64  # the first link of the chain


async def test_the_same_payload_twice_returns_the_original_as_a_duplicate(
    declare: Declare, app: Starlette
) -> None:
    payload = import_documents()["order"]
    first = await declare("cbec.order", payload, as_=PLATFORM)
    reordered = dict(reversed(list(payload.items())))
    second = await declare("cbec.order@1.0.0", reordered, as_=PLATFORM)
    assert second["duplicate"] is True
    assert second["declaration"]["id"] == first["declaration"]["id"]
    assert await _count(app) == 1


async def test_the_same_idempotency_key_returns_the_original_and_refuses_other_content(
    declare: Declare, app: Starlette
) -> None:
    payload = import_documents()["order"]
    first = await declare("cbec.order", payload, as_=PLATFORM, key="erp-42")
    assert first["declaration"]["idempotencyKey"] == "erp-42"
    again = await declare("cbec.order", payload, as_=PLATFORM, key="erp-42")
    assert again["duplicate"] is True
    assert again["declaration"]["id"] == first["declaration"]["id"]
    other = import_documents("XZ202403150099")["order"]
    reused = await declare("cbec.order", other, as_=PLATFORM, key="erp-42")
    assert [e["code"] for e in reused["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert reused["declaration"] is None
    assert await _count(app) == 1


async def test_schema_violations_come_back_as_data_and_nothing_is_stored(
    declare: Declare, app: Starlette
) -> None:
    payload = import_documents()["order"]
    del payload["ebcName"]
    payload["goodsValue"] = "six hundred"
    payload["items"][0]["gnum"] = 120
    result = await declare("cbec.order", payload, as_=PLATFORM)
    assert result["declaration"] is None
    found = {(e["code"], e["path"], e["keyword"]) for e in result["errors"]}
    assert ("SCHEMA_VIOLATION", "/ebcName", "required") in found
    assert ("SCHEMA_VIOLATION", "/goodsValue", "pattern") in found
    assert ("SCHEMA_VIOLATION", "/items/0/gnum", "maximum") in found
    assert all(e["message"] for e in result["errors"])
    assert await _count(app) == 0
    assert await _count(app, Order) == 0


@pytest.mark.parametrize("payload", [[1, 2], "order", 7])
async def test_a_payload_that_is_not_an_object_is_refused(declare: Declare, payload: Any) -> None:
    result = await declare("cbec.order", payload, as_=PLATFORM)
    assert [e["code"] for e in result["errors"]] == ["NOT_AN_OBJECT"]


async def test_an_enterprise_that_is_not_a_party_is_refused(
    declare: Declare, app: Starlette
) -> None:
    outsider = WAREHOUSE_OWNER
    payload = import_documents()["order"]
    assert outsider not in {payload["ebpCode"], payload["ebcCode"], payload["payCode"]}
    result = await declare("cbec.order", payload, as_=outsider)
    assert [e["code"] for e in result["errors"]] == ["NOT_A_PARTY"]
    assert PLATFORM in result["errors"][0]["message"]
    assert await _count(app) == 0


async def test_the_seller_may_declare_the_order_too_but_not_the_payment_institution(
    declare: Declare,
) -> None:
    order = import_documents()["order"]
    assert (await declare("cbec.order", order, as_=SELLER))["errors"] == []
    # Named on the order, the payment institution reads its header; it does not send it.
    other = import_documents("XZ202403150002")["order"]
    refused = await declare("cbec.order", other, as_=PAYER_INSTITUTION)
    assert [e["code"] for e in refused["errors"]] == ["ROLE_NOT_ALLOWED"]


async def test_declaring_needs_the_declare_scope(gql: Gql, get_token: Any, shipped: None) -> None:
    customs = await get_token(scopes="customs:read")
    body = await gql(
        DECLARE,
        token=customs,
        variables={"input": {"standard": "cbec.order", "payload": import_documents()["order"]}},
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("standard", "code"),
    [
        ("cbec.nothing", "UNKNOWN_STANDARD"),
        ("cbec.order@9.9.9", "UNKNOWN_VERSION"),
        ("cbec.order@1.0", "INVALID_STANDARD_REF"),
        ("Not A Standard", "INVALID_STANDARD_REF"),
    ],
)
async def test_unknown_or_malformed_standards_are_refused(
    declare: Declare, standard: str, code: str
) -> None:
    result = await declare(standard, import_documents()["order"], as_=PLATFORM)
    assert [e["code"] for e in result["errors"]] == [code]
    assert result["errors"][0]["path"] == "/standard"


async def test_retired_versions_are_refused_naming_the_successor_and_deprecated_warn(
    declare: Declare, app: Starlette
) -> None:
    factory = app.state.runtime.session_factory
    async with unit_of_work(factory) as session:
        current = await standards.get_version(
            session=session, standard_id="cbec.order", version="1.0.0"
        )
        newer = copy.deepcopy(current.schema)
        newer["description"] = "clarified"
        await standards.publish_version(
            session=session, standard_id="cbec.order", version="1.0.1", schema=newer, actor="t"
        )
        await standards.deprecate_version(
            session=session, standard_id="cbec.order", version="1.0.0"
        )
    warned = await declare("cbec.order@1.0.0", import_documents()["order"], as_=PLATFORM)
    assert warned["errors"] == []
    assert "deprecated" in warned["warnings"][0]
    async with unit_of_work(factory) as session:
        await standards.retire_version(
            session=session, standard_id="cbec.order", version="1.0.0", successor="1.0.1"
        )
    payload = import_documents("XZ202403150077")["order"]
    refused = await declare("cbec.order@1.0.0", payload, as_=PLATFORM)
    assert [e["code"] for e in refused["errors"]] == ["RETIRED"]
    assert "cbec.order@1.0.1" in refused["errors"][0]["message"]
    newest = await declare("cbec.order", payload, as_=PLATFORM)
    assert newest["declaration"]["standard"] == "cbec.order@1.0.1"


async def test_a_change_keeps_history_and_a_cancel_cancels(
    declare: Declare, read_order: Any
) -> None:
    order = import_documents()["order"]
    first = await declare("cbec.order", order, as_=PLATFORM)
    changed = order | {"appType": "2", "appTime": "20240315110000", "note": "address fixed"}
    second = await declare("cbec.order", changed, as_=PLATFORM)
    assert second["errors"] == []
    assert second["declaration"]["supersedes"] == first["declaration"]["id"]
    current = await read_order(order["orderNo"])
    assert current["version"] == 2
    assert [p["appType"] for p in current["provenance"]] == ["1", "2"]

    cancel = order | {"appType": "3", "appTime": "20240315120000"}
    third = await declare("cbec.order", cancel, as_=PLATFORM)
    assert third["declaration"]["supersedes"] == second["declaration"]["id"]
    cancelled = await read_order(order["orderNo"])
    assert cancelled["status"] == "CANCELLED"
    assert [p["appType"] for p in cancelled["provenance"]] == ["1", "2", "3"]

    after_cancel = order | {"appType": "2", "appTime": "20240315130000"}
    refused = await declare("cbec.order", after_cancel, as_=PLATFORM)
    assert [e["code"] for e in refused["errors"]] == ["RECORD_CANCELLED"]


async def test_lifecycle_refusals_for_new_and_change(declare: Declare) -> None:
    order = import_documents()["order"]
    change_first = await declare("cbec.order", order | {"appType": "2"}, as_=PLATFORM)
    assert [e["code"] for e in change_first["errors"]] == ["RECORD_NOT_FOUND"]
    assert (await declare("cbec.order", order, as_=PLATFORM))["errors"] == []
    renewed = order | {"appTime": "20240315170000"}
    again_new = await declare("cbec.order", renewed, as_=PLATFORM)
    assert [e["code"] for e in again_new["errors"]] == ["RECORD_EXISTS"]


async def _batch(gql: Gql, token: str, payloads: list[Any], *, atomic: bool) -> dict[str, Any]:
    inputs = [{"standard": "cbec.order", "payload": p} for p in payloads]
    body = await gql(DECLARE_BATCH, token=token, variables={"inputs": inputs, "atomic": atomic})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["declareBatch"]
    return result


def _three_orders_with_a_bad_middle() -> list[dict[str, Any]]:
    orders = [import_documents(f"XZB{n:04d}")["order"] for n in range(3)]
    del orders[1]["buyerIdNumber"]
    return orders


async def test_an_atomic_batch_with_a_bad_record_stores_nothing(
    gql: Gql, enterprise_token: Any, shipped: None, app: Starlette
) -> None:
    result = await _batch(
        gql, await enterprise_token(PLATFORM), _three_orders_with_a_bad_middle(), atomic=True
    )
    assert result["committed"] is False
    assert result["accepted"] == 0 and result["rejected"] == 1
    codes = [[e["code"] for e in r["errors"]] for r in result["results"]]
    assert codes == [["BATCH_ABORTED"], ["SCHEMA_VIOLATION"], ["BATCH_ABORTED"]]
    assert all(r["declaration"] is None for r in result["results"])
    assert await _count(app) == 0
    assert await _count(app, Order) == 0


async def test_a_non_atomic_batch_stores_the_good_records_around_a_bad_one(
    gql: Gql, enterprise_token: Any, shipped: None, app: Starlette
) -> None:
    result = await _batch(
        gql, await enterprise_token(PLATFORM), _three_orders_with_a_bad_middle(), atomic=False
    )
    assert result["committed"] is True
    assert result["accepted"] == 2 and result["rejected"] == 1
    indexes = [
        r["declaration"]["chainIndex"] if r["declaration"] else None for r in result["results"]
    ]
    assert indexes == [1, None, 2]
    assert result["results"][1]["errors"][0]["path"] == "/buyerIdNumber"
    assert await _count(app) == 2
    assert await _count(app, Order) == 2


async def test_a_batch_over_1000_records_is_refused_whole(
    gql: Gql, enterprise_token: Any, shipped: None, app: Starlette
) -> None:
    payload = import_documents()["order"]
    inputs = [{"standard": "cbec.order", "payload": payload}] * 1001
    body = await gql(
        DECLARE_BATCH,
        token=await enterprise_token(PLATFORM),
        variables={"inputs": inputs, "atomic": False},
    )
    # Refused before anything runs (a query limit): coercing and answering an unbounded
    # list would cost more than the refusal saves.
    assert body.get("data") is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["LIST_TOO_LONG"]
    assert await _count(app) == 0


async def test_a_batch_declaring_the_same_record_twice_keeps_one(
    gql: Gql, enterprise_token: Any, shipped: None, app: Starlette
) -> None:
    payload = import_documents()["order"]
    result = await _batch(gql, await enterprise_token(PLATFORM), [payload, payload], atomic=True)
    assert result["committed"] is True
    assert result["results"][1]["duplicate"] is True
    assert result["results"][0]["declaration"]["id"] == result["results"][1]["declaration"]["id"]
    assert await _count(app) == 1


async def test_concurrent_duplicates_store_exactly_one_declaration(
    declare: Declare, app: Starlette
) -> None:
    payload = import_documents()["order"]
    results = await asyncio.gather(
        *(declare("cbec.order", payload, as_=PLATFORM) for _ in range(6))
    )
    ids = {r["declaration"]["id"] for r in results}
    assert len(ids) == 1
    assert sorted(r["duplicate"] for r in results) == [False] + [True] * 5
    assert await _count(app) == 1


async def test_concurrent_writers_get_a_gapless_chain(declare: Declare, app: Starlette) -> None:
    payloads = [import_documents(f"XZC{n:04d}")["order"] for n in range(12)]
    results = await asyncio.gather(*(declare("cbec.order", p, as_=PLATFORM) for p in payloads))
    indexes = sorted(r["declaration"]["chainIndex"] for r in results)
    assert indexes == list(range(1, 13))
    from hub.declarations import chain

    assert await log_integrated(app) == 12
    async with app.state.runtime.session_factory() as session:
        report = await chain.verify(session=session)
    assert report.ok and report.checked == 12


CHECK = """
mutation($input: StandardVersionInput!) {
  checkCompatibility(input: $input) {
    report {
      compatible
      dataSample { sampled rejected examples { declarationId standard issues { path keyword } } }
    }
    errors { code message }
  }
}"""


async def test_a_compatibility_check_reports_how_many_stored_records_the_candidate_refuses(
    declare: Declare, gql: Gql, get_token: Any, app: Starlette
) -> None:
    accepted = []
    for n in range(3):
        order = import_documents(f"XZS{n:04d}")["order"]
        order["note"] = "short" if n else "a note that is much longer than ten characters"
        accepted.append((await declare("cbec.order", order, as_=PLATFORM))["declaration"])
    async with app.state.runtime.session_factory() as session:
        current = await standards.get_version(
            session=session, standard_id="cbec.order", version="1.0.0"
        )
    candidate = copy.deepcopy(current.schema)
    candidate["properties"]["note"] = {"type": "string", "maxLength": 10, "x-hub-category": "order"}
    admin = await get_token(scopes="standards:write")
    body = await gql(
        CHECK,
        token=admin,
        variables={"input": {"standardId": "cbec.order", "version": "1.1.0", "schema": candidate}},
    )
    report = body["data"]["checkCompatibility"]["report"]
    assert report["compatible"] is False
    sample = report["dataSample"]
    assert (sample["sampled"], sample["rejected"]) == (3, 1)
    [example] = sample["examples"]
    assert example["declarationId"] == accepted[0]["id"]
    assert example["standard"] == "cbec.order@1.0.0"
    assert example["issues"][0] == {"path": "/note", "keyword": "maxLength"}
