"""A webhook receiver on a real socket that verifies each message with the
`standardwebhooks` library, and can be told to fail."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Receiver:
    """What the receiver saw: verified messages (with their webhook-id), and attempts."""

    url: str = ""
    secret: str | None = None
    fail_next: int = 0  # answer 500 to this many requests first
    fail_always: bool = False
    attempts: list[str] = field(default_factory=list)  # webhook-id of every request
    messages: list[dict[str, Any]] = field(default_factory=list)
    forged: int = 0

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        self.attempts.append(headers.get("webhook-id", ""))
        if self.fail_always or self.fail_next > 0:
            self.fail_next = max(0, self.fail_next - 1)
            return Response(status_code=500)
        try:
            assert self.secret is not None
            payload = Webhook(self.secret).verify(body, headers)
        except (WebhookVerificationError, AssertionError):
            self.forged += 1
            return Response(status_code=401)
        self.messages.append({"id": headers["webhook-id"], **json.loads(json.dumps(payload))})
        return Response(status_code=204)

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The first `count` verified messages, once they have arrived."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.messages) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(self.messages)} of {count} messages after {timeout} s")
            await asyncio.sleep(0.05)
        return self.messages[:count]


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    """Serves a Receiver on 127.0.0.1 and a free port."""
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook", receiver.endpoint, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
        sock.close()
