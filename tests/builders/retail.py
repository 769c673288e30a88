"""Import retail orders of a chosen value, buyer and platform, and a hub to declare them in.

The annual-limit tests need many orders of exact dutiable values (freight, insurance and
discount 0, so the value counted against the limits is the goods value) from several
platforms for the same buyer. `RetailHub` declares as any enterprise with real tokens and
reads orders back as their platform.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.builders.parties import publish_shipped_standards
from tests.standards.samples import AGENT, BUYER, PLATFORM, SECOND_BUYER, SELLER, sample, uscc

# A second platform with no part in the victim's orders: the attacker.
RIVAL_PLATFORM = uscc("91320303MA1PLT021")
# A third buyer, for the comparisons "with and without the victim's spending".
THIRD_BUYER = {"name": "王五", "id": "320300197703030030", "phone": "000-0000-0003"}

__all__ = [
    "AGENT",
    "BUYER",
    "PLATFORM",
    "RIVAL_PLATFORM",
    "SECOND_BUYER",
    "SELLER",
    "THIRD_BUYER",
    "RetailHub",
    "retail_hub",
    "retail_order",
]

_DECLARE = """
mutation($input: DeclareInput!) {
  declare(input: $input) { declaration { id } duplicate errors { code path message } }
}"""
_DECLARE_BATCH = """
mutation($inputs: [DeclareInput!]!) {
  declareBatch(inputs: $inputs, atomic: true) { accepted rejected results { errors { code } } }
}"""
_ORDER = """
query($ebp: String!, $no: String!) {
  order(ebpCode: $ebp, orderNo: $no) { orderNo status riskFlags customsStatus taxComputed }
}"""


def retail_order(
    order_no: str,
    value: int | str | Decimal,
    *,
    platform: str = PLATFORM,
    seller: str = SELLER,
    agent: str = AGENT,
    buyer: dict[str, str] = BUYER,
    app_time: str = "20240315101500",
    single_item: bool = False,
) -> dict[str, dict[str, Any]]:
    """A 9610 order (and its inventory) of `value` CNY for `buyer` on `platform`.

    The inventory is declared through `agent`, who also guarantees the tax: an attacker
    fabricating orders names itself in every role.
    """
    order = sample("cbec.order", "import-9610")
    inventory = sample("cbec.inventory", "import-9610")
    value = Decimal(value)
    lines = order["items"][:1] if single_item else order["items"]
    inventory_lines = inventory["items"][: len(lines)]
    per_line = value / len(lines)
    for line, inv_line in zip(lines, inventory_lines, strict=True):
        for item in (line, inv_line):
            item |= {"qty": "1", "price": f"{per_line:.2f}", "totalPrice": f"{per_line:.2f}"}
    people = {
        "buyerName": buyer["name"],
        "buyerIdNumber": buyer["id"],
        "buyerTelephone": buyer["phone"],
    }
    order |= people | {
        "orderNo": order_no,
        "ebpCode": platform,
        "ebcCode": seller,
        "items": lines,
        "goodsValue": f"{value:.2f}",
        "taxTotal": "0.00",
        "acturalPaid": f"{value:.2f}",
        "appTime": app_time,
    }
    order.pop("payCode", None)
    order.pop("payName", None)
    order.pop("payTransactionId", None)
    inventory |= {
        "orderNo": order_no,
        "ebpCode": platform,
        "ebcCode": seller,
        "agentCode": agent,
        "assureCode": agent,
        "items": inventory_lines,
        "logisticsNo": f"NT{order_no}"[:60],
        "copNo": f"C{order_no}"[:20],
        "buyerName": buyer["name"],
        "buyerIdNumber": buyer["id"],
        "buyerTelephone": buyer["phone"],
    }
    return {"order": order, "inventory": inventory}


@dataclass
class RetailHub:
    """Declares as any enterprise and reads orders as their platform."""

    http: httpx.AsyncClient
    register: Callable[..., Awaitable[Any]]
    tokens: dict[str, str] = field(default_factory=dict)

    async def token(self, code: str) -> str:
        """A `declare` token of a client bound to `code` (one client per enterprise)."""
        if code not in self.tokens:
            client = await self.register(name=f"ERP {code}", scopes="declare", enterprise=code)
            response = await self.http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client.client_id, client.client_secret),
            )
            assert response.status_code == 200, response.text
            self.tokens[code] = response.json()["access_token"]
        return self.tokens[code]

    async def gql(self, query: str, variables: dict[str, Any], *, as_: str) -> dict[str, Any]:
        """Runs a GraphQL operation as the enterprise `as_`."""
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {await self.token(as_)}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def declare(self, standard: str, payload: dict[str, Any], *, as_: str) -> None:
        """Declares one record and insists it is accepted."""
        variables = {"input": {"standard": standard, "payload": payload}}
        result = (await self.gql(_DECLARE, variables, as_=as_))["declare"]
        assert result["errors"] == [], result

    async def declare_batch(self, records: list[tuple[str, dict[str, Any]]], *, as_: str) -> None:
        """Declares (standard, payload) records in one atomic batch, all accepted."""
        inputs = [{"standard": standard, "payload": payload} for standard, payload in records]
        result = (await self.gql(_DECLARE_BATCH, {"inputs": inputs}, as_=as_))["declareBatch"]
        assert result["rejected"] == 0, result

    async def order_with_inventory(
        self, docs: dict[str, dict[str, Any]], *, as_: str, inventory_as: str | None = None
    ) -> None:
        """Declares an order by `as_` and its inventory by `inventory_as` (default: the
        inventory's broker, `agentCode`, the only role that may declare it)."""
        await self.declare("cbec.order", docs["order"], as_=as_)
        inventory = docs["inventory"]
        await self.declare("cbec.inventory", inventory, as_=inventory_as or inventory["agentCode"])

    async def receipt(
        self, docs: dict[str, dict[str, Any]], status: int, time: str, *, as_: str
    ) -> None:
        """Declares a customs receipt (622) on the order's inventory, forwarded by `as_`."""
        inventory = docs["inventory"]
        receipt = sample("cbec.inventory-status", "released") | {
            "ebpCode": inventory["ebpCode"],
            "orderNo": inventory["orderNo"],
            "copNo": inventory["copNo"],
            "agentCode": inventory["agentCode"],
            "returnStatus": status,
            "returnTime": time,
            "appTime": time,
        }
        await self.declare("cbec.inventory-status", receipt, as_=as_)

    async def cancel(self, docs: dict[str, dict[str, Any]], time: str, *, as_: str) -> None:
        """Cancels (appType 3) the order."""
        await self.declare("cbec.order", docs["order"] | {"appType": "3", "appTime": time}, as_=as_)

    async def flags(self, docs: dict[str, dict[str, Any]]) -> list[str]:
        """The order's riskFlags as its own platform reads them."""
        order = docs["order"]
        variables = {"ebp": order["ebpCode"], "no": order["orderNo"]}
        node = (await self.gql(_ORDER, variables, as_=order["ebpCode"]))["order"]
        assert node is not None
        return list(node["riskFlags"])


@pytest.fixture
async def retail_hub(
    app: Starlette,
    http: httpx.AsyncClient,
    register_client: Callable[..., Awaitable[Any]],
) -> AsyncIterator[RetailHub]:
    """A hub with the shipped standards published, declaring through GraphQL."""
    await publish_shipped_standards(app)
    yield RetailHub(http=http, register=register_client)
