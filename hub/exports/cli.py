"""`hub export orders`: a client's orders, as the graph shows them to it, to a file."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hub.config import Settings

if TYPE_CHECKING:  # imported where used: the CLI starts without the graph
    from hub.exports.service import ExportResult


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Adds `hub export ...` to the hub's command line."""
    export = sub.add_parser("export", help="bulk exports under a client's access").add_subparsers(
        dest="export", required=True
    )
    orders = export.add_parser("orders", help="every order the client may read")
    orders.add_argument("--client", required=True, help="the client id whose access applies")
    orders.add_argument(
        "--format",
        choices=("ndjson", "csv", "parquet"),
        default="ndjson",
        help="file format (default ndjson)",
    )
    orders.add_argument("--out", type=Path, required=True, help="the file to write")
    orders.add_argument("--after", help="resume after this cursor (printed by an earlier run)")
    orders.add_argument("--limit", type=int, help="at most this many orders")
    orders.set_defaults(func=cmd_export_orders)


def cmd_export_orders(args: argparse.Namespace) -> int:
    from hub.demo.progress import Progress

    settings = Settings.from_env()
    progress = Progress(label="orders exported", enabled=sys.stderr.isatty())
    result = asyncio.run(_run(settings, args, lambda done: progress(done, 0)))
    print(
        f"{result.rows} orders, {len(result.enterprises)} enterprises; resume after {result.cursor}"
    )
    return 0


async def _run(
    settings: Settings, args: argparse.Namespace, progress: Callable[[int], None]
) -> ExportResult:
    from sqlalchemy import select

    from hub.auth.models import Client
    from hub.cli import CommandError
    from hub.events.principals import principal_of
    from hub.exports import service, writers
    from hub.graphql.schema import build_schema
    from hub.runtime import Runtime

    runtime = Runtime.create(settings)
    try:
        await runtime.keys.ensure_key()
        async with runtime.session_factory() as session:
            client = await session.scalar(select(Client).where(Client.client_id == args.client))
        principal = principal_of(client, settings) if client is not None else None
        if principal is None:
            raise CommandError(f"no enabled client {args.client!r}")
        columns = [*service.ORDER_FIELDS, "matchStatus"]
        with args.out.open("wb") as out:
            writer: writers.Writer
            if args.format == "ndjson":
                writer = writers.NdjsonWriter(out)
            elif args.format == "csv":
                writer = writers.CsvWriter(out, columns)
            else:
                writer = writers.ParquetWriter(args.out, columns)
            try:
                return await service.export_orders(
                    runtime=runtime,
                    schema=build_schema(settings),
                    principal=principal,
                    writer=writer,
                    after=args.after,
                    limit=args.limit,
                    progress=progress,
                )
            finally:
                writer.close()
    finally:
        runtime.validators.close()
        await runtime.engine.dispose()
