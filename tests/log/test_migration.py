"""Migration 0011 turns an existing hash chain into the first leaves, changing no declaration."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hub import migrate
from hub.declarations import chain
from hub.log import merkle
from hub.log.entry import Entry

BEFORE = "0013_documents"
CHAINED = 7 + 5000 + 3  # more than one migration page, a size that is no power of two


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'chained.db'}"
    make: Callable[[], str] = request.getfixturevalue("fresh_postgres_database")
    return make()


def _chain_rows(count: int) -> list[dict[str, object]]:
    rows, prev = [], chain.GENESIS_HASH
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    for index in range(1, count + 1):
        payload = f'{{"n":{index}}}'
        received = start + timedelta(seconds=index, microseconds=index)
        row = {
            "id": f"d{index:031d}",
            "chain_index": index,
            "standard_id": "cbec.order",
            "standard_version": "1.0.0",
            "record_key": f"k{index}",
            "app_type": "1",
            "declarant": "91310000MA1FL0RDER",
            "client_id": f"hub_client_{index % 3}",
            "received_at": received,
            "payload": payload,
            "content_hash": hashlib.sha256(payload.encode()).hexdigest(),
            "prev_hash": prev,
        }
        row["chain_hash"] = chain.link_hash(
            index=index,
            prev_hash=prev,
            declaration_id=row["id"],
            content_hash=row["content_hash"],
            standard_ref="cbec.order@1.0.0",
            declarant=row["declarant"],
            client_id=row["client_id"],
            received_at=received,
        )
        prev = row["chain_hash"]
        rows.append(row)
    return rows


async def _fill(url: str, rows: list[dict[str, object]]) -> list[tuple]:
    engine = create_async_engine(url)
    sqlite = url.startswith("sqlite")
    try:
        async with engine.begin() as connection:
            stored = [
                r | {"received_at": r["received_at"].replace(tzinfo=None)} if sqlite else r
                for r in rows
            ]
            await connection.execute(
                text(
                    "INSERT INTO declarations (id, chain_index, standard_id, standard_version,"
                    " record_key, app_type, declarant, client_id, received_at, payload,"
                    " content_hash, prev_hash, chain_hash) VALUES (:id, :chain_index,"
                    " :standard_id, :standard_version, :record_key, :app_type, :declarant,"
                    " :client_id, :received_at, :payload, :content_hash, :prev_hash,"
                    " :chain_hash)"
                ),
                stored,
            )
            await connection.execute(
                text("UPDATE chain_head SET last_index = :i, last_hash = :h"),
                {"i": len(rows), "h": rows[-1]["chain_hash"]},
            )
        return await _dump_declarations(url)
    finally:
        await engine.dispose()


async def _dump_declarations(url: str) -> list[tuple]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT * FROM declarations ORDER BY id"))
            return [tuple(r) for r in rows]
    finally:
        await engine.dispose()


async def _log(url: str) -> tuple[list[tuple], dict[merkle.Node, bytes]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            entries = (
                await connection.execute(
                    text(
                        "SELECT leaf_index, declaration_id, seq, entry, leaf_hash, chain_hash"
                        " FROM log_entries ORDER BY leaf_index"
                    )
                )
            ).all()
            nodes = await connection.execute(text("SELECT level, idx, hash FROM log_nodes"))
            return [tuple(e) for e in entries], {
                merkle.Node(level, idx): bytes(h) for level, idx, h in nodes
            }
    finally:
        await engine.dispose()


async def test_the_chain_becomes_the_first_leaves_in_chain_order(empty_database: str) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url=empty_database, revision=BEFORE)
    rows = _chain_rows(CHAINED)
    before = await _fill(empty_database, rows)

    await asyncio.to_thread(migrate.upgrade, database_url=empty_database)

    assert await _dump_declarations(empty_database) == before  # no declaration changed
    entries, nodes = await _log(empty_database)
    assert [e[0] for e in entries] == list(range(CHAINED))  # contiguous leaves from 0
    for (leaf_index, declaration_id, seq, data, leaf, chain_hash), row in zip(
        entries, rows, strict=True
    ):
        assert (declaration_id, seq, chain_hash) == (row["id"], leaf_index + 1, row["chain_hash"])
        entry = Entry.decode(bytes(data))
        assert entry.declaration_id == row["id"]
        assert entry.content_hash == row["content_hash"]
        assert entry.standard == "cbec.order@1.0.0"
        assert (entry.declarant, entry.client_id) == (row["declarant"], row["client_id"])
        assert entry.received_at == row["received_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert bytes(leaf) == merkle.leaf_hash(bytes(data))

    # The stored nodes are the tree of exactly those leaves: the root computed from scratch
    # (one leaf at a time, independent of the migration's pages) is the stored one.
    reference: dict[merkle.Node, bytes] = {}
    root = merkle.EMPTY_ROOT
    for i, e in enumerate(entries):
        created, root = merkle.append(i, reference, [merkle.leaf_hash(bytes(e[3]))])
        reference.update(created)
    assert nodes == reference
    assert merkle.root_from(CHAINED, nodes) == root


async def test_an_empty_chain_migrates_to_an_empty_log_and_back(empty_database: str) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url=empty_database)
    entries, nodes = await _log(empty_database)
    assert (entries, nodes) == ([], {})
    await asyncio.to_thread(migrate.downgrade, database_url=empty_database, revision=BEFORE)
    assert await migrate.current_revision(database_url=empty_database) == BEFORE
