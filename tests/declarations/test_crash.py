"""A hub process killed in the middle of a batch leaves no partial batch behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.config import Settings
from hub.db import create_engine, create_session_factory, unit_of_work
from hub.declarations import chain
from hub.declarations.models import Declaration
from hub.declarations.service import Declarant, DeclareItem, declare_batch
from hub.runtime import Runtime
from hub.standards.shipped import publish_shipped
from hub.trade.models import Order
from tests.declarations.conftest import PLATFORM, import_documents

pytestmark = pytest.mark.slow
BATCH = 400

# The child declares one batch and then waits inside the open transaction until killed:
# a crash after every write of the batch and before its commit.
CHILD = """
import asyncio, json, sys
from hub.config import Settings
from hub.db import unit_of_work
from hub.declarations.service import Declarant, DeclareItem, declare_batch
from hub.runtime import Runtime

async def main():
    runtime = Runtime.create(Settings.from_env())
    payloads = json.load(open(sys.argv[1]))
    async with unit_of_work(runtime.session_factory) as session:
        outcome = await declare_batch(
            session=session,
            declarant=Declarant(client_id="erp", enterprise_code=sys.argv[2]),
            items=[DeclareItem("cbec.order", p) for p in payloads],
            atomic=False,
            validators=runtime.validators,
            rules=runtime.rules,
        )
        print(f"DECLARED {outcome.accepted}", flush=True)
        await asyncio.sleep(120)

asyncio.run(main())
"""


async def _counts(settings: Settings) -> tuple[int, int, bool]:
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            declarations = await session.scalar(select(func.count()).select_from(Declaration))
            orders = await session.scalar(select(func.count()).select_from(Order))
            report = await chain.verify(session=session)
            return int(declarations or 0), int(orders or 0), report.ok
    finally:
        await engine.dispose()


async def _declare(settings: Settings, payloads: list[dict[str, object]]) -> tuple[int, int]:
    runtime = Runtime.create(settings)
    try:
        async with unit_of_work(runtime.session_factory) as session:
            outcome = await declare_batch(
                session=session,
                declarant=Declarant(client_id="erp", enterprise_code=PLATFORM),
                items=[DeclareItem("cbec.order", p) for p in payloads],
                atomic=False,
                validators=runtime.validators,
                rules=runtime.rules,
            )
        duplicates = sum(1 for r in outcome.results if r.duplicate)
        return outcome.accepted, duplicates
    finally:
        await runtime.stop()


async def test_a_killed_process_leaves_no_partial_batch_and_resending_is_idempotent(
    settings: Settings, tmp_path: Path
) -> None:
    runtime = Runtime.create(settings)
    async with unit_of_work(runtime.session_factory) as session:
        await publish_shipped(session=session, actor="test")
    await runtime.stop()
    before = await _declare(settings, [import_documents("XZK0000")["order"]])
    assert before == (1, 0)

    payloads = [import_documents(f"XZK{n:04d}")["order"] for n in range(1, BATCH + 1)]
    batch_file = tmp_path / "batch.json"
    batch_file.write_text(json.dumps(payloads))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(batch_file), PLATFORM],
        env={**os.environ, "HUB_DATABASE_URL": settings.database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == f"DECLARED {BATCH}", child.stderr.read() if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    assert await _counts(settings) == (1, 1, True)  # nothing of the batch survived
    assert await _declare(settings, payloads) == (BATCH, 0)  # re-sent: all new
    assert await _declare(settings, payloads) == (BATCH, BATCH)  # again: all duplicates
    assert await _counts(settings) == (BATCH + 1, BATCH + 1, True)
