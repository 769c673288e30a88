"""Request bodies larger than the configured limit are refused with 413 while being read."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.http.errors import send_error

CODE = "PAYLOAD_TOO_LARGE"


class BodyTooLarge(Exception):
    """Raised from `receive` when the body grows past the limit; turned into a 413."""


class BodySizeLimitMiddleware:
    """Refuses bodies over `max_bytes`: at once from Content-Length, else while streaming.

    Counting the received chunks (not only trusting Content-Length) matters because a
    chunked request has no length, and the hub must never buffer an unbounded body.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared_length(scope) > self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:  # pragma: no cover - no route answers before reading its body
                raise
            await self._refuse(scope, send)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0  # a malformed length is the server's (uvicorn's) to refuse
        return 0

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await send_error(
            scope,
            send,
            status=413,
            code=CODE,
            message=f"the request body is larger than {self.max_bytes} bytes",
            headers={"Connection": "close"},
        )
