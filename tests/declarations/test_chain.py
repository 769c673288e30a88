"""The hash chain detects altered, removed and reordered declarations, and says where.

The chain is a view over the verifiable log: the sequencer writes each link when it
integrates the declaration's entry, so links are checked once the log has them.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, select, update
from starlette.applications import Starlette

from hub.db import unit_of_work
from hub.declarations import chain
from hub.declarations.models import Declaration
from hub.log.models import LogEntry
from tests.declarations.conftest import PLATFORM, import_documents
from tests.support import log_integrated

Declare = Callable[..., Awaitable[dict[str, Any]]]
Gql = Callable[..., Awaitable[dict[str, Any]]]
VERIFY = """
query($from: Int!, $to: Int) {
  verifyChain(fromIndex: $from, toIndex: $to) {
    ok checked fromIndex toIndex problems { index kind detail }
  }
}"""


async def _declare_five(declare: Declare, app: Starlette) -> list[dict[str, Any]]:
    results = []
    for n in range(5):
        result = await declare("cbec.order", import_documents(f"XZH{n:04d}")["order"], as_=PLATFORM)
        results.append(result["declaration"])
    assert await log_integrated(app) == 5
    return results


async def _verify(gql: Gql, token: str, start: int = 1, end: int | None = None) -> dict[str, Any]:
    body = await gql(VERIFY, token=token, variables={"from": start, "to": end})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["verifyChain"]
    return result


async def _tamper(app: Starlette, statement: Any) -> None:
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await session.execute(statement)


LINKS = """
query { declarations(first: 10) { edges { node { id chainIndex prevHash chainHash } } } }"""


async def test_an_untouched_chain_verifies_and_each_link_names_the_previous(
    declare: Declare, gql: Gql, get_token: Any, app: Starlette
) -> None:
    declared = await _declare_five(declare, app)
    # Pending when answered: the link is the sequencer's to write.
    assert [(d["prevHash"], d["chainHash"]) for d in declared] == [(None, None)] * 5
    body = await gql(LINKS, token=await get_token(scopes="audit:read"))
    links = [e["node"] for e in body["data"]["declarations"]["edges"]]
    assert [d["id"] for d in links] == [d["id"] for d in declared]
    assert links[0]["prevHash"] == chain.GENESIS_HASH
    for previous, current in itertools.pairwise(links):
        assert current["chainHash"] and current["prevHash"] == previous["chainHash"]
    report = await _verify(gql, await get_token(scopes="audit:read"))
    assert report == {"ok": True, "checked": 5, "fromIndex": 1, "toIndex": 5, "problems": []}
    partial = await _verify(gql, await get_token(scopes="audit:read"), 2, 4)
    assert (partial["ok"], partial["checked"]) == (True, 3)


async def test_an_altered_payload_is_reported_at_its_index(
    declare: Declare, gql: Gql, get_token: Any, app: Starlette
) -> None:
    await _declare_five(declare, app)
    await _tamper(
        app,
        update(Declaration)
        .where(Declaration.chain_index == 3)
        .values(payload=Declaration.payload + " "),
    )
    report = await _verify(gql, await get_token(scopes="audit:read"))
    assert report["ok"] is False
    assert [(p["index"], p["kind"]) for p in report["problems"]] == [(3, "PAYLOAD_ALTERED")]


async def test_altered_provenance_is_reported(
    declare: Declare, gql: Gql, get_token: Any, app: Starlette
) -> None:
    await _declare_five(declare, app)
    await _tamper(
        app,
        update(Declaration)
        .where(Declaration.chain_index == 2)
        .values(declarant="91000000000000000X"),
    )
    report = await _verify(gql, await get_token(scopes="audit:read"))
    assert [(p["index"], p["kind"]) for p in report["problems"]] == [(2, "LINK_ALTERED")]


async def test_a_removed_declaration_is_reported_as_missing(
    declare: Declare, gql: Gql, get_token: Any, app: Starlette
) -> None:
    await _declare_five(declare, app)
    await _tamper(app, delete(Declaration).where(Declaration.chain_index == 4))
    report = await _verify(gql, await get_token(scopes="audit:read"))
    assert [(p["index"], p["kind"]) for p in report["problems"]] == [(4, "MISSING")]


async def test_a_declaration_removed_with_its_log_entry_breaks_the_next_link(
    declare: Declare, gql: Gql, get_token: Any, app: Starlette
) -> None:
    declared = await _declare_five(declare, app)
    await _tamper(app, delete(Declaration).where(Declaration.chain_index == 4))
    await _tamper(app, delete(LogEntry).where(LogEntry.declaration_id == declared[3]["id"]))
    report = await _verify(gql, await get_token(scopes="audit:read"))
    kinds = {(p["index"], p["kind"]) for p in report["problems"]}
    assert (4, "MISSING") in kinds
    assert (5, "BROKEN_LINK") in kinds


async def test_a_removed_last_declaration_is_caught_by_the_head(
    declare: Declare, app: Starlette
) -> None:
    await _declare_five(declare, app)
    await _tamper(app, delete(Declaration).where(Declaration.chain_index == 5))
    async with app.state.runtime.session_factory() as session:
        report = await chain.verify(session=session)
    assert {(p.index, p.kind.value) for p in report.problems} >= {(5, "MISSING")}


async def test_swapped_numbers_are_reported_as_altered_links(
    declare: Declare, app: Starlette
) -> None:
    await _declare_five(declare, app)
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await session.execute(
            update(Declaration).where(Declaration.chain_index == 2).values(chain_index=-2)
        )
        await session.execute(
            update(Declaration).where(Declaration.chain_index == 3).values(chain_index=2)
        )
        await session.execute(
            update(Declaration).where(Declaration.chain_index == -2).values(chain_index=3)
        )
    async with app.state.runtime.session_factory() as session:
        report = await chain.verify(session=session)
    kinds = {(p.index, p.kind.value) for p in report.problems}
    assert kinds == {(2, "LINK_ALTERED"), (3, "LINK_ALTERED")}


async def test_swapped_log_entries_are_reported_as_broken_links(
    declare: Declare, app: Starlette
) -> None:
    await _declare_five(declare, app)
    async with unit_of_work(app.state.runtime.session_factory) as session:
        entries = LogEntry.__table__.c
        for old, new in ((1, -1), (2, 1), (-1, 2)):  # leaves 1 and 2: positions 2 and 3
            await session.execute(
                update(LogEntry.__table__).where(entries.leaf_index == old).values(leaf_index=new)
            )
    async with app.state.runtime.session_factory() as session:
        report = await chain.verify(session=session)
        links = (await session.scalars(select(LogEntry.chain_hash))).all()
    assert all(links)
    kinds = {(p.index, p.kind.value) for p in report.problems}
    assert {(2, "BROKEN_LINK"), (2, "LEAF_MISMATCH"), (3, "LEAF_MISMATCH")} <= kinds
