"""The `hub` command: serve, migrate, manage clients and keys, print the schema."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
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

    from hub.observability.logs import default_format, logging_config

    settings = _settings()
    ensure_schema_current(settings)
    log_format = args.log_format or default_format(stderr_is_tty=sys.stderr.isatty())
    if log_format == "text":
        # Only for a person: in JSON mode every stderr line must parse (uvicorn's own
        # "running on" record says the same there).
        print(f"hub: serving on http://{args.host}:{args.port}/graphql", file=sys.stderr)
    uvicorn.run(
        "hub.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        log_config=logging_config(log_format=log_format, level=args.log_level),
        # The hub logs one line per request itself (with request id, client and
        # operation); uvicorn's access line would repeat each of them less completely.
        access_log=False,
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


def _standards_errors(exc: Exception) -> CommandError:
    from hub.standards.errors import StandardsErrors

    items = exc.errors if isinstance(exc, StandardsErrors) else [exc]
    lines = [
        f"{e.code.value}{' at ' + e.path if e.path else ''}: {e.message}"  # type: ignore[attr-defined]
        for e in items
    ]
    return CommandError("refused:\n  " + "\n  ".join(lines))


def _ensure_standard_for_file(session: Any, path: Path) -> Any:
    from hub.standards import service
    from hub.standards.errors import StandardsError
    from hub.standards.shipped import METADATA_FILE

    async def ensure() -> None:
        standard_id = path.parent.name
        try:
            await service.get_standard(session=session, standard_id=standard_id)
        except StandardsError:
            meta_path = path.parent / METADATA_FILE
            if not meta_path.exists():
                raise
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            await service.create_standard(
                session=session,
                standard_id=standard_id,
                title=meta["title"],
                owner=meta["owner"],
                description=meta.get("description", ""),
                compatibility=meta.get("compatibility", "BACKWARD"),
                actor="cli",
            )

    return ensure()


def cmd_standards_publish(args: argparse.Namespace) -> int:
    """Publishes standard version files (standards/<id>/<version>.json) or all shipped ones."""
    from hub.standards import service, shipped
    from hub.standards.errors import StandardsError, StandardsErrors

    ensure_schema_current(_settings())
    if args.shipped:
        try:
            outcomes = _run_with_session(
                lambda session: shipped.publish_shipped(session=session, actor="cli")
            )
        except (StandardsError, StandardsErrors) as exc:
            raise _standards_errors(exc) from exc
        for outcome in outcomes:
            print(f"{outcome.ref}: {'already published' if outcome.duplicate else 'published'}")
        return 0
    if not args.files:
        raise CommandError("name version files (standards/<id>/<version>.json) or --shipped")

    async def work(session: Any) -> list[str]:
        lines = []
        for name in args.files:
            version = shipped.read_version_file(Path(name))
            await _ensure_standard_for_file(session, version.path)
            result = await service.publish_version(
                session=session,
                standard_id=version.standard_id,
                version=version.version,
                schema=version.schema,
                actor="cli",
            )
            state = "already published" if result.duplicate else "published"
            lines.append(f"{result.version.ref}: {state} (sha256 {result.version.content_hash})")
        return lines

    try:
        for line in _run_with_session(work):
            print(line)
    except (StandardsError, StandardsErrors) as exc:
        raise _standards_errors(exc) from exc
    except (OSError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    return 0


def cmd_standards_check(args: argparse.Namespace) -> int:
    """Prints the compatibility report of a version file; exit 1 when incompatible."""
    from hub.standards import service, shipped
    from hub.standards.errors import StandardsError, StandardsErrors

    ensure_schema_current(_settings())
    try:
        version = shipped.read_version_file(Path(args.file))
    except (OSError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    try:
        check = _run_with_session(
            lambda session: service.check_compatibility(
                session=session,
                standard_id=version.standard_id,
                version=version.version,
                schema=version.schema,
            )
        )
    except (StandardsError, StandardsErrors) as exc:
        raise _standards_errors(exc) from exc
    report = check.report
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        against = ", ".join(check.against) or "nothing (first version of its major line)"
        verdict = "compatible" if report.compatible else "INCOMPATIBLE"
        print(f"{version.standard_id}@{version.version} under {report.mode.value}: {verdict}")
        print(f"checked against: {against}")
        for change in report.changes:
            mark = "NO " if change in report.incompatible_changes else "ok "
            print(f"  {mark} {change.pointer or '/'}  {change.kind}: {change.message}")
    return 0 if report.compatible else 1


def cmd_standards_list(args: argparse.Namespace) -> int:
    """Lists standards and their versions."""
    from hub.standards import service

    ensure_schema_current(_settings())

    async def work(session: Any) -> list[dict[str, Any]]:
        result = []
        for standard in await service.list_standards(session=session):
            versions = await service.list_versions(session=session, standard_id=standard.id)
            result.append(
                {
                    "id": standard.id,
                    "title": standard.title,
                    "owner": standard.owner,
                    "compatibility": standard.compatibility,
                    "versions": [{"version": v.version, "state": v.state} for v in versions],
                }
            )
        return result

    rows = _run_with_session(work)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for row in rows:
            versions = ", ".join(f"{v['version']} {v['state']}" for v in row["versions"])
            print(f"{row['id']:24} {row['compatibility']:20} {versions}  — {row['title']}")
    return 0


def cmd_standards_show(args: argparse.Namespace) -> int:
    """Prints one version's schema (newest published when no version is given)."""
    from hub.standards import service
    from hub.standards.errors import StandardsError, StandardsErrors

    ensure_schema_current(_settings())

    async def work(session: Any) -> dict[str, Any]:
        resolved = await service.resolve(session=session, ref=args.ref)
        row = resolved.version
        return {
            "standard": row.standard_id,
            "version": row.version,
            "state": row.state,
            "content_hash": row.content_hash,
            "successor": row.successor,
            "schema": row.schema,
        }

    try:
        print(json.dumps(_run_with_session(work), indent=2, ensure_ascii=False))
    except (StandardsError, StandardsErrors) as exc:
        raise _standards_errors(exc) from exc
    return 0


def cmd_standards_transition(args: argparse.Namespace) -> int:
    """Deprecates or retires a version named as id@x.y.z."""
    from hub.standards import service
    from hub.standards.errors import StandardsError, StandardsErrors

    ensure_schema_current(_settings())
    standard_id, _, version = args.ref.partition("@")
    if not version:
        raise CommandError("name the version as id@x.y.z")

    async def work(session: Any) -> Any:
        if args.standards == "deprecate":
            return await service.deprecate_version(
                session=session, standard_id=standard_id, version=version
            )
        return await service.retire_version(
            session=session, standard_id=standard_id, version=version, successor=args.successor
        )

    try:
        row = _run_with_session(work)
    except (StandardsError, StandardsErrors) as exc:
        raise _standards_errors(exc) from exc
    print(f"{row.ref}: {row.state}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Prints the GraphQL schema (SDL)."""
    from hub.graphql.schema import print_sdl

    print(print_sdl())
    return 0


def _print_credentials(clients: Sequence[Any]) -> None:
    print(f"{'client_id':<24}  {'client_secret':<43}  {'scopes':<22}  name")
    for c in clients:
        print(f"{c.client_id:<24}  {c.client_secret:<43}  {c.scopes:<22}  {c.name}")


def _print_demo_summary(summary: Any, credentials: Path) -> None:
    rate = summary.records / summary.seconds if summary.seconds else 0.0
    print(
        f"demo data: {summary.orders:,} orders (seed {summary.seed}), {summary.records:,} records "
        f"in {summary.seconds:.1f} s ({rate:,.0f} records/s)"
    )
    print(f"\n{'standard':<24} {'accepted':>9} {'rejected':>9}")
    for standard, counts in summary.by_standard.items():
        again = f"  ({counts.duplicates:,} already stored)" if counts.duplicates else ""
        print(f"{standard:<24} {counts.accepted:>9,} {counts.rejected:>9,}{again}")
    print(f"{'total':<24} {summary.accepted:>9,} {summary.rejected:>9,}")
    for line in summary.sample_errors:
        print(f"  refused: {line}")
    statuses = ", ".join(f"{s} {n:,}" for s, n in summary.match_status.items()) or "none"
    print(f"\norders by match status: {statuses}")
    print(f"\nclients (credentials written to {credentials}, mode 0600):")
    _print_credentials(summary.clients)


def cmd_demo(args: argparse.Namespace) -> int:
    """Loads the synthetic demo data set and creates the departments' and enterprises' clients."""
    from hub.demo import loader
    from hub.demo.progress import terminal_progress
    from hub.runtime import Runtime

    if args.orders < 0:
        raise CommandError("--orders must be 0 or more")
    settings = _settings()
    ensure_schema_current(settings)
    credentials = Path(args.credentials)

    async def main() -> Any:
        runtime = Runtime.create(settings)
        try:
            if args.if_empty:
                async with runtime.session_factory() as session:
                    if await loader.has_declarations(session=session):
                        return None
            progress = terminal_progress(label="declaring")
            try:
                return await loader.load_demo(
                    runtime=runtime,
                    orders=args.orders,
                    seed=args.seed,
                    progress=progress,
                    on_clients=lambda created: loader.write_credentials(
                        path=credentials, clients=created, issuer=settings.issuer
                    ),
                )
            finally:
                progress.close()
        finally:
            await runtime.stop()

    try:
        summary = asyncio.run(main())
    except OSError as exc:
        raise CommandError(f"cannot write {credentials}: {exc}") from exc
    if summary is not None:
        _print_demo_summary(summary, credentials)
        return 0
    print("the database already holds declarations: no demo data declared")
    if not credentials.exists():
        print(f"no demo credentials file at {credentials} (run `hub demo` on an empty database)")
        return 0
    try:
        existing = loader.read_credentials(path=credentials)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"cannot read {credentials}: {exc}") from exc
    print(f"clients (from {credentials}):")
    _print_credentials(existing)
    return 0


def cmd_verify_chain(args: argparse.Namespace) -> int:
    """Recomputes the declaration hash chain; exit 1 when it finds a problem."""
    from hub.db import create_engine, create_session_factory
    from hub.declarations import chain
    from hub.demo.progress import terminal_progress

    settings = _settings()
    ensure_schema_current(settings)

    async def main() -> chain.ChainReport:
        engine = create_engine(settings)
        progress = terminal_progress(label="verifying")
        try:
            async with create_session_factory(engine)() as session:
                return await chain.verify(
                    session=session,
                    from_index=args.from_index,
                    to_index=args.to_index,
                    progress=progress,
                )
        finally:
            progress.close()
            await engine.dispose()

    report = asyncio.run(main())
    if args.json:
        document = {
            "ok": report.ok,
            "checked": report.checked,
            "from_index": report.from_index,
            "to_index": report.to_index,
            "problems": [
                {"index": p.index, "kind": p.kind.value, "detail": p.detail}
                for p in report.problems
            ],
        }
        print(json.dumps(document, indent=2))
    elif report.ok:
        span = (
            f"indexes {report.from_index}..{report.to_index}"
            if report.to_index >= report.from_index
            else "empty range"
        )
        print(f"chain OK: {report.checked:,} declarations verified ({span})")
    else:
        print(
            f"chain BROKEN: {len(report.problems)} problem(s) in indexes "
            f"{report.from_index}..{report.to_index} ({report.checked:,} declarations read)"
        )
        for problem in report.problems:
            print(f"  index {problem.index}  {problem.kind.value}  {problem.detail}")
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `hub` command."""
    parser = argparse.ArgumentParser(prog="hub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the hub (GraphQL at /graphql)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--log-format",
        choices=("json", "text"),
        default=None,
        help="one JSON object per line, or readable text (default: text on a terminal, "
        "json otherwise)",
    )
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

    st = sub.add_parser("standards", help="data-standard registry").add_subparsers(
        dest="standards", required=True
    )
    st_list = st.add_parser("list", help="list standards and versions")
    st_list.add_argument("--json", action="store_true")
    st_list.set_defaults(func=cmd_standards_list)
    st_show = st.add_parser("show", help="print a version: ID (newest) or ID@x.y.z")
    st_show.add_argument("ref")
    st_show.set_defaults(func=cmd_standards_show)
    st_pub = st.add_parser("publish", help="publish standards/<id>/<version>.json files")
    st_pub.add_argument("files", nargs="*")
    st_pub.add_argument("--shipped", action="store_true", help="every shipped standard")
    st_pub.set_defaults(func=cmd_standards_publish)
    st_check = st.add_parser("check", help="compatibility report of a version file")
    st_check.add_argument("file")
    st_check.add_argument("--json", action="store_true")
    st_check.set_defaults(func=cmd_standards_check)
    st_dep = st.add_parser("deprecate", help="deprecate ID@x.y.z")
    st_dep.add_argument("ref")
    st_dep.set_defaults(func=cmd_standards_transition)
    st_ret = st.add_parser("retire", help="retire ID@x.y.z naming its successor")
    st_ret.add_argument("ref")
    st_ret.add_argument("--successor", required=True)
    st_ret.set_defaults(func=cmd_standards_transition)

    demo = sub.add_parser("demo", help="load demo data and create demo clients")
    demo.add_argument("--orders", type=int, default=2000, help="orders to generate")
    demo.add_argument("--seed", type=int, default=7, help="same seed, same data")
    demo.add_argument(
        "--credentials",
        default="hub-demo-clients.json",
        help="where to write the clients' secrets (JSON, mode 0600)",
    )
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="declare nothing when the database holds declarations already",
    )
    demo.set_defaults(func=cmd_demo)

    verify = sub.add_parser("verify-chain", help="check the declarations' hash chain")
    verify.add_argument("--from", dest="from_index", type=int, default=1, metavar="N")
    verify.add_argument("--to", dest="to_index", type=int, default=None, metavar="N")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(func=cmd_verify_chain)

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
