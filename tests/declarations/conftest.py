"""Fixtures for declaring records through GraphQL as enterprise systems do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from starlette.applications import Starlette

from hub.trade.rules_config import DEFAULT_RULES
from hub.trade.tax import retail_import_tax
from tests.builders.parties import publish_shipped_standards
from tests.standards.samples import (
    AGENT,
    CARRIER,
    PAYER_INSTITUTION,
    PLATFORM,
    SELLER,
    sample,
)

Gql = Callable[..., Awaitable[dict[str, Any]]]
Token = Callable[..., Awaitable[str]]

DECLARE = """
mutation($input: DeclareInput!) {
  declare(input: $input) {
    declaration { id chainIndex standard declarant clientId contentHash prevHash chainHash
                  supersedes recordKey appType idempotencyKey }
    duplicate warnings
    errors { code path keyword message }
  }
}"""
DECLARE_BATCH = """
mutation($inputs: [DeclareInput!]!, $atomic: Boolean!) {
  declareBatch(inputs: $inputs, atomic: $atomic) {
    accepted rejected committed batchId
    results { declaration { id chainIndex } duplicate errors { code path message } }
  }
}"""
ORDER = """
query($ebp: String!, $no: String!) {
  order(ebpCode: $ebp, orderNo: $no) {
    orderNo status version tradeMode riskFlags taxTotal taxComputed customsStatus
    matching { status missing discrepancies { code detail } }
    provenance { declarationId chainIndex standard appType declarant contentHash }
  }
}"""


def import_documents(order_no: str = "XZ202403150001") -> dict[str, dict[str, Any]]:
    """An import 9610 order with payment, waybill and inventory that match exactly."""
    order = sample("cbec.order", "import-9610")
    payment = sample("cbec.payment", "payment")
    waybill = sample("cbec.waybill", "import")
    inventory = sample("cbec.inventory", "import-9610")
    tax = retail_import_tax(order=order, inventory=inventory, config=DEFAULT_RULES).computed
    paid = (
        Decimal(order["goodsValue"]) + Decimal(order["freight"]) + tax - Decimal(order["discount"])
    )
    order |= {"orderNo": order_no, "taxTotal": f"{tax:.2f}", "acturalPaid": f"{paid:.2f}"}
    order["payTransactionId"] = f"PAY{order_no}"
    payment |= {
        "orderNo": order_no,
        "payTransactionId": f"PAY{order_no}",
        "amountPaid": f"{paid:.2f}",
    }
    waybill |= {"orderNo": order_no, "logisticsNo": f"NT{order_no}"}
    inventory |= {"orderNo": order_no, "logisticsNo": f"NT{order_no}", "copNo": f"COP{order_no}"}
    return {"order": order, "payment": payment, "waybill": waybill, "inventory": inventory}


STANDARD_OF = {
    "order": "cbec.order",
    "payment": "cbec.payment",
    "waybill": "cbec.waybill",
    "inventory": "cbec.inventory",
}
DECLARANT_OF = {
    "order": PLATFORM,
    "payment": PAYER_INSTITUTION,
    "waybill": CARRIER,
    "inventory": AGENT,
}


@pytest.fixture
async def shipped(app: Starlette) -> None:
    """The shipped standards, published."""
    await publish_shipped_standards(app)


@pytest.fixture
def enterprise_token(get_token: Token) -> Callable[[str], Awaitable[str]]:
    """A `declare` token for a client bound to the enterprise (one client per code)."""
    cache: dict[str, str] = {}

    async def token(code: str) -> str:
        if code not in cache:
            cache[code] = await get_token(scopes="declare", enterprise=code, name=f"ERP {code}")
        return cache[code]

    return token


@pytest.fixture
def declare(
    gql: Gql, enterprise_token: Callable[[str], Awaitable[str]], shipped: None
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Declares one record as an enterprise and returns the `declare` payload."""

    async def run(
        standard: str, payload: Any, *, as_: str, key: str | None = None
    ) -> dict[str, Any]:
        token = await enterprise_token(as_)
        variables = {"input": {"standard": standard, "payload": payload, "idempotencyKey": key}}
        body = await gql(DECLARE, token=token, variables=variables)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["declare"]
        return result

    return run


@pytest.fixture
def declare_doc(
    declare: Callable[..., Awaitable[dict[str, Any]]],
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Declares one of the import documents by its natural declarant."""

    async def run(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        result = await declare(STANDARD_OF[kind], payload, as_=DECLARANT_OF[kind])
        assert result["errors"] == [], result
        return result

    return run


@pytest.fixture
def read_order(
    gql: Gql, enterprise_token: Callable[[str], Awaitable[str]]
) -> Callable[..., Awaitable[Any]]:
    """Reads an order as its platform."""

    async def run(order_no: str, *, as_: str = PLATFORM) -> Any:
        body = await gql(
            ORDER, token=await enterprise_token(as_), variables={"ebp": PLATFORM, "no": order_no}
        )
        assert "errors" not in body, body
        return body["data"]["order"]

    return run


__all__ = ["AGENT", "CARRIER", "PAYER_INSTITUTION", "PLATFORM", "SELLER"]
