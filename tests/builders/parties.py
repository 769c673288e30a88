"""Enterprises in every role, a matching set of trade documents, and fixtures that declare
and read as any of them with real tokens from the token endpoint.

Import the fixtures a test module uses (`from tests.builders.parties import hub_actors`);
`hub_actors` is the one entry point: it publishes the shipped standards and hands out a
`Actors` object that declares and queries as any enterprise or department.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from starlette.applications import Starlette

from hub.db import unit_of_work
from hub.models import metadata
from hub.standards.shipped import publish_shipped
from hub.trade.rules_config import DEFAULT_RULES
from hub.trade.tax import retail_import_tax
from tests.standards.samples import (
    AGENT,
    CARRIER,
    PAYER_INSTITUTION,
    PLATFORM,
    SELLER,
    sample,
    uscc,
)

# Parties of the standard documents below, each a different enterprise.
GUARANTOR = uscc("91320602MA1GRT007")  # bears the withheld tax (assureCode)
OWNER = uscc("91320311MA1WNR008")  # owner of exported goods (ownerCode)
# Enterprises with no part in them: the attackers.
OTHER_PLATFORM = uscc("91320303MA1PLT009")
OTHER_PAYER = uscc("91320602MA1PAY010")
OTHER_CARRIER = uscc("91320612MA1WLG011")
OTHER_AGENT = uscc("91320303MA1BGD012")
STRANGER = uscc("91320311MA1XTR013")

DECLARE = """
mutation($input: DeclareInput!) {
  declare(input: $input) {
    declaration { id chainIndex declarant clientId recordKey appType supersedes }
    duplicate warnings
    errors { code path message }
  }
}"""

STANDARD_OF = {
    "order": "cbec.order",
    "payment": "cbec.payment",
    "receipt": "cbec.receipt",
    "waybill": "cbec.waybill",
    "inventory": "cbec.inventory",
    "status": "cbec.inventory-status",
    "milestone": "cbec.logistics-status",
}
DECLARANT_OF = {
    "order": PLATFORM,
    "payment": PAYER_INSTITUTION,
    "receipt": PAYER_INSTITUTION,
    "waybill": CARRIER,
    "inventory": AGENT,
    "status": AGENT,
    "milestone": CARRIER,
}


def import_set(order_no: str = "XZ-AUTH-0001") -> dict[str, dict[str, Any]]:
    """An import 9610 order with payment, waybill, inventory and a customs release that all
    match; the inventory names a guarantor of its own."""
    order = sample("cbec.order", "import-9610")
    payment = sample("cbec.payment", "payment")
    waybill = sample("cbec.waybill", "import")
    inventory = sample("cbec.inventory", "import-9610")
    status = sample("cbec.inventory-status", "released")
    tax = retail_import_tax(order=order, inventory=inventory, config=DEFAULT_RULES).computed
    paid = (
        Decimal(order["goodsValue"]) + Decimal(order["freight"]) + tax - Decimal(order["discount"])
    )
    order |= {
        "orderNo": order_no,
        "taxTotal": f"{tax:.2f}",
        "acturalPaid": f"{paid:.2f}",
        "payTransactionId": f"PAY{order_no}",
    }
    payment |= {
        "orderNo": order_no,
        "payTransactionId": f"PAY{order_no}",
        "amountPaid": f"{paid:.2f}",
    }
    waybill |= {"orderNo": order_no, "logisticsNo": f"NT{order_no}"}
    inventory |= {
        "orderNo": order_no,
        "logisticsNo": f"NT{order_no}",
        "copNo": f"COP{order_no}"[:20],
        "assureCode": GUARANTOR,
    }
    status |= {"orderNo": order_no, "copNo": inventory["copNo"]}
    return {
        "order": order,
        "payment": payment,
        "waybill": waybill,
        "inventory": inventory,
        "status": status,
    }


def export_set(order_no: str = "EX-AUTH-0001") -> dict[str, dict[str, Any]]:
    """An export 9610 order with its receipt, waybill and inventory (owner named)."""
    order = sample("cbec.order", "export-9610") | {"orderNo": order_no}
    receipt = sample("cbec.receipt", "receipt") | {"orderNo": order_no}
    waybill = sample("cbec.waybill", "export") | {
        "orderNo": order_no,
        "logisticsNo": f"NTE{order_no}",
    }
    inventory = sample("cbec.inventory", "export-9610") | {
        "orderNo": order_no,
        "logisticsNo": f"NTE{order_no}",
        "ownerCode": OWNER,
    }
    receipt["currency"] = order["currency"]
    return {"order": order, "receipt": receipt, "waybill": waybill, "inventory": inventory}


@dataclass
class Actors:
    """Declares and reads as any enterprise (a `declare` client bound to it) or reader."""

    http: httpx.AsyncClient
    register: Callable[..., Awaitable[Any]]
    app: Starlette
    tokens: dict[str, str] = field(default_factory=dict)
    client_ids: dict[str, str] = field(default_factory=dict)

    async def _token(self, key: str, *, scopes: str, enterprise: str | None) -> str:
        if key not in self.tokens:
            client = await self.register(name=f"client {key}", scopes=scopes, enterprise=enterprise)
            response = await self.http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client.client_id, client.client_secret),
            )
            assert response.status_code == 200, response.text
            self.tokens[key] = response.json()["access_token"]
            self.client_ids[key] = client.client_id
        return self.tokens[key]

    async def enterprise(self, code: str) -> str:
        """The token of the enterprise's `declare` client."""
        return await self._token(code, scopes="declare", enterprise=code)

    async def reader(self, scopes: str) -> str:
        """The token of a department, bank or supervisor client with these scopes."""
        return await self._token(scopes, scopes=scopes, enterprise=None)

    async def post(
        self,
        query: str,
        *,
        token: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Posts one GraphQL operation; returns the HTTP response."""
        return await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
        )

    async def query(
        self,
        query: str,
        *,
        as_: str | None = None,
        scopes: str | None = None,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Runs a GraphQL operation as an enterprise (`as_`) or a reader (`scopes`)."""
        token = await self.enterprise(as_) if as_ else await self.reader(scopes or "")
        response = await self.post(query, token=token, variables=variables, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def declare(
        self, standard: str, payload: Any, *, as_: str, key: str | None = None
    ) -> dict[str, Any]:
        """Declares one record as the enterprise; returns the `declare` payload."""
        variables = {"input": {"standard": standard, "payload": payload, "idempotencyKey": key}}
        body = await self.query(DECLARE, as_=as_, variables=variables)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["declare"]
        return result

    async def file(self, kind: str, payload: dict[str, Any], *, as_: str | None = None) -> str:
        """Declares a document by its natural declarant (or `as_`); must be accepted."""
        result = await self.declare(STANDARD_OF[kind], payload, as_=as_ or DECLARANT_OF[kind])
        assert result["errors"] == [], result
        return str(result["declaration"]["id"])

    async def file_all(self, docs: dict[str, dict[str, Any]], *kinds: str) -> None:
        """Declares the named documents of a set (all of them by default), in that order."""
        for kind in kinds or tuple(docs):
            await self.file(kind, docs[kind])


@pytest.fixture
async def hub_actors(
    app: Starlette,
    http: httpx.AsyncClient,
    register_client: Callable[..., Awaitable[Any]],
) -> Actors:
    """The shipped standards published, and actors to declare and read with."""
    await publish_shipped_standards(app)
    return Actors(http=http, register=register_client, app=app)


# The rows `publish_shipped` writes into a database without standards, per dialect, kept
# from the first test of a worker process that publishes: each later one restores them
# (about 60 inserts) instead of checking and publishing two dozen versions again (most of
# a second). Publishing itself is tested in tests/standards and tests/registry.
_SHIPPED_TABLES = ("standards", "standard_versions", "events")
_SHIPPED_ROWS: dict[str, list[tuple[Any, list[dict[str, Any]]]]] = {}


async def publish_shipped_standards(app: Starlette) -> None:
    """Publishes the shipped standards, from the kept rows where the database has none."""
    runtime = app.state.runtime
    dialect = runtime.engine.dialect.name
    tables = [metadata.tables[name] for name in _SHIPPED_TABLES]
    async with unit_of_work(runtime.session_factory) as session:
        counts = [await session.scalar(select(func.count()).select_from(t)) for t in tables]
        empty = not any(counts)
        kept = _SHIPPED_ROWS.get(dialect)
        if empty and kept is not None:
            for table, rows in kept:
                if rows:
                    await session.execute(table.insert(), rows)
                    await _move_sequence(session, table, dialect)
            return
        await publish_shipped(session=session, actor="test")
        if empty:
            _SHIPPED_ROWS[dialect] = [
                (t, [dict(r._mapping) for r in await session.execute(select(t))]) for t in tables
            ]


async def _move_sequence(session: Any, table: Any, dialect: str) -> None:
    # Rows inserted with their ids leave PostgreSQL's sequence behind (SQLite's AUTOINCREMENT
    # follows the largest id by itself).
    if dialect != "postgresql":
        return
    for column in table.primary_key.columns:
        if column.autoincrement is True:
            await session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f'(SELECT max("{column.name}") FROM "{table.name}"))'
                )
            )


def codes(result: dict[str, Any]) -> list[str]:
    """The error codes of a declare payload."""
    return [e["code"] for e in result["errors"]]


ORDER_VIEW = """
query($ebp: String!, $no: String!) {
  order(ebpCode: $ebp, orderNo: $no) {
    orderNo status version payCode goodsValue
    matching { status missing }
    payment { payCode payTransactionId amountPaid }
    waybill { logisticsCode logisticsNo }
    inventory { agentCode customsStatus }
  }
}"""


async def order_as_customs(actors: Actors, ebp: str, order_no: str) -> dict[str, Any] | None:
    """An order as customs reads it (everything but personal data in clear)."""
    body = await actors.query(
        ORDER_VIEW, scopes="customs:read", variables={"ebp": ebp, "no": order_no}
    )
    assert "errors" not in body, body
    order: dict[str, Any] | None = body["data"]["order"]
    return order


__all__ = [
    "AGENT",
    "CARRIER",
    "PAYER_INSTITUTION",
    "PLATFORM",
    "SELLER",
]
