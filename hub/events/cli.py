"""`hub events relay`: publish the event log to NATS JetStream (one relay per database)."""

from __future__ import annotations

import argparse
import asyncio
import os

from hub.config import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Adds `hub events ...` to the hub's command line."""
    events = sub.add_parser("events", help="the event log").add_subparsers(
        dest="events", required=True
    )
    relay = events.add_parser(
        "relay", help="publish the event log to NATS JetStream until stopped (SIGTERM)"
    )
    relay.add_argument(
        "--nats",
        default=os.environ.get("HUB_NATS_URL", "nats://127.0.0.1:4222"),
        help="NATS server URL (HUB_NATS_URL; default nats://127.0.0.1:4222)",
    )
    relay.add_argument(
        "--lease-seconds",
        type=float,
        default=10.0,
        help="how long a dead relay blocks a standby from taking over (default 10)",
    )
    relay.add_argument("--stream", default="HUB_EVENTS", help="JetStream stream name")
    relay.add_argument("--subject-prefix", default="hub.events", help="subjects' prefix")
    relay.add_argument("--batch", type=int, default=200, help="events per round (200)")
    relay.set_defaults(func=cmd_events_relay)


def cmd_events_relay(args: argparse.Namespace) -> int:
    from hub.events import relay

    settings = Settings.from_env()
    asyncio.run(
        relay.serve(
            database_url=settings.database_url,
            nats_url=args.nats,
            issuer=settings.issuer,
            lease_seconds=args.lease_seconds,
            stream=args.stream,
            prefix=args.subject_prefix,
            batch=max(1, args.batch),
        )
    )
    return 0
