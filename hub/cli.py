"""The `hub` command: serve, migrate, manage clients and keys, print the schema."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub import migrate
from hub.config import Settings, SettingsError
from hub.credit import cli as credit_cli
from hub.demo import DEFAULT_ORDERS, DEFAULT_SEED
from hub.events import cli as events_cli
from hub.exports import cli as exports_cli
from hub.log import cli as log_cli
from hub.risk import cli as risk_cli

if TYPE_CHECKING:
    from hub.observability.logs import LogFormat


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
    from hub.observability.logs import default_format

    settings = _settings()
    ensure_schema_current(settings)
    if args.workers < 1:
        raise CommandError("--workers must be 1 or more")
    _serve_timeouts(args)
    log_format: LogFormat = args.log_format or default_format(stderr_is_tty=sys.stderr.isatty())
    if log_format == "text":
        # Only for a person: in JSON mode every stderr line must parse (uvicorn's own
        # "running on" record says the same there).
        print(f"hub: serving on http://{args.host}:{args.port}/graphql", file=sys.stderr)
    with _metrics_directory(workers=args.workers):
        _run_uvicorn(args, log_format)
    return 0


def _serve_timeouts(args: argparse.Namespace) -> None:
    """Checks the connection timeouts; the workers read the header timeout from the env."""
    from hub.http.header_timeout import HEADER_TIMEOUT_ENV, header_timeout

    timeout = args.header_timeout if args.header_timeout is not None else header_timeout()
    if timeout <= 0 or args.keep_alive_timeout <= 0:
        raise CommandError("--header-timeout and --keep-alive-timeout must be above 0")
    if args.limit_concurrency is not None and args.limit_concurrency < 1:
        raise CommandError("--limit-concurrency must be 1 or more")
    os.environ[HEADER_TIMEOUT_ENV] = str(timeout)


@contextlib.contextmanager
def _metrics_directory(*, workers: int) -> Iterator[None]:
    """Gives several workers one prometheus_client multiprocess directory, emptied first.

    Workers are started after this (uvicorn spawns them), so they inherit the variable
    before they import prometheus_client. An operator's own PROMETHEUS_MULTIPROC_DIR is
    used (and emptied of old counts); otherwise a private temporary one is made and removed.
    """
    from hub.observability.metrics import MULTIPROC_ENV

    given = os.environ.get(MULTIPROC_ENV)
    if workers == 1 and not given:
        yield  # one process: its own registry is the whole story
        return
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield
        return
    directory = Path(tempfile.mkdtemp(prefix="hub-metrics-"))
    os.environ[MULTIPROC_ENV] = str(directory)
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def _run_uvicorn(args: argparse.Namespace, log_format: LogFormat) -> None:
    import uvicorn

    from hub.observability.logs import logging_config

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
        # uvicorn would trust X-Forwarded-* from 127.0.0.1 by default, so a local client
        # could claim https; the hub decides by HUB_TRUSTED_PROXIES (hub/http/proxies.py).
        proxy_headers=False,
        timeout_graceful_shutdown=30,
        # Slow and silent connections are closed (hub/http/header_timeout.py): a request
        # head within --header-timeout, idle kept-alive connections after
        # --keep-alive-timeout, and no more than 16 KiB of head (h11's limit, explicit).
        http="hub.http.header_timeout:HeaderTimeoutProtocol",
        timeout_keep_alive=args.keep_alive_timeout,
        h11_max_incomplete_event_size=16 * 1024,
        limit_concurrency=args.limit_concurrency,
    )


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
    """Disables a client: no new tokens, and the tokens it holds are revoked."""
    from hub.auth import clients

    ensure_schema_current(_settings())
    try:
        _run_with_session(
            lambda session: clients.disable(session=session, client_id=args.client_id)
        )
    except clients.ClientError as exc:
        raise CommandError(str(exc)) from exc
    print(f"client {args.client_id} disabled; its tokens are revoked")
    return 0


def cmd_clients_enable(args: argparse.Namespace) -> int:
    """Re-enables a disabled client (its old tokens stay revoked)."""
    from hub.auth import clients

    ensure_schema_current(_settings())
    try:
        _run_with_session(lambda session: clients.enable(session=session, client_id=args.client_id))
    except clients.ClientError as exc:
        raise CommandError(str(exc)) from exc
    print(f"client {args.client_id} enabled")
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


def _read_version_file(name: str) -> Any:
    """Reads a version file, or says how it must be named (exit 2, never a traceback)."""
    from hub.standards import shipped
    from hub.standards.errors import StandardsError

    path = Path(name)
    if path.suffix != ".json":
        raise CommandError(
            f"{name}: name a version file <id>/<version>.json, e.g. standards/cbec.order/1.1.0.json"
        )
    try:
        return shipped.read_version_file(path)
    except StandardsError as exc:
        raise CommandError(
            f"{name}: the file name must be the version and its folder the standard id, "
            f"e.g. standards/cbec.order/1.1.0.json ({exc.message})"
        ) from exc
    except FileNotFoundError as exc:
        raise CommandError(f"{name}: no such file") from exc
    except OSError as exc:
        raise CommandError(f"{name}: cannot read it ({exc.strerror})") from exc
    except ValueError as exc:
        raise CommandError(f"{name}: not JSON ({exc})") from exc


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
            version = _read_version_file(name)
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
    from hub.standards import service
    from hub.standards.errors import StandardsError, StandardsErrors

    ensure_schema_current(_settings())
    version = _read_version_file(args.file)
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


def cmd_documents_register(args: argparse.Namespace) -> int:
    """Registers trusted documents from .graphql files and/or a manifest."""
    from hub.documents import service
    from hub.graphql.schema import build_schema

    ensure_schema_current(_settings())
    candidates: list[Any] = []
    try:
        for name in args.files:
            path = Path(name)
            candidates.append(
                service.DocumentCandidate(body=path.read_text(encoding="utf-8"), label=path.stem)
            )
        if args.manifest:
            candidates.extend(
                service.read_manifest(Path(args.manifest).read_text(encoding="utf-8"))
            )
    except OSError as exc:
        raise CommandError(f"cannot read {exc.filename}: {exc.strerror}") from exc
    except service.DocumentsRefused as refused:
        raise CommandError(f"{args.manifest}: {refused}") from refused
    if not candidates:
        raise CommandError("name .graphql files or --manifest FILE")
    validate = service.schema_validator(build_schema(_settings()))
    try:
        registered = _run_with_session(
            lambda session: service.register(
                session=session, candidates=candidates, validate=validate, registered_by="cli"
            )
        )
    except service.DocumentsRefused as refused:
        sources = [*args.files, *([args.manifest] * (len(candidates) - len(args.files)))]
        lines = [
            f"{r.code.value} {sources[int(r.path[1:])] if r.path else ''} "
            f"(document {r.path or '-'}): {r.message}"
            for r in refused.refusals
        ]
        raise CommandError("nothing registered:\n  " + "\n  ".join(lines)) from refused
    for entry in registered:
        state = "already registered" if entry.duplicate else "registered"
        names = entry.document.operation_names or "(anonymous)"
        print(f"{entry.document.id}  {state}  {names}")
    return 0


def cmd_documents_list(args: argparse.Namespace) -> int:
    """Lists trusted documents."""
    from hub.documents import service

    ensure_schema_current(_settings())

    async def work(session: Any) -> list[dict[str, Any]]:
        return [
            {
                "id": d.id,
                "operations": d.operation_names.split(),
                "label": d.label,
                "registered_at": d.registered_at.isoformat(),
                "registered_by": d.registered_by,
            }
            for d in await service.list_documents(session=session)
        ]

    rows = _run_with_session(work)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for row in rows:
            print(
                f"{row['id']}  {' '.join(row['operations']) or '(anonymous)'}  {row['label'] or ''}"
            )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Prints the GraphQL schema (SDL)."""
    from hub.graphql.schema import print_sdl

    print(print_sdl())
    return 0


def _print_credentials(clients: Sequence[Any]) -> None:
    print(f"{'client_id':<24}  {'client_secret':<43}  {'scopes':<22}  {'enterprise':<18}  name")
    for c in clients:
        enterprise = c.enterprise_code or "-"
        print(
            f"{c.client_id:<24}  {c.client_secret:<43}  {c.scopes:<22}  {enterprise:<18}  {c.name}"
        )


def _print_demo_summary(summary: Any, credentials: Path) -> None:
    rate = summary.records / summary.seconds if summary.seconds else 0.0
    print(
        f"demo data: {summary.orders:,} orders (seed {summary.seed}), {summary.records:,} records "
        f"in {summary.seconds:.1f} s ({rate:,.0f} records/s)"
    )
    print(f"\n{'standard':<28} {'accepted':>9} {'rejected':>9}")
    for standard, counts in summary.by_standard.items():
        again = f"  ({counts.duplicates:,} already stored)" if counts.duplicates else ""
        print(f"{standard:<28} {counts.accepted:>9,} {counts.rejected:>9,}{again}")
    print(f"{'total':<28} {summary.accepted:>9,} {summary.rejected:>9,}")
    for line in summary.sample_errors:
        print(f"  refused: {line}")
    statuses = ", ".join(f"{s} {n:,}" for s, n in summary.match_status.items()) or "none"
    print(f"\norders by match status: {statuses}")
    alerts = ", ".join(f"{rule} {n:,}" for rule, n in sorted(summary.alerts.items())) or "none"
    print(f"risk alerts by rule (shipped rule set, as of the end of the demo year): {alerts}")
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
    known: list[Any] = []
    if credentials.exists():
        # A re-run keeps the clients (and secrets) the file already lists.
        try:
            known = loader.read_credentials(path=credentials)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandError(
                f"cannot read {credentials}: {exc} (move it away to start afresh)"
            ) from exc

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
                    known=known,
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


def cmd_messages_import(args: argparse.Namespace) -> int:
    """Back-loads CEB XML files through the XML intake (hub/messages/cli.py)."""
    from hub.messages.cli import cmd_messages_import as run

    settings = _settings()
    ensure_schema_current(settings)
    return run(args, settings)


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
            "pending": report.pending,
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
        if report.pending:
            print(f"{report.pending:,} declaration(s) pending: in the chain once the log has them")
    else:
        print(
            f"chain BROKEN: {len(report.problems)} problem(s) in indexes "
            f"{report.from_index}..{report.to_index} ({report.checked:,} declarations read)"
        )
        for problem in report.problems:
            print(f"  index {problem.index}  {problem.kind.value}  {problem.detail}")
    return 0 if report.ok else 1


def cmd_limits_rebuild(args: argparse.Namespace) -> int:
    """Re-matches every order under the current rules and rebuilds the annual-limit totals."""
    from hub.db import create_engine, create_session_factory, unit_of_work
    from hub.demo.progress import terminal_progress
    from hub.trade import replay

    settings = _settings()
    ensure_schema_current(settings)

    async def main() -> int:
        engine = create_engine(settings)
        progress = terminal_progress(label="re-matching")
        try:
            async with unit_of_work(create_session_factory(engine)) as session:
                return await replay.rebuild(
                    session=session, rules=settings.rules, progress=progress
                )
        finally:
            progress.close()
            await engine.dispose()

    count = asyncio.run(main())
    print(f"{count:,} orders re-matched; annual-limit totals rebuilt")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `hub` command."""
    parser = argparse.ArgumentParser(prog="hub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the hub (GraphQL at /graphql)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes sharing the port (metrics cover all of them)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=("critical", "error", "warning", "info", "debug", "trace"),
        help="lowest level logged (default: info)",
    )
    serve.add_argument(
        "--log-format",
        choices=("json", "text"),
        default=None,
        help="one JSON object per line, or readable text (default: text on a terminal, "
        "json otherwise)",
    )
    serve.add_argument(
        "--header-timeout",
        type=float,
        default=None,
        help="seconds a connection has to send a complete request head, from when it "
        "opened or its previous response ended; then 408 and closed (default: "
        "HUB_HEADER_TIMEOUT or 10)",
    )
    serve.add_argument(
        "--keep-alive-timeout",
        type=float,
        default=5.0,
        help="seconds an idle kept-alive connection stays open (default: 5)",
    )
    serve.add_argument(
        "--limit-concurrency",
        type=int,
        default=None,
        help="connections plus requests in flight per worker beyond which new requests get "
        "503 at once (default: no limit)",
    )
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    up = db.add_parser("upgrade", help="migrate to the newest schema")
    up.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    up.set_defaults(func=cmd_db_upgrade)
    down = db.add_parser("downgrade", help="migrate down to a revision")
    down.add_argument("revision", help="revision to migrate down to (`base`: empty)")
    down.set_defaults(func=cmd_db_downgrade)
    db.add_parser("current", help="show the schema revision").set_defaults(func=cmd_db_current)

    cl = sub.add_parser("clients", help="OAuth2 clients").add_subparsers(
        dest="clients", required=True
    )
    create = cl.add_parser("create", help="create a client; prints id and secret once")
    create.add_argument("--name", required=True, help="who the client is, e.g. 'Seller ERP'")
    create.add_argument("--scopes", required=True, help='space-separated, e.g. "customs:read"')
    create.add_argument(
        "--enterprise",
        help="bind the client to this enterprise: a USCC (check character verified) or a "
        "10-character customs code; required with scope declare",
    )
    create.add_argument("--json", action="store_true", help="print the result as JSON")
    create.set_defaults(func=cmd_clients_create)
    lst = cl.add_parser("list", help="list clients")
    lst.add_argument("--json", action="store_true", help="print the list as JSON")
    lst.set_defaults(func=cmd_clients_list)
    dis = cl.add_parser("disable", help="disable a client and revoke its tokens")
    dis.add_argument("client_id", help="the client's id (hub_...)")
    dis.set_defaults(func=cmd_clients_disable)
    ena = cl.add_parser("enable", help="re-enable a disabled client")
    ena.add_argument("client_id", help="the client's id (hub_...)")
    ena.set_defaults(func=cmd_clients_enable)

    keys = sub.add_parser("keys", help="token signing keys").add_subparsers(
        dest="keys", required=True
    )
    keys.add_parser("rotate", help="add a new signing key").set_defaults(func=cmd_keys_rotate)

    st = sub.add_parser("standards", help="data-standard registry").add_subparsers(
        dest="standards", required=True
    )
    st_list = st.add_parser("list", help="list standards and versions")
    st_list.add_argument("--json", action="store_true", help="print the list as JSON")
    st_list.set_defaults(func=cmd_standards_list)
    st_show = st.add_parser("show", help="print a version: ID (newest) or ID@x.y.z")
    st_show.add_argument("ref", help="ID (newest published) or ID@x.y.z")
    st_show.set_defaults(func=cmd_standards_show)
    st_pub = st.add_parser("publish", help="publish standards/<id>/<version>.json files")
    st_pub.add_argument(
        "files", nargs="*", help="version files named standards/<id>/<version>.json"
    )
    st_pub.add_argument("--shipped", action="store_true", help="every shipped standard")
    st_pub.set_defaults(func=cmd_standards_publish)
    st_check = st.add_parser("check", help="compatibility report of a version file")
    st_check.add_argument("file", help="a version file named <id>/<version>.json")
    st_check.add_argument("--json", action="store_true", help="print the report as JSON")
    st_check.set_defaults(func=cmd_standards_check)
    st_dep = st.add_parser("deprecate", help="deprecate ID@x.y.z")
    st_dep.add_argument("ref", help="the version as ID@x.y.z")
    st_dep.set_defaults(func=cmd_standards_transition)
    st_ret = st.add_parser("retire", help="retire ID@x.y.z naming its successor")
    st_ret.add_argument("ref", help="the version as ID@x.y.z")
    st_ret.add_argument(
        "--successor", required=True, help="the published version (x.y.z) that replaces it"
    )
    st_ret.set_defaults(func=cmd_standards_transition)

    demo = sub.add_parser("demo", help="load demo data and create demo clients")
    demo.add_argument("--orders", type=int, default=DEFAULT_ORDERS, help="orders to generate")
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED, help="same seed, same data")
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

    messages = sub.add_parser("messages", help="customs CEB XML messages").add_subparsers(
        dest="messages", required=True
    )
    msg_import = messages.add_parser("import", help="declare archived CEB messages (XML files)")
    msg_import.add_argument(
        "files", nargs="+", metavar="FILE", help="CEB XML message files (one message each)"
    )
    msg_import.add_argument(
        "--as", dest="enterprise", required=True, help="the declaring enterprise's code"
    )
    msg_import.set_defaults(func=cmd_messages_import)

    verify = sub.add_parser(
        "verify-chain", help="check the declarations' hash chain (a view over the log)"
    )
    verify.add_argument(
        "--from", dest="from_index", type=int, default=1, metavar="N", help="first index (1)"
    )
    verify.add_argument(
        "--to", dest="to_index", type=int, default=None, metavar="N", help="last index (newest)"
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(func=cmd_verify_chain)
    log_cli.add_parser(sub)
    events_cli.add_parser(sub)
    exports_cli.add_parser(sub)
    risk_cli.add_parser(sub)
    credit_cli.add_parser(sub)

    limits = sub.add_parser("limits", help="retail annual-limit totals").add_subparsers(
        dest="limits", required=True
    )
    limits.add_parser(
        "rebuild", help="re-match every order under the current rules (HUB_RULES)"
    ).set_defaults(func=cmd_limits_rebuild)
    docs = sub.add_parser("documents", help="trusted GraphQL documents").add_subparsers(
        dest="documents", required=True
    )
    doc_reg = docs.add_parser("register", help="register documents, run later by documentId")
    doc_reg.add_argument("files", nargs="*", help=".graphql files, one document each")
    doc_reg.add_argument(
        "--manifest",
        help="a persisted-documents manifest: {hash: document} (GraphQL Code Generator) "
        "or Apollo's persisted-query manifest",
    )
    doc_reg.set_defaults(func=cmd_documents_register)
    doc_list = docs.add_parser("list", help="list registered documents")
    doc_list.add_argument("--json", action="store_true", help="print the list as JSON")
    doc_list.set_defaults(func=cmd_documents_list)

    sub.add_parser("schema", help="print the GraphQL SDL").set_defaults(func=cmd_schema)
    return parser


# Exit status of a command whose reader went away (`hub standards list | head -1`): what a
# shell reports for a program killed by SIGPIPE, so it is not mistaken for 1 (incompatible).
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `hub` console script."""
    args = build_parser().parse_args(argv)
    try:
        status = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows up here at the latest, not at exit
        return status
    except CommandError as exc:
        print(f"hub: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Python would print a traceback when flushing stdout at exit; point stdout at
        # /dev/null instead, as the Python documentation recommends for SIGPIPE.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    # As `python -m hub.cli` this file is `__main__`, a second copy of the module: run the
    # imported one, so the CommandError that subcommands import from hub.cli is the class
    # main() catches (else a refusal escapes as a traceback with status 1).
    from hub.cli import main as imported_main

    sys.exit(imported_main())
