"""GET /metrics: Prometheus text format, only for addresses in HUB_METRICS_ALLOW."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from hub.config import IPNetwork
from hub.observability.metrics import CONTENT_TYPE, metrics
from hub.runtime import Runtime


def address_allowed(host: str | None, allowed: Sequence[IPNetwork]) -> bool:
    """True when `host` is an IP address inside one of the allowed networks.

    No address (a Unix socket) or a name instead of an address is refused: the allow list
    is the only guard of /metrics, so anything it cannot judge stays out.
    """
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    # A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; judge the IPv4 address.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in allowed)


async def metrics_endpoint(request: Request) -> Response:
    """The hub's metrics (all workers' counters), or 403 outside HUB_METRICS_ALLOW."""
    runtime: Runtime = request.app.state.runtime
    host = request.client.host if request.client else None
    if not address_allowed(host, runtime.settings.metrics_allow):
        return PlainTextResponse(
            "metrics are served only to addresses in HUB_METRICS_ALLOW\n", status_code=403
        )
    return Response(metrics.render(engine=runtime.engine.sync_engine), media_type=CONTENT_TYPE)


ROUTES = [Route("/metrics", metrics_endpoint, methods=["GET"])]
