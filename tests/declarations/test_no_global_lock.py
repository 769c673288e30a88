"""Writers share no lock: unrelated declarations never wait for each other, while the
database still decides duplicates, idempotency keys and a record's lifecycle exactly once.

Each "hub" here is its own Runtime with its own engine (pool of connections), as two hub
processes on one PostgreSQL would be; one test uses a real second process.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hub import migrate
from hub.config import Settings
from hub.db import unit_of_work
from hub.declarations.errors import DeclarationErrorCode
from hub.declarations.models import Declaration
from hub.declarations.service import BatchOutcome, Declarant, DeclareItem, declare_batch
from hub.runtime import Runtime
from hub.standards.shipped import publish_shipped
from tests.declarations.conftest import PLATFORM, import_documents
from tests.standards.samples import SECOND_BUYER
from tests.support import TEST_ISSUER

ROUNDS = 8


@pytest.fixture
async def hubs(fresh_postgres_database: Callable[[], str]) -> AsyncIterator[list[Runtime]]:
    """Two hubs (own engines and pools) on one fresh PostgreSQL database, standards shipped."""
    url = fresh_postgres_database()
    await asyncio.to_thread(migrate.upgrade, database_url=url)
    settings = Settings(database_url=url, issuer=TEST_ISSUER, env="test", log_sequencer=False)
    runtimes = [Runtime.create(settings) for _ in range(2)]
    async with unit_of_work(runtimes[0].session_factory) as session:
        await publish_shipped(session=session, actor="test")
    yield runtimes
    for runtime in runtimes:
        await runtime.stop()


async def _declare(
    hub: Runtime, payload: dict[str, Any], *, client: str = "erp-1", key: str | None = None
) -> BatchOutcome:
    async with unit_of_work(hub.session_factory) as session:
        return await declare_batch(
            session=session,
            declarant=Declarant(client_id=client, enterprise_code=PLATFORM),
            items=[DeclareItem("cbec.order", payload, key)],
            atomic=False,
            validators=hub.validators,
            rules=hub.rules,
        )


async def _stored(hub: Runtime) -> list[Declaration]:
    async with hub.session_factory() as session:
        return list(await session.scalars(select(Declaration).order_by(Declaration.chain_index)))


async def test_the_same_record_declared_by_two_hubs_at_once_is_stored_once(
    hubs: list[Runtime],
) -> None:
    for n in range(ROUNDS):
        payload = import_documents(f"XZR{n:04d}")["order"]
        first, second = await asyncio.gather(
            _declare(hubs[0], payload, client="erp-1"), _declare(hubs[1], payload, client="erp-2")
        )
        results = [first.results[0], second.results[0]]
        assert sorted(r.duplicate for r in results) == [False, True]
        assert results[0].declaration and results[1].declaration
        assert results[0].declaration.id == results[1].declaration.id
    stored = await _stored(hubs[0])
    assert len(stored) == ROUNDS
    assert len({d.chain_index for d in stored}) == ROUNDS


async def test_two_hubs_creating_one_record_with_different_content_admit_exactly_one(
    hubs: list[Runtime],
) -> None:
    for n in range(ROUNDS):
        payload = import_documents(f"XZS{n:04d}")["order"]
        other = payload | {"appTime": "20240316101010"}
        outcomes = await asyncio.gather(_declare(hubs[0], payload), _declare(hubs[1], other))
        codes = sorted(
            (r.errors[0].code if r.errors else "NEW") for o in outcomes for r in o.results
        )
        assert codes == sorted(["NEW", DeclarationErrorCode.RECORD_EXISTS])
    assert len(await _stored(hubs[0])) == ROUNDS


async def test_concurrent_changes_of_one_record_form_one_history(hubs: list[Runtime]) -> None:
    payload = import_documents("XZT0001")["order"]
    assert not (await _declare(hubs[0], payload)).results[0].errors
    changes = [payload | {"appType": "2", "appTime": f"202403161010{n:02d}"} for n in range(ROUNDS)]
    outcomes = await asyncio.gather(
        *(_declare(hubs[n % 2], change) for n, change in enumerate(changes))
    )
    assert all(not o.results[0].errors for o in outcomes)
    history = await _stored(hubs[0])
    # Each change supersedes the one before it in arrival order: no two changes were decided
    # against the same latest declaration.
    assert [d.supersedes for d in history[1:]] == [d.id for d in history[:-1]]
    assert [d.app_type for d in history] == ["1"] + ["2"] * ROUNDS


async def test_one_idempotency_key_for_two_records_at_once_is_refused_once(
    hubs: list[Runtime],
) -> None:
    for n in range(ROUNDS):
        a = import_documents(f"XZU{n:04d}")["order"]
        b = import_documents(f"XZV{n:04d}")["order"]
        outcomes = await asyncio.gather(
            _declare(hubs[0], a, key=f"k{n}"), _declare(hubs[1], b, key=f"k{n}")
        )
        codes = sorted(
            (r.errors[0].code if r.errors else "NEW") for o in outcomes for r in o.results
        )
        assert codes == sorted(["NEW", DeclarationErrorCode.IDEMPOTENCY_KEY_REUSED])
    assert len(await _stored(hubs[0])) == ROUNDS


# The child declares one order and waits inside its open transaction until told to stop.
CHILD = """
import asyncio, json, sys
from hub.config import Settings
from hub.db import unit_of_work
from hub.declarations.service import Declarant, DeclareItem, declare_batch
from hub.runtime import Runtime

async def main():
    runtime = Runtime.create(Settings.from_env())
    async with unit_of_work(runtime.session_factory) as session:
        outcome = await declare_batch(
            session=session,
            declarant=Declarant(client_id="erp-child", enterprise_code=sys.argv[2]),
            items=[DeclareItem("cbec.order", json.loads(sys.argv[1]))],
            atomic=False, validators=runtime.validators, rules=runtime.rules,
        )
        print(f"DECLARED {outcome.accepted}", flush=True)
        sys.stdin.readline()
        raise SystemExit(3)  # roll back
    await runtime.stop()

asyncio.run(main())
"""


async def test_a_writer_holding_its_transaction_blocks_only_its_own_record(
    hubs: list[Runtime], tmp_path: Path
) -> None:
    # Known parties (their enterprise rows exist) and another buyer for the second order:
    # writers of the same new enterprise or the same buyer's annual limit do wait.
    assert not (await _declare(hubs[0], import_documents("XZW0000")["order"])).results[0].errors
    held = import_documents("XZW0001")["order"]
    url = hubs[0].settings.database_url
    env = {"HUB_DATABASE_URL": url, "HUB_ISSUER": TEST_ISSUER, "HUB_LOG_SEQUENCER": "0"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(held), PLATFORM],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**_base_env(), **env},
        cwd=tmp_path,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        line = await asyncio.to_thread(child.stdout.readline)
        assert line.strip() == "DECLARED 1"
        # Another record commits at once although the child's transaction is open: with
        # the chain-head lock this waited for the child.
        other = import_documents("XZW0002")["order"] | {
            "buyerIdNumber": SECOND_BUYER["id"],
            "buyerName": SECOND_BUYER["name"],
        }
        done = await asyncio.wait_for(_declare(hubs[0], other), timeout=10)
        assert not done.results[0].errors
        # The child's own record waits for the child's decision.
        same = asyncio.ensure_future(_declare(hubs[1], held))
        await asyncio.sleep(1.0)
        assert not same.done()
        child.stdin.write("stop\n")
        child.stdin.flush()
        outcome = await asyncio.wait_for(same, timeout=20)
        # The child rolled back: the waiting writer decided afresh and stored it as new.
        assert outcome.results[0].duplicate is False and not outcome.results[0].errors
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
    async with hubs[0].session_factory() as session:
        count = await session.scalar(select(func.count()).select_from(Declaration))
    assert count == 3


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
