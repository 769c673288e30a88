"""uvicorn's h11 protocol with a header deadline: slow or silent connections are closed.

uvicorn closes a kept-alive connection that stays idle (`timeout_keep_alive`), but not a
new connection that sends nothing, nor one that sends its request line and headers a byte
at a time (slowloris): either holds a socket and a file descriptor forever. Here every
request's head must be complete within the header timeout, counted from the moment the
connection opened or the previous response ended; otherwise the connection gets
`408 Request Timeout` and is closed. The body is bounded by the request deadline
(HUB_REQUEST_TIMEOUT, hub/http/unavailable.py), which covers reading it.

`hub serve` passes the timeout to its workers in HUB_HEADER_TIMEOUT (they are separate
processes, and uvicorn hands them this class by name).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_ENV = "HUB_HEADER_TIMEOUT"
DEFAULT_HEADER_TIMEOUT = 10.0


def header_timeout() -> float:
    """The header timeout of this process (seconds), from HUB_HEADER_TIMEOUT."""
    raw = os.environ.get(HEADER_TIMEOUT_ENV)
    return float(raw) if raw else DEFAULT_HEADER_TIMEOUT


class HeaderTimeoutProtocol(H11Protocol):
    """H11Protocol that closes a connection whose request head is not complete in time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout()
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:
            self._disarm()  # a request head arrived: the app's deadline takes over

    def on_response_complete(self) -> None:
        # Armed before the parent handles a pipelined request (which disarms it again).
        self._arm()
        super().on_response_complete()

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _timed_out(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing():
            return
        if self.conn.our_state is h11.IDLE and self.conn.their_state in (h11.IDLE, h11.DONE):
            try:
                response = h11.Response(
                    status_code=408, headers=[(b"connection", b"close"), (b"content-length", b"0")]
                )
                self.transport.write(self.conn.send(response) + self.conn.send(h11.EndOfMessage()))
            except h11.LocalProtocolError:
                pass  # a state in which no response can be sent: just close
        self.transport.close()
