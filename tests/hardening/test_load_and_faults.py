"""Two real `hub serve` processes on one PostgreSQL database: concurrent, overlapping intake.

The hub promises that idempotency and the hash chain are guaranteed by the database, not by
one process's memory. Here two processes receive the same records at the same moment: each
record must be stored once, every answer must be "new" or "duplicate" (never an error), and
the chain must still verify. (A process killed mid-batch: tests/declarations/test_crash.py.)
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from hub.canonical import content_hash
from hub.declarations.models import Declaration
from tests.declarations.conftest import PLATFORM, import_documents

pytestmark = pytest.mark.slow

ROUNDS = 4  # batches sent to each process at once
SHARED = 25  # records of a round sent to both processes
UNIQUE = 10  # records of a round sent to one process only
DECLARE_BATCH = """
mutation($inputs: [DeclareInput!]!) {
  declareBatch(inputs: $inputs, atomic: false) {
    accepted rejected committed
    results { declaration { id contentHash } duplicate errors { code path message } }
  }
}"""


@dataclass(frozen=True)
class Hubs:
    """Two hub processes on one database, and a `declare` token of the platform for each."""

    database_url: str
    bases: tuple[str, str]
    tokens: tuple[str, str]
    env: dict[str, str]
    cwd: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _hub(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _wait_until_serving(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"hub serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"hub serve at {base} did not start within 60 s")


@pytest.fixture(scope="module")
def hubs(
    fresh_postgres_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hubs]:
    """A fresh migrated database with the shipped standards and two `hub serve` on it."""
    url = fresh_postgres_database()
    cwd = tmp_path_factory.mktemp("two-hubs")
    env = {**os.environ, "HUB_DATABASE_URL": url}
    for args in (("db", "upgrade"), ("standards", "publish", "--shipped")):
        done = _hub(*args, env=env, cwd=cwd)
        assert done.returncode == 0, done.stderr
    created = _hub(
        "clients", "create", "--name", "Platform ERP", "--scopes", "declare",
        "--enterprise", PLATFORM, "--json", env=env, cwd=cwd,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    credentials = json.loads(created.stdout)

    ports = (_free_port(), _free_port())
    bases = tuple(f"http://127.0.0.1:{port}" for port in ports)
    processes: list[subprocess.Popen[str]] = []
    try:
        for port in ports:
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "hub.cli",
                        "serve",
                        "--port",
                        str(port),
                        "--log-level",
                        "warning",
                    ],
                    env=env,
                    cwd=cwd,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )
        for base, process in zip(bases, processes, strict=True):
            _wait_until_serving(base, process)
        tokens = []
        for base in bases:
            response = httpx.post(
                f"{base}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(credentials["client_id"], credentials["client_secret"]),
                timeout=30,
            )
            assert response.status_code == 200, response.text
            tokens.append(response.json()["access_token"])
        yield Hubs(url, (bases[0], bases[1]), (tokens[0], tokens[1]), env, cwd)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _orders(prefix: str, count: int) -> list[dict[str, Any]]:
    return [import_documents(f"{prefix}{n:04d}")["order"] for n in range(count)]


async def _declare(
    http: httpx.AsyncClient, base: str, token: str, payloads: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Sends one declareBatch; returns the per-record results, asserting a clean answer."""
    inputs = [{"standard": "cbec.order", "payload": p} for p in payloads]
    response = await http.post(
        f"{base}/graphql",
        json={"query": DECLARE_BATCH, "variables": {"inputs": inputs}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    batch = body["data"]["declareBatch"]
    assert batch["committed"] is True
    assert (batch["accepted"], batch["rejected"]) == (len(payloads), 0), batch
    results: list[dict[str, Any]] = batch["results"]
    return results


async def _stored_hashes(url: str, hashes: set[str]) -> Counter[str]:
    """How many declarations hold each of these content hashes."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Declaration.content_hash, func.count())
                .where(Declaration.content_hash.in_(hashes))
                .group_by(Declaration.content_hash)
            )
            return Counter({digest: count for digest, count in rows.all()})
    finally:
        await engine.dispose()


async def _any_hash_stored_twice(url: str) -> list[tuple[str, int]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Declaration.content_hash, func.count())
                .group_by(Declaration.standard_id, Declaration.content_hash)
                .having(func.count() > 1)
            )
            return [(digest, count) for digest, count in rows.all()]
    finally:
        await engine.dispose()


def _verify_chain(hubs: Hubs) -> subprocess.CompletedProcess[str]:
    return _hub("verify-chain", env=hubs.env, cwd=hubs.cwd)


async def test_two_processes_ingesting_overlapping_batches_store_each_record_once(
    hubs: Hubs,
) -> None:
    rng = random.Random(20240315)
    sends: list[tuple[int, list[dict[str, Any]]]] = []  # (process, payloads)
    for round_ in range(ROUNDS):
        shared = _orders(f"OVL{round_}S", SHARED)
        for side in (0, 1):
            batch = shared + _orders(f"OVL{round_}U{side}", UNIQUE)
            rng.shuffle(batch)  # different orders in the two batches: no common lock order
            sends.append((side, batch))

    async with httpx.AsyncClient(timeout=120) as http:
        answers = await asyncio.gather(
            *(_declare(http, hubs.bases[side], hubs.tokens[side], batch) for side, batch in sends)
        )

    outcomes: dict[str, list[tuple[bool, str]]] = {}  # content hash → (duplicate, id) per answer
    for (_, batch), results in zip(sends, answers, strict=True):
        for payload, result in zip(batch, results, strict=True):
            assert result["errors"] == [], result
            assert result["declaration"] is not None, result
            digest = content_hash(payload)
            assert result["declaration"]["contentHash"] == digest
            outcomes.setdefault(digest, []).append(
                (result["duplicate"], result["declaration"]["id"])
            )

    distinct = ROUNDS * (SHARED + 2 * UNIQUE)
    assert len(outcomes) == distinct
    for digest, seen in outcomes.items():
        assert sum(1 for duplicate, _ in seen if not duplicate) == 1, (digest, seen)
        assert len({declaration_id for _, declaration_id in seen}) == 1, (digest, seen)
    shared_answers = [seen for seen in outcomes.values() if len(seen) == 2]
    assert len(shared_answers) == ROUNDS * SHARED

    stored = await _stored_hashes(hubs.database_url, set(outcomes))
    assert stored == Counter(dict.fromkeys(outcomes, 1))
    assert await _any_hash_stored_twice(hubs.database_url) == []
    verified = _verify_chain(hubs)
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def test_resending_an_accepted_batch_to_either_process_returns_only_duplicates(
    hubs: Hubs,
) -> None:
    batch = _orders("RESEND", 40)
    async with httpx.AsyncClient(timeout=120) as http:
        first = await _declare(http, hubs.bases[0], hubs.tokens[0], batch)
        assert [r["duplicate"] for r in first] == [False] * len(batch)
        originals = [r["declaration"]["id"] for r in first]

        again = await asyncio.gather(
            _declare(http, hubs.bases[0], hubs.tokens[0], batch),
            _declare(http, hubs.bases[1], hubs.tokens[1], list(reversed(batch))),
        )

    same_order, reversed_order = again
    assert [r["duplicate"] for r in same_order] == [True] * len(batch)
    assert [r["declaration"]["id"] for r in same_order] == originals
    assert [r["duplicate"] for r in reversed_order] == [True] * len(batch)
    assert [r["declaration"]["id"] for r in reversed_order] == list(reversed(originals))

    hashes = {content_hash(payload) for payload in batch}
    assert await _stored_hashes(hubs.database_url, hashes) == Counter(dict.fromkeys(hashes, 1))
    verified = _verify_chain(hubs)
    assert verified.returncode == 0, verified.stdout + verified.stderr
