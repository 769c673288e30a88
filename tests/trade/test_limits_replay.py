"""The 0008_limits data migration and `hub limits rebuild` count what the live path counted."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, update
from starlette.applications import Starlette

from hub import migrate
from hub.db import unit_of_work
from hub.trade import replay
from hub.trade.models import BuyerYearTotal, LimitEntry, Order, PlatformBuyerYearTotal
from hub.trade.rules_config import DEFAULT_RULES
from tests.builders.retail import (
    AGENT,
    BUYER,
    PLATFORM,
    RIVAL_PLATFORM,
    SECOND_BUYER,
    RetailHub,
    retail_hub,
    retail_order,
)
from tests.support import log_integrated

__all__ = ["retail_hub"]


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of this test's own: the test migrates it down and up again."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    else:
        make: Callable[[], str] = request.getfixturevalue("fresh_postgres_database")
        url = make()
    migrate.upgrade(database_url=url)
    return url


async def _trade(hub: RetailHub) -> None:
    """Orders of two platforms and two buyers, each settled before the next arrives."""
    plan: list[tuple[str, str, dict[str, str], int, list[tuple[int, str]]]] = [
        ("A-1", PLATFORM, BUYER, 5000, [(120, AGENT), (800, AGENT)]),  # confirmed
        ("A-2", PLATFORM, BUYER, 5000, []),  # pending: counts on its platform only
        ("B-0", RIVAL_PLATFORM, BUYER, 5000, [(800, AGENT)]),  # confirmed on the rival
        ("B-1", RIVAL_PLATFORM, BUYER, 5000, [(800, AGENT)]),
        ("B-2", RIVAL_PLATFORM, BUYER, 5000, [(800, RIVAL_PLATFORM)]),  # its own word: pending
        ("A-3", PLATFORM, BUYER, 5000, [(800, AGENT)]),
        ("A-4", PLATFORM, BUYER, 5000, [(800, AGENT)]),  # confirmed: 25,000 everywhere
        ("A-5", PLATFORM, BUYER, 5000, []),  # the platform's own 25,000
        ("A-6", PLATFORM, BUYER, 2000, []),  # 27,000 on the platform: over
        ("A-7", PLATFORM, BUYER, 3000, [(100, AGENT)]),  # rejected: counts nowhere
        ("A-8", PLATFORM, SECOND_BUYER, 6000, []),  # several items over 5,000
        ("B-3", RIVAL_PLATFORM, BUYER, 4000, [(120, AGENT)]),  # confirmed: 29,000, over
    ]
    for order_no, platform, buyer, value, receipts in plan:
        # Only an inventory's broker relays its receipts: a platform relaying its own
        # customs answer is its own broker.
        agent = platform if any(source == platform for _, source in receipts) else AGENT
        docs = retail_order(order_no, value, platform=platform, buyer=buyer, agent=agent)
        await hub.order_with_inventory(docs, as_=platform)
        for n, (status, source) in enumerate(receipts):
            await hub.receipt(docs, status, f"2024031{n}100000", as_=source)


async def _snapshot(app: Starlette) -> dict[str, Any]:
    async with app.state.runtime.session_factory() as session:
        orders = {
            row.order_no: (sorted(row.risk_flags), row.limit_value)
            for row in await session.execute(
                select(Order.order_no, Order.risk_flags, Order.limit_value)
            )
        }
        entries = {
            row.order_no: (row.standing, Decimal(row.amount), row.counted, row.over_annual)
            for row in await session.execute(
                select(
                    Order.order_no,
                    LimitEntry.standing,
                    LimitEntry.amount,
                    LimitEntry.counted,
                    LimitEntry.over_annual,
                ).join(LimitEntry, LimitEntry.order_id == Order.id)
            )
        }
        confirmed = {
            (row.buyer_id_number, row.year): Decimal(row.confirmed_total)
            for row in (await session.execute(select(BuyerYearTotal))).scalars()
            if row.confirmed_total
        }
        platform = {
            (row.ebp_code, row.buyer_id_number, row.year): Decimal(row.counted_total)
            for row in (await session.execute(select(PlatformBuyerYearTotal))).scalars()
            if row.counted_total
        }
    return {"orders": orders, "entries": entries, "confirmed": confirmed, "platform": platform}


async def test_the_migration_and_the_rebuild_count_what_the_live_path_counted(
    retail_hub: RetailHub, app: Starlette, database_url: str
) -> None:
    await _trade(retail_hub)
    live = await _snapshot(app)
    assert live["confirmed"] == {(BUYER["id"], 2024): Decimal(25000)}
    assert live["platform"] == {
        (PLATFORM, BUYER["id"], 2024): Decimal(25000),
        (RIVAL_PLATFORM, BUYER["id"], 2024): Decimal(15000),
    }
    assert live["entries"]["B-3"] == ("CONFIRMED", Decimal(4000), False, True)
    assert live["entries"]["A-7"][0] == "OUT"
    assert "ANNUAL_LIMIT_EXCEEDED" in live["orders"]["A-6"][0]
    assert "SINGLE_LIMIT_EXCEEDED" in live["orders"]["A-8"][0]

    # Scramble what the migration and the rebuild must recompute.
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await session.execute(update(Order).values(risk_flags=["ANNUAL_LIMIT_EXCEEDED"]))
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await replay.rebuild(session=session, rules=DEFAULT_RULES)
    assert await _snapshot(app) == live

    script = ScriptDirectory.from_config(migrate.alembic_config(database_url))
    before = script.get_revision("0008_limits").down_revision
    assert isinstance(before, str)
    await log_integrated(app)  # the downgrade refuses declarations still pending in the log
    await app.state.runtime.engine.dispose()
    await asyncio.to_thread(migrate.downgrade, database_url=database_url, revision=before)
    await asyncio.to_thread(migrate.upgrade, database_url=database_url)
    migrated = await _snapshot(app)
    # The migration keeps the orders' other flags and writes the limit flags afresh.
    assert migrated == live


def _hub(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_limits_rebuild_recounts_under_the_rules_hub_rules_sets(
    retail_hub: RetailHub, app: Starlette, database_url: str, tmp_path: Path
) -> None:
    await _trade(retail_hub)
    await app.state.runtime.engine.dispose()
    env = {"HUB_DATABASE_URL": database_url, "HUB_RULES": "annual_limit_cny=30000"}

    done = await asyncio.to_thread(_hub, "limits", "rebuild", env=env, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "12 orders re-matched" in done.stdout
    after = await _snapshot(app)
    assert after["confirmed"] == {(BUYER["id"], 2024): Decimal(29000)}  # B-3 fits now
    assert "ANNUAL_LIMIT_EXCEEDED" not in after["orders"]["A-6"][0]

    bad = {**env, "HUB_RULES": "annual_limit=1"}
    refused = await asyncio.to_thread(_hub, "limits", "rebuild", env=bad, cwd=tmp_path)
    assert refused.returncode == 2
    assert "unknown rule 'annual_limit'" in refused.stderr
