"""The sequencer: one leader per PostgreSQL database, takeover when it stops or is killed,
nothing lost, nothing duplicated, indices contiguous, every checkpoint consistent."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hub import migrate
from hub.log import merkle, store
from hub.log.entry import Entry
from hub.log.models import LogEntry
from hub.log.note import Signer, open_note
from hub.log.sequencer import Sequencer, integrate
from hub.log.verify import open_head

ORIGIN = "hub.test/log"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_url(fresh_postgres_database: Callable[[], str]) -> str:
    url = fresh_postgres_database()
    migrate.upgrade(database_url=url)
    return url


def _entry(n: int) -> dict[str, object]:
    data = Entry(f"d{n:031d}", "0" * 64, "cbec.order@1.0.0", "X", "c", "2026").encode()
    return {
        "declaration_id": f"d{n:031d}",
        "seq": n,
        "leaf_index": None,
        "entry": data,
        "leaf_hash": merkle.leaf_hash(data),
        "chain_hash": None,
        "queued_at": datetime.now(UTC),
        "sequenced_at": None,
    }


async def _queue(engine: AsyncEngine, start: int, count: int) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(LogEntry.__table__), [_entry(n) for n in range(start, start + count)]
        )


async def _wait(predicate: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def _wait_integrated(engine: AsyncEngine, total: int, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.05)):
        async with engine.connect() as connection:
            pending = await connection.scalar(
                text("SELECT count(*) FROM log_entries WHERE leaf_index IS NULL")
            )
            size = await store.tree_size(db=connection)
        if pending == 0 and size == total:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not all {total} entries were integrated")


async def _assert_log_is_whole(engine: AsyncEngine, total: int, signer: Signer) -> None:
    """Every entry once, leaves 0..total-1 in queue order, nodes = the tree of those leaves,
    every checkpoint signed and consistent with the final one."""
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT seq, leaf_index, leaf_hash FROM log_entries ORDER BY leaf_index")
            )
        ).all()
        nodes = {
            merkle.Node(level, idx): bytes(h)
            for level, idx, h in await connection.execute(
                text("SELECT level, idx, hash FROM log_nodes")
            )
        }
        checkpoints = (
            await connection.execute(text("SELECT size, root, note FROM log_checkpoints"))
        ).all()
    assert len(rows) == total
    assert [r.leaf_index for r in rows] == list(range(total))  # contiguous, none twice
    assert [r.seq for r in rows] == list(range(total))  # queue order kept
    reference: dict[merkle.Node, bytes] = {}
    roots = {0: merkle.EMPTY_ROOT}
    for i, r in enumerate(rows):
        created, roots[i + 1] = merkle.append(i, reference, [bytes(r.leaf_hash)])
        reference.update(created)
    assert nodes == reference  # no node written twice with another value, none missing
    final = roots[total]
    for size, root, note in checkpoints:
        head = open_head(note, [signer.verifier()])
        assert (head.size, head.root) == (size, bytes(root)) == (size, roots[size])
        proof = merkle.consistency_proof(size, total, lambda w: {n: nodes[n] for n in w})
        merkle.verify_consistency(size, total, roots[size], final, proof)


async def test_one_leads_the_other_takes_over_when_it_stops(pg_url: str) -> None:
    signer = Signer.generate(ORIGIN)
    producer = create_async_engine(pg_url)
    engines = [create_async_engine(pg_url) for _ in range(2)]
    first, second = (
        Sequencer(
            engine=e, signer=signer, origin=ORIGIN, interval=0.02, batch=37, standby_poll=0.05
        )
        for e in engines
    )
    try:
        first.start()
        await _wait(lambda: first.leading, "the first sequencer to lead")
        second.start()
        await asyncio.sleep(0.2)
        assert first.leading and not second.leading  # the advisory lock admits one

        sent = 0
        for _ in range(10):
            await _queue(producer, sent, 25)
            sent += 25
            await asyncio.sleep(0.01)
        await first.stop()  # mid-stream: some entries are still queued
        await _wait(lambda: second.leading, "the second sequencer to take over")
        for _ in range(10):
            await _queue(producer, sent, 25)
            sent += 25
        await _wait_integrated(producer, sent)
        first.start()  # back again: it stands by while the second leads
        await asyncio.sleep(0.2)
        assert second.leading and not first.leading
        await _assert_log_is_whole(producer, sent, signer)
        assert first.delays.integrated + second.delays.integrated == sent
    finally:
        await first.stop()
        await second.stop()
        for engine in (producer, *engines):
            await engine.dispose()


async def test_a_second_writer_beside_the_leader_cannot_corrupt_the_tree(pg_url: str) -> None:
    """Even without the lock, two batches over the same state cannot both commit."""
    signer = Signer.generate(ORIGIN)
    engine = create_async_engine(pg_url)
    try:
        await _queue(engine, 0, 10)
        a, b = await engine.connect(), await engine.connect()
        await a.begin()
        await b.begin()
        await integrate(db=a, signer=signer, origin=ORIGIN, limit=5)
        # b reads the same state as a (a has not committed) and then waits on a's rows.
        racing = asyncio.create_task(integrate(db=b, signer=signer, origin=ORIGIN, limit=5))
        await asyncio.sleep(0.5)
        assert not racing.done()
        await a.commit()
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            await racing
        await b.rollback()
        await a.close()
        await b.close()
        async with engine.begin() as connection:
            await integrate(db=connection, signer=signer, origin=ORIGIN, limit=100)
        await _assert_log_is_whole(engine, 10, signer)
    finally:
        await engine.dispose()


_CHILD = textwrap.dedent(
    """
    import asyncio, os, sys
    from sqlalchemy.ext.asyncio import create_async_engine
    from hub.log.note import Signer
    from hub.log.sequencer import Sequencer

    async def main():
        engine = create_async_engine(os.environ["URL"])
        signer = Signer.from_seed("hub.test/log", bytes.fromhex(os.environ["SEED"]))
        sequencer = Sequencer(engine=engine, signer=signer, origin="hub.test/log",
                              interval=0.01, batch=20, standby_poll=0.05)
        sequencer.start()
        while True:
            await asyncio.sleep(0.01)
            if sequencer.leading:
                print("leading", flush=True)
                await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


async def test_sigkill_during_sequencing_loses_nothing(pg_url: str) -> None:
    signer = Signer.generate(ORIGIN)
    engine = create_async_engine(pg_url)
    total = 6000
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD],
        env={**os.environ, "URL": pg_url, "SEED": signer.seed.hex(), "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    local = Sequencer(engine=engine, signer=signer, origin=ORIGIN, interval=0.02, batch=500)
    try:
        assert child.stdout is not None
        line = await asyncio.to_thread(child.stdout.readline)
        assert line.strip() == b"leading"
        await _queue(engine, 0, total)
        # Kill it once it has integrated some but not all: mid-way through its batches.
        for _ in range(500):
            async with engine.connect() as connection:
                size = await store.tree_size(db=connection)
            if size >= 200:
                break
            await asyncio.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        assert 0 < size < total
        local.start()
        await _wait(lambda: local.leading, "the surviving sequencer to take over")
        await _wait_integrated(engine, total, seconds=60)
        await _assert_log_is_whole(engine, total, signer)
    finally:
        if child.poll() is None:
            child.kill()
        await local.stop()
        await engine.dispose()


def test_checkpoints_are_signed_notes_of_the_log_key() -> None:
    signer = Signer.generate(ORIGIN)
    note = f"{ORIGIN}\n0\n{'A' * 43}=\n"
    with pytest.raises(ValueError):
        open_note(note, [signer.verifier()])  # unsigned text is no checkpoint
