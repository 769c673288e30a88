"""Forwarded headers count only from trusted proxies (`HUB_TRUSTED_PROXIES`).

Behind a TLS-terminating proxy the hub sees plain http from the proxy's address, so the
proxy's `X-Forwarded-Proto` and `X-Forwarded-For` say what the client used. Anyone else
can send those headers too: from a peer outside `HUB_TRUSTED_PROXIES` they are ignored,
so a client on the hub's own machine cannot claim https (and pass the production https
check) or pick the address its rate limit and log line count against. The default trusts
nobody; uvicorn's own header handling is switched off (`hub serve`), this is the one place.

From a trusted peer, the scheme is the last `X-Forwarded-Proto` value (set by that peer)
and the client address is the right-most `X-Forwarded-For` entry that is not itself a
trusted proxy: entries left of it were written by the client and prove nothing.
"""

from __future__ import annotations

import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

from hub.config import IPNetwork

_SCHEMES = {"http": ("http", "https"), "websocket": ("ws", "wss")}
_WEB_TO_WS = {"http": "ws", "https": "wss"}


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; judge the IPv4 address.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(host: str | None, networks: tuple[IPNetwork, ...]) -> bool:
    """True when `host` is an address inside one of `networks`."""
    address = _address(host) if host else None
    return address is not None and any(address in network for network in networks)


def _header(scope: Scope, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == name]
    return ",".join(values) if values else None


def forwarded_scope(scope: Scope, networks: tuple[IPNetwork, ...]) -> Scope:
    """The scope with scheme and client taken from forwarded headers, if the peer is trusted."""
    client = scope.get("client")
    if not networks or not client or not is_trusted(client[0], networks):
        return scope
    changed = dict(scope)
    proto = _header(scope, b"x-forwarded-proto")
    if proto:
        scheme = proto.split(",")[-1].strip().lower()
        if scope["type"] == "websocket":
            scheme = _WEB_TO_WS.get(scheme, scheme)
        if scheme in _SCHEMES.get(scope["type"], ()):
            changed["scheme"] = scheme
    forwarded_for = _header(scope, b"x-forwarded-for")
    if forwarded_for:
        for entry in reversed(forwarded_for.split(",")):
            address = _address(entry)
            if address is None:
                break  # garbage in the chain: keep the peer rather than guess
            if not any(address in network for network in networks):
                changed["client"] = (str(address), 0)
                break
    return changed


class TrustedProxyMiddleware:
    """Applies `forwarded_scope` to every HTTP and WebSocket request."""

    def __init__(self, app: ASGIApp, *, trusted: tuple[IPNetwork, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in _SCHEMES:
            scope = forwarded_scope(scope, self.trusted)
        await self.app(scope, receive, send)
