"""The `hub` command: serve, migrate, manage clients and keys, print the schema."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from hub import migrate
from hub.config import Settings, SettingsError


class CommandError(Exception):
    """A command cannot do what was asked; the message tells the user what to do."""


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise CommandError(str(exc)) from exc


def _run_with_session(work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Runs one unit of work against the configured database and returns its result."""
    from hub.db import create_engine, create_session_factory, unit_of_work

    async def main() -> Any:
        engine = create_engine(_settings())
        try:
            async with unit_of_work(create_session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def ensure_schema_current(settings: Settings) -> None:
    """Migrates an embedded SQLite database; refuses a PostgreSQL database that is behind."""
    if settings.is_sqlite:
        migrate.upgrade(database_url=settings.database_url)
        return
    current = migrate.current_revision_sync(database_url=settings.database_url)
    head = migrate.head_revision()
    if current != head:
        raise CommandError(
            f"the database is at revision {current or 'none (empty)'}, the code needs {head}: "
            "run `hub db upgrade` (with the same HUB_DATABASE_URL) first"
        )


def cmd_serve(args: argparse.Namespace) -> int:
    """Serves the hub with uvicorn."""
    import uvicorn

    settings = _settings()
    ensure_schema_current(settings)
    print(f"hub: serving on http://{args.host}:{args.port}/graphql", file=sys.stderr)
    uvicorn.run(
        "hub.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        timeout_graceful_shutdown=30,
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Migrates the database to the newest schema."""
    settings = _settings()
    migrate.upgrade(database_url=settings.database_url, revision=args.revision)
    current = migrate.current_revision_sync(database_url=settings.database_url)
    print(f"database at revision {current}")
    return 0


def cmd_db_downgrade(args: argparse.Namespace) -> int:
    """Migrates the database down to a revision."""
    settings = _settings()
    migrate.downgrade(database_url=settings.database_url, revision=args.revision)
    current = migrate.current_revision_sync(database_url=settings.database_url)
    print(f"database at revision {current or 'base'}")
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    """Prints the database's revision and the code's."""
    settings = _settings()
    current = migrate.current_revision_sync(database_url=settings.database_url)
    print(f"database: {current or 'empty'}; code: {migrate.head_revision()}")
    return 0


def cmd_clients_create(args: argparse.Namespace) -> int:
    """Creates an OAuth2 client and prints its id and one-time secret."""
    from hub.auth import clients
    from hub.auth.scopes import UnknownScopeError

    settings = _settings()
    ensure_schema_current(settings)
    try:
        created = _run_with_session(
            lambda session: clients.create(
                session=session,
                name=args.name,
                scopes=args.scopes,
                enterprise_code=args.enterprise,
            )
        )
    except (clients.ClientError, UnknownScopeError) as exc:
        raise CommandError(str(exc)) from exc
    data = {
        "client_id": created.client_id,
        "client_secret": created.client_secret,
        "name": created.name,
        "scopes": " ".join(s.value for s in created.scopes),
        "enterprise": created.enterprise_code,
    }
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        for key, value in data.items():
            print(f"{key}: {value if value is not None else '-'}")
        print("(the secret is shown only now; store it safely)", file=sys.stderr)
    return 0


def cmd_clients_list(args: argparse.Namespace) -> int:
    """Lists clients (never their secrets)."""
    from hub.auth import clients

    ensure_schema_current(_settings())

    async def work(session: Any) -> list[dict[str, Any]]:
        return [
            {
                "client_id": c.client_id,
                "name": c.name,
                "scopes": c.scopes,
                "enterprise": c.enterprise_code,
                "created_at": c.created_at.isoformat(),
                "disabled": c.disabled_at is not None,
            }
            for c in await clients.list_all(session=session)
        ]

    rows = _run_with_session(work)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            state = "disabled" if row["disabled"] else "active"
            ent = row["enterprise"] or "-"
            print(f"{row['client_id']}  {state:8}  {ent:18}  {row['name']}  [{row['scopes']}]")
    return 0


def cmd_clients_disable(args: argparse.Namespace) -> int:
    """Disables a client so it can no longer obtain tokens."""
    from hub.auth import clients

    ensure_schema_current(_settings())
    try:
        _run_with_session(
            lambda session: clients.disable(session=session, client_id=args.client_id)
        )
    except clients.ClientError as exc:
        raise CommandError(str(exc)) from exc
    print(f"client {args.client_id} disabled")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    """Adds a new signing key; older keys stay published until their tokens expire."""
    from hub.auth import keys

    settings = _settings()
    ensure_schema_current(settings)
    row = _run_with_session(lambda session: keys.rotate(session=session, alg=settings.signing_alg))
    print(f"new signing key {row.kid} ({row.alg})")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Prints the GraphQL schema (SDL)."""
    from hub.graphql.schema import print_sdl

    print(print_sdl())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `hub` command."""
    parser = argparse.ArgumentParser(prog="hub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the hub (GraphQL at /graphql)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    up = db.add_parser("upgrade", help="migrate to the newest schema")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)
    down = db.add_parser("downgrade", help="migrate down to a revision")
    down.add_argument("revision")
    down.set_defaults(func=cmd_db_downgrade)
    db.add_parser("current", help="show the schema revision").set_defaults(func=cmd_db_current)

    cl = sub.add_parser("clients", help="OAuth2 clients").add_subparsers(
        dest="clients", required=True
    )
    create = cl.add_parser("create", help="create a client; prints id and secret once")
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", required=True, help='space-separated, e.g. "customs:read"')
    create.add_argument("--enterprise", help="bind the client to this enterprise code")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=cmd_clients_create)
    lst = cl.add_parser("list", help="list clients")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_clients_list)
    dis = cl.add_parser("disable", help="disable a client")
    dis.add_argument("client_id")
    dis.set_defaults(func=cmd_clients_disable)

    keys = sub.add_parser("keys", help="token signing keys").add_subparsers(
        dest="keys", required=True
    )
    keys.add_parser("rotate", help="add a new signing key").set_defaults(func=cmd_keys_rotate)

    sub.add_parser("schema", help="print the GraphQL SDL").set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `hub` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CommandError as exc:
        print(f"hub: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
