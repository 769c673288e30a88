"""Which webhook URLs the hub will call: never link-local or cloud-metadata addresses, and
in production only https to hosts on the allow-list (HUB_WEBHOOK_ALLOW), never loopback or
private ranges. The check runs at registration and again before every delivery (a name
may resolve elsewhere later)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from hub.config import Settings

# Cloud metadata services: reading them from the hub would hand out its credentials.
_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
MAX_URL_LENGTH = 2000

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(Exception):
    """The URL is not one the hub calls; `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _allowed_host(host: str, settings: Settings) -> bool:
    for entry in settings.webhook_allow:
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return True
        if host == entry:
            return True
    return False


def _refused_address(address: Address, settings: Settings) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA_ADDRESSES or address.is_link_local:
        return "link-local and metadata addresses are never called"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return f"{address} is not a unicast address"
    if settings.is_production and (address.is_loopback or address.is_private):
        return f"{address} is a loopback or private address (refused in production)"
    return None


async def resolve(host: str) -> list[Address]:
    """The addresses a host name resolves to (an address literal: itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UrlRefused("UNRESOLVABLE_HOST", f"{host!r} does not resolve") from exc
    return [ipaddress.ip_address(info[4][0]) for info in infos]


async def check(url: str, settings: Settings) -> str:
    """The URL, normalised, when the hub may call it; raises UrlRefused otherwise."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UrlRefused("INVALID_URL", f"give an absolute URL of at most {MAX_URL_LENGTH} chars")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("INVALID_URL", f"not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    allowed_schemes = ("https",) if settings.is_production else ("https", "http")
    if scheme not in allowed_schemes:
        raise UrlRefused("INVALID_URL", f"the URL must use {' or '.join(allowed_schemes)}")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or parts.username or parts.password:
        raise UrlRefused("INVALID_URL", "the URL needs a host and no user or password")
    if port == 0:
        raise UrlRefused("INVALID_URL", "port 0 is not a port")
    if host in _METADATA_HOSTS:
        raise UrlRefused("FORBIDDEN_ADDRESS", "cloud metadata services are never called")
    if settings.is_production and not _allowed_host(host, settings):
        raise UrlRefused(
            "HOST_NOT_ALLOWED",
            f"{host} is not on this hub's webhook allow-list (HUB_WEBHOOK_ALLOW)",
        )
    for address in await resolve(host):
        reason = _refused_address(address, settings)
        if reason is not None:
            raise UrlRefused("FORBIDDEN_ADDRESS", f"{host} resolves to {address}: {reason}")
    return parts.geturl()
