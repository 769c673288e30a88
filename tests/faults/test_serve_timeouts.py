"""A real `hub serve` closes slow and silent connections (slowloris), and keeps serving.

Every request head must arrive within --header-timeout of the connection opening (or of
the previous response ending), idle kept-alive connections close after
--keep-alive-timeout, and a head larger than h11's limit is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 1.5
KEEP_ALIVE = 1.0
SLACK = 1.5  # process scheduling on 2 shared cores


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[int]:
    """`hub serve` on a copy of the migrated SQLite template; yields its port."""
    directory = tmp_path_factory.mktemp("serve")
    database = directory / "hub.db"
    shutil.copyfile(sqlite_template, database)
    port = _free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "HUB_ISSUER": f"http://127.0.0.1:{port}",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "serve",
            "--port",
            str(port),
            "--header-timeout",
            str(HEADER_TIMEOUT),
            "--keep-alive-timeout",
            str(KEEP_ALIVE),
            "--log-format",
            "json",
        ],
        env=env,
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"hub serve exited with {process.returncode}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "hub serve did not start within 60 s"
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _until_closed(reader: asyncio.StreamReader, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and when it closed."""
    started = time.monotonic()
    received = b""
    async with asyncio.timeout(limit):
        while chunk := await reader.read(65536):
            received += chunk
    return received, time.monotonic() - started


async def test_a_silent_connection_is_closed_after_the_header_timeout(served: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served)
    received, after = await _until_closed(reader, HEADER_TIMEOUT + SLACK + 5)
    writer.close()
    assert HEADER_TIMEOUT - 0.2 < after < HEADER_TIMEOUT + SLACK, after
    assert received.startswith(b"HTTP/1.1 408 "), received


async def test_a_slowloris_head_is_cut_off_however_steadily_it_drips(served: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served)
    started = time.monotonic()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Slow: ")

    async def drip() -> None:
        # One more header byte every 200 ms, for far longer than the timeout.
        with contextlib.suppress(ConnectionError):
            for _ in range(100):
                await asyncio.sleep(0.2)
                writer.write(b"x")
                await writer.drain()

    dripping = asyncio.create_task(drip())
    received, _ = await _until_closed(reader, HEADER_TIMEOUT + SLACK + 5)
    closed_after = time.monotonic() - started
    dripping.cancel()
    writer.close()
    assert closed_after < HEADER_TIMEOUT + SLACK, closed_after
    assert received.startswith(b"HTTP/1.1 408 "), received


async def test_an_idle_kept_alive_connection_is_closed(served: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
    await writer.drain()
    received, after = await _until_closed(reader, KEEP_ALIVE + SLACK + 5)
    writer.close()
    assert received.startswith(b"HTTP/1.1 200 "), received
    assert after < KEEP_ALIVE + SLACK, after


async def test_a_slow_but_timely_head_is_served(served: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served)
    for part in (b"GET /healthz HTTP/1.1\r\n", b"Host: hub\r\n", b"Connection: close\r\n\r\n"):
        writer.write(part)
        await writer.drain()
        await asyncio.sleep(0.3)
    received, _ = await _until_closed(reader, 10)
    writer.close()
    assert received.startswith(b"HTTP/1.1 200 "), received


async def test_a_head_growing_past_the_size_limit_is_refused_at_once(served: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served)
    # 20 KB of an unfinished head: buffering more than 16 KiB of it is refused without
    # waiting for the header timeout.
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Big: " + b"a" * 20_000)
    await writer.drain()
    received, after = await _until_closed(reader, 10)
    writer.close()
    assert received.startswith(b"HTTP/1.1 400 "), received
    assert after < HEADER_TIMEOUT - 0.5, after


async def test_many_slow_connections_do_not_stop_the_hub_serving_others(served: int) -> None:
    slow = [await asyncio.open_connection("127.0.0.1", served) for _ in range(50)]
    for _, writer in slow:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n")  # and never more
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{served}") as client:
        started = time.monotonic()
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert time.monotonic() - started < 1.0
    # All of them are gone after the timeout.
    closed = await asyncio.gather(
        *(_until_closed(reader, HEADER_TIMEOUT + SLACK + 5) for reader, _ in slow)
    )
    for (_, writer), (received, after) in zip(slow, closed, strict=True):
        writer.close()
        assert after < HEADER_TIMEOUT + SLACK
        assert received.startswith(b"HTTP/1.1 408 ")
