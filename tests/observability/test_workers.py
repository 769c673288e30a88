"""`hub serve --workers 2`: two processes answer, and SIGTERM lets in-flight work finish."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.observability.exposition import parse
from tests.standards.samples import PLATFORM, sample

pytestmark = pytest.mark.slow

BATCH = 500


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes]
    database: Path
    log: Path
    credentials: dict[str, str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _hub(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[Served]:
    with serve_two_workers(tmp_path) as served:
        yield served


@contextlib.contextmanager
def serve_two_workers(tmp_path: Path, **extra_env: str) -> Iterator[Served]:
    """`hub serve --workers 2` on a fresh SQLite file, with a `declare` client."""
    port = _free_port()
    database = tmp_path / "workers.db"
    env = {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "HUB_ISSUER": f"http://127.0.0.1:{port}",
        **extra_env,
    }
    _hub(["standards", "publish", "--shipped"], env, tmp_path)
    credentials = json.loads(
        _hub(
            [
                *("clients", "create", "--name", "ERP", "--scopes", "declare"),
                *("--enterprise", PLATFORM, "--json"),
            ],
            env,
            tmp_path,
        )
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "hub.cli", "serve", "--port", str(port)),
                *("--workers", "2", "--log-format", "json"),
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            start_new_session=True,  # its own process group, so no worker outlives the test
        )
    served = Served(f"http://127.0.0.1:{port}", process, database, log, credentials)
    try:
        _wait_until_serving(served)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # workers whose master is gone


def _wait_until_serving(served: Served) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"hub serve exited:\n{served.log.read_text()}")
        try:
            if httpx.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"hub serve did not start within 60 s:\n{served.log.read_text()}")


def _token(served: Served) -> str:
    response = httpx.post(
        f"{served.base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(served.credentials["client_id"], served.credentials["client_secret"]),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_one_scrape_counts_the_requests_answered_by_both_workers(two_workers: Served) -> None:
    pids: list[int] = []
    while len(set(pids)) < 2 and len(pids) < 400:
        status, pid = _scrape_pid(two_workers.base)
        assert status == 200
        pids.append(pid)
    assert len(set(pids)) == 2, "the kernel gave every connection to one worker"
    # A worker counts a request just after sending its response, so the last scrapes may
    # not be counted yet when the next one is answered: scrape until they all are.
    counted = 0.0
    for _ in range(50):
        response = httpx.get(f"{two_workers.base}/metrics", headers={"Connection": "close"})
        labels = {"method": "GET", "route": "/metrics", "status": "200"}
        counted = parse(response.text).value("hub_http_requests_total", **labels)
        pids.append(0)  # this scrape is counted by the next one
        if counted == len(pids) - 1:
            break
        time.sleep(0.1)
    assert counted == len(pids) - 1  # every worker's scrapes, not one worker's share


@pytest.mark.parametrize("redis_url", ["redis://127.0.0.1:6379/0"])
def test_with_redis_the_rate_limit_is_shared_by_the_workers(tmp_path: Path, redis_url: str) -> None:
    env = {"HUB_REDIS_URL": redis_url, "HUB_RATE_LIMIT": "10/h", "HUB_RATE_LIMIT_BURST": "10"}
    with serve_two_workers(tmp_path, **env) as served:
        token = _token(served)
        statuses = []
        pids = set()
        for _ in range(30):
            # New connections, so both workers take requests (the scrapes show it).
            response = httpx.post(
                f"{served.base}/graphql",
                json={"query": "{ me { clientId } }"},
                headers={"Authorization": f"Bearer {token}", "Connection": "close"},
            )
            statuses.append(response.status_code)
            pids.add(_scrape_pid(served.base)[1])
        # Per-process buckets would let each worker admit 10; one shared limit admits 10.
        assert statuses.count(200) == 10
        assert statuses.count(429) == 20
        assert len(pids) == 2
        labels = {"method": "POST", "route": "/graphql", "status": "429"}
        response = httpx.get(f"{served.base}/metrics")
        assert parse(response.text).value("hub_rate_limited_total") == 20
        assert parse(response.text).value("hub_http_requests_total", **labels) == 20


def _scrape_pid(base: str) -> tuple[int, int]:
    # A new connection per request: the kernel hands each to whichever worker accepts.
    response = httpx.get(f"{base}/metrics", timeout=10, headers={"Connection": "close"})
    pid = int(parse(response.text).value("hub_process_id")) if response.status_code == 200 else 0
    return response.status_code, pid


def test_two_workers_are_two_processes_that_both_answer(two_workers: Served) -> None:
    statuses: list[int] = []
    pids: set[int] = set()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(25):  # rounds of concurrent requests until both workers answered
            for status, pid in pool.map(lambda _: _scrape_pid(two_workers.base), range(8)):
                statuses.append(status)
                pids.add(pid)
            if len(pids) >= 2:
                break
    assert set(statuses) == {200}
    assert len(pids) == 2, f"only process(es) {pids} answered {len(statuses)} requests"
    assert two_workers.process.pid not in pids  # the supervisor itself serves nothing
    # Every worker writes JSON request lines to the same stream.
    lines = [json.loads(line) for line in two_workers.log.read_text().splitlines()]
    request_lines = [line for line in lines if line["logger"] == "hub.request"]
    assert len(request_lines) >= len(statuses)
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]


def _orders(count: int) -> list[dict[str, Any]]:
    inputs = []
    for i in range(count):
        order = sample("cbec.order", "import-9610")
        order["orderNo"] = f"SIGTERM{i:06d}"
        order["payTransactionId"] = f"PAYSIGTERM{i:06d}"
        inputs.append({"standard": "cbec.order", "payload": order})
    return inputs


def test_sigterm_lets_an_in_flight_batch_finish_and_exits_zero(two_workers: Served) -> None:
    token_response = httpx.post(
        f"{two_workers.base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(two_workers.credentials["client_id"], two_workers.credentials["client_secret"]),
    )
    assert token_response.status_code == 200, token_response.text
    token = token_response.json()["access_token"]
    mutation = """mutation($inputs: [DeclareInput!]!) {
      declareBatch(inputs: $inputs) { accepted rejected committed } }"""
    body = json.dumps({"query": mutation, "variables": {"inputs": _orders(BATCH)}}).encode()
    outcome: dict[str, Any] = {}
    signalled = threading.Event()

    def body_with_sigterm_inside() -> Iterator[bytes]:
        # All but the last byte, then SIGTERM, then the rest: the request is provably in
        # flight when the signal arrives, and all its work happens after it.
        yield body[:-1]
        two_workers.process.send_signal(signal.SIGTERM)
        outcome["terminated_at"] = time.monotonic()
        signalled.set()
        time.sleep(0.3)  # let the supervisor pass SIGTERM on to the workers
        yield body[-1:]

    def declare() -> None:
        outcome["response"] = httpx.post(
            f"{two_workers.base}/graphql",
            content=body_with_sigterm_inside(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=60,
        )
        outcome["answered_at"] = time.monotonic()

    sender = threading.Thread(target=declare)
    sender.start()
    assert signalled.wait(timeout=30)
    sender.join(timeout=60)
    exit_code = two_workers.process.wait(timeout=40)  # uvicorn's grace period is 30 s

    response: httpx.Response = outcome["response"]
    assert outcome["answered_at"] > outcome["terminated_at"]
    assert response.status_code == 200, response.text
    assert response.json()["data"]["declareBatch"] == {
        "accepted": BATCH,
        "rejected": 0,
        "committed": True,
    }
    assert exit_code == 0, two_workers.log.read_text()
    with sqlite3.connect(two_workers.database) as connection:
        (stored,) = connection.execute(
            "SELECT count(*) FROM declarations WHERE record_key LIKE ?", ("%SIGTERM%",)
        ).fetchone()
    assert stored == BATCH
