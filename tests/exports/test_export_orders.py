"""Exports show exactly what the graph shows the client, in every format, resumable, with
one access event naming every enterprise included."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import select
from starlette.applications import Starlette

from hub.access.models import AccessEvent
from hub.auth.models import Client
from hub.events.principals import principal_of
from hub.exports import service, writers
from hub.graphql.schema import build_schema
from tests.builders.parties import SELLER, Actors, hub_actors, import_set
from tests.events.helpers import grant_consent

__all__ = ["hub_actors"]

GRAPH = (
    "{ orders(first: 500) { edges { node { "
    + " ".join(service.ORDER_FIELDS)
    + " matching { status } } } } }"
)
COLUMNS = [*service.ORDER_FIELDS, "matchStatus"]


async def _principal(app: Starlette, client_id: str) -> Any:
    async with app.state.runtime.session_factory() as session:
        client = await session.scalar(select(Client).where(Client.client_id == client_id))
    return principal_of(client, app.state.runtime.settings)


async def _export(
    app: Starlette, client_id: str, **kwargs: Any
) -> tuple[list[dict[str, Any]], Any]:
    out = io.BytesIO()
    result = await service.export_orders(
        runtime=app.state.runtime,
        schema=build_schema(app.state.runtime.settings),
        principal=await _principal(app, client_id),
        writer=writers.NdjsonWriter(out),
        **kwargs,
    )
    return [json.loads(line) for line in out.getvalue().splitlines()], result


def _graph_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for edge in body["data"]["orders"]["edges"]:
        node = dict(edge["node"])
        matching = node.pop("matching")
        rows.append({**node, "matchStatus": matching["status"] if matching else None})
    return rows


async def test_an_export_is_what_the_graph_shows_the_client(
    hub_actors: Actors, app: Starlette
) -> None:
    for n in range(3):
        await hub_actors.file_all(import_set(f"XZ-EXP-{n:04d}"))
    for scopes in ("tax:read", "market:read", "customs:read pii:read"):
        token_body = await hub_actors.query(GRAPH, scopes=scopes)
        exported, result = await _export(app, hub_actors.client_ids[scopes])
        assert exported == _graph_rows(token_body), scopes
        assert result.rows == 3
    tax, _ = await _export(app, hub_actors.client_ids["tax:read"])
    assert all("*" in row["buyerIdNumber"] for row in tax)  # masked as in the graph
    market, _ = await _export(app, hub_actors.client_ids["market:read"])
    assert all(row["goodsValue"] is None for row in market)  # order category refused


async def test_a_bank_exports_only_consented_enterprises(
    hub_actors: Actors, app: Starlette
) -> None:
    await hub_actors.file_all(import_set("XZ-EXP-BANK"), "order")
    rows, _ = await _export(app, (await _bank(hub_actors)))
    assert rows == []
    await grant_consent(hub_actors, enterprise=SELLER)
    rows, result = await _export(app, hub_actors.client_ids["finance:read"])
    assert [r["orderNo"] for r in rows] == ["XZ-EXP-BANK"] and SELLER in result.enterprises


async def _bank(actors: Actors) -> str:
    await actors.reader("finance:read")
    return actors.client_ids["finance:read"]


async def test_an_export_resumes_from_its_cursor_and_is_one_access_event(
    hub_actors: Actors, app: Starlette
) -> None:
    for n in range(5):
        await hub_actors.file_all(import_set(f"XZ-EXP-R{n:03d}"), "order")
    await hub_actors.reader("customs:read")
    client = hub_actors.client_ids["customs:read"]
    first, head = await _export(app, client, limit=2)
    rest, _ = await _export(app, client, after=head.cursor)
    whole, _ = await _export(app, client)
    assert first + rest == whole and len(whole) == 5
    async with app.state.runtime.session_factory() as session:
        events = list(
            await session.scalars(select(AccessEvent).where(AccessEvent.operation_name == "Export"))
        )
    assert len(events) == 3  # one per export run, however many pages
    assert events[-1].record_count == 5 and SELLER in (events[-1].enterprises or [])


async def test_the_three_formats_hold_the_same_rows(
    hub_actors: Actors, app: Starlette, tmp_path: Path
) -> None:
    await hub_actors.file_all(import_set("XZ-EXP-FMT"))
    await hub_actors.reader("tax:read")
    principal = await _principal(app, hub_actors.client_ids["tax:read"])
    schema = build_schema(app.state.runtime.settings)
    outputs = {}
    for name in writers.FORMATS:
        path = tmp_path / f"orders.{name}"
        with path.open("wb") as out:
            writer: writers.Writer = (
                writers.NdjsonWriter(out)
                if name == "ndjson"
                else writers.CsvWriter(out, COLUMNS)
                if name == "csv"
                else writers.ParquetWriter(path, COLUMNS)
            )
            await service.export_orders(
                runtime=app.state.runtime, schema=schema, principal=principal, writer=writer
            )
            writer.close()
        outputs[name] = path
    from_json = [json.loads(line) for line in outputs["ndjson"].read_text().splitlines()]
    as_text = [{k: ("" if v is None else str(v)) for k, v in r.items()} for r in from_json]
    with outputs["csv"].open(newline="") as handle:
        assert list(csv.DictReader(handle)) == as_text
    table = pq.read_table(outputs["parquet"]).to_pylist()
    assert [{k: ("" if v is None else v) for k, v in r.items()} for r in table] == as_text
