"""Real clients and a real server for the feed's tests: uvicorn on a free port, a
graphql-transport-ws client (the `websockets` library) and an SSE client (httpx)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
import websockets
from starlette.applications import Starlette

from hub.app import create_app
from hub.config import Settings

SUBSCRIBE = """
subscription($after: String, $kinds: [EventKind!]) {
  events(after: $after, kinds: $kinds) {
    cursor kind occurredAt enterpriseCodes record { standard key }
  }
}"""


@dataclass
class Served:
    """A hub serving on a real socket."""

    app: Starlette
    base_url: str
    server: uvicorn.Server
    task: asyncio.Task[None]

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/graphql"


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Served]:
    """Runs the hub under uvicorn on 127.0.0.1 and a free port until the block ends."""
    app = create_app(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield Served(app, f"http://127.0.0.1:{port}", server, task)
    finally:
        server.should_exit = True
        await task
        sock.close()


class WsSubscriber:
    """A graphql-transport-ws client subscribed to `events`."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @classmethod
    @asynccontextmanager
    async def open(
        cls, url: str, *, token: str, after: str | None = None, kinds: list[str] | None = None
    ) -> AsyncIterator[WsSubscriber]:
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
                )
            )
            ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert ack["type"] == "connection_ack", ack
            variables = {"after": after, "kinds": kinds}
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": SUBSCRIBE, "variables": variables},
                    }
                )
            )
            yield cls(ws)

    async def message(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next protocol message (pings answered)."""
        while True:
            message = json.loads(await asyncio.wait_for(self.connection.recv(), timeout))
            if message["type"] == "ping":
                await self.connection.send(json.dumps({"type": "pong"}))
                continue
            return dict(message)

    async def take(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The next `count` events."""
        events = []
        while len(events) < count:
            message = await self.message(timeout)
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            events.append(message["payload"]["data"]["events"])
        return events

    async def quiet(self, seconds: float) -> list[dict[str, Any]]:
        """Whatever arrives within `seconds` (expected: nothing)."""
        got = []
        try:
            while True:
                got.append(await self.message(seconds))
        except TimeoutError:
            return got


@asynccontextmanager
async def sse_events(
    http: httpx.AsyncClient, *, token: str, after: str | None = None, kinds: list[str] | None = None
) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
    """GraphQL over SSE (distinct connections): yields each `next` payload."""
    async with http.stream(
        "POST",
        "/graphql",
        json={"query": SUBSCRIBE, "variables": {"after": after, "kinds": kinds}},
        headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        timeout=httpx.Timeout(15.0),
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")

        async def payloads() -> AsyncIterator[dict[str, Any]]:
            event = None
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "next":
                    yield json.loads(line.split(":", 1)[1])
                elif line.startswith("data:") and event == "complete":
                    return

        yield payloads()
