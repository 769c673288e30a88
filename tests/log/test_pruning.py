"""Checkpoint pruning: older than the grace period, one checkpoint per keep-period stays,
and so do the newest and every cosigned one; younger ones are all kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from hub.log.models import LogCheckpoint, LogCosignature
from hub.log.service import prune_checkpoints

NOW = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
GRACE, KEEP = timedelta(minutes=10), timedelta(minutes=1)


async def _sizes(connection) -> list[int]:  # type: ignore[no-untyped-def]
    return list(await connection.scalars(select(LogCheckpoint.size).order_by(LogCheckpoint.size)))


async def test_old_checkpoints_are_thinned_to_one_a_minute_keeping_cosigned_ones(
    database_url: str,
) -> None:
    engine = create_async_engine(database_url)
    # Five checkpoints a minute for 20 minutes: sizes 1..100, size s at minute (s - 1) // 5.
    start = NOW - timedelta(minutes=20)
    rows = [
        {
            "size": s,
            "root": bytes(32),
            "note": f"n{s}",
            "created_at": start + timedelta(seconds=12 * (s - 1)),
        }
        for s in range(1, 101)
    ]
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(LogCheckpoint), rows)
            await connection.execute(
                insert(LogCosignature),
                [{"witness": "customs", "size": 13, "line": "l", "cosigned_at": 1,
                  "received_at": NOW}],
            )  # fmt: skip
        async with engine.begin() as connection:
            deleted = await prune_checkpoints(db=connection, now=NOW, grace=GRACE, keep=KEEP)
            kept = await _sizes(connection)
        # Older than 10 minutes: minutes 0..9 (sizes 1..50): the first of each minute, and 13.
        assert kept[:11] == [1, 6, 11, 13, 16, 21, 26, 31, 36, 41, 46]
        assert kept[11:] == list(range(51, 101))  # inside the grace period: all kept
        assert deleted == 50 - 11
        async with engine.begin() as connection:
            # A second pass (as the sequencer runs it, from where the last one stopped)
            # removes nothing more, and never the newest.
            again = await prune_checkpoints(
                db=connection, now=NOW, grace=GRACE, keep=KEEP, since=NOW - GRACE
            )
            assert again == 0
            later = await prune_checkpoints(
                db=connection, now=NOW + timedelta(hours=1), grace=GRACE, keep=KEEP
            )
            kept = await _sizes(connection)
        assert later == 50 - 11  # minutes 10..19: the first of each, and the newest
        assert 100 in kept and 13 in kept
        assert kept == sorted({1, 6, 11, 13, *range(16, 100, 5), 100})
    finally:
        await engine.dispose()


async def test_pruning_an_empty_log_does_nothing(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            assert await prune_checkpoints(db=connection, now=NOW, grace=GRACE, keep=KEEP) == 0
    finally:
        await engine.dispose()
