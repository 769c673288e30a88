"""Shared fixtures: migrated databases on SQLite and PostgreSQL, the app, real tokens."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette

from hub import migrate
from hub.app import create_app
from hub.auth import clients
from hub.config import Settings
from hub.db import create_engine, create_session_factory, unit_of_work
from hub.models import metadata
from tests.support import TEST_ISSUER, RegisteredClient

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
# The suite makes its own PostgreSQL databases, all named with this prefix, on the server of
# the admin URL, and drops them at the end. The admin URL's own database (`test` by default)
# is only connected to for CREATE/DROP DATABASE; no test ever writes to it.
DATABASE_PREFIX = "hub_test_"
SKIP_POSTGRES_ENV = "HUB_TEST_SKIP_POSTGRES"
SKIP_REASON = f"PostgreSQL variant skipped ({SKIP_POSTGRES_ENV}=1)"


def _skip_postgres() -> bool:
    return os.environ.get(SKIP_POSTGRES_ENV, "") == "1"


def _admin_url_given() -> str:
    return os.environ.get("HUB_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def _postgres_admin_url() -> str | None:
    """The PostgreSQL server to test against, or None when it cannot be reached (or the
    PostgreSQL variants are skipped on purpose)."""
    if _skip_postgres():
        return None
    url = _admin_url_given()

    async def probe() -> bool:
        engine = create_async_engine(url)
        try:
            async with asyncio.timeout(5):
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False
        finally:
            await engine.dispose()

    return url if asyncio.run(probe()) else None


POSTGRES_ADMIN_URL = _postgres_admin_url()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Without a reachable PostgreSQL the suite stops at once, unless told to skip it."""
    if POSTGRES_ADMIN_URL is None and not _skip_postgres():
        url = make_url(_admin_url_given()).render_as_string(hide_password=True)
        pytest.exit(
            f"PostgreSQL is not reachable at {url} (HUB_TEST_POSTGRES_URL, else the default). "
            "Start it (.ci/run does), name a server you may create databases on with "
            f"HUB_TEST_POSTGRES_URL, or set {SKIP_POSTGRES_ENV}=1 to run the SQLite variants "
            "only (the PostgreSQL ones are then skipped and counted at the end).",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Says loudly how many tests the skipped PostgreSQL variants left out."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if SKIP_REASON in str(getattr(report, "longrepr", ""))
    ]
    if skipped:
        terminalreporter.section("PostgreSQL NOT TESTED", sep="!", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(skipped)} test(s) were skipped because {SKIP_POSTGRES_ENV}=1: nothing ran "
            "on PostgreSQL. Run without it (PostgreSQL reachable) before merging.",
            red=True,
            bold=True,
        )


def blocking(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Runs blocking code (alembic, asyncio.run) in a thread: fixtures may be inside the loop."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(fn, *args, **kwargs).result()


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _admin_execute(statement: str) -> None:
    assert POSTGRES_ADMIN_URL is not None
    engine = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The PostgreSQL admin URL (the session stopped at start if it cannot be reached)."""
    if POSTGRES_ADMIN_URL is None:
        pytest.skip(SKIP_REASON)
    return POSTGRES_ADMIN_URL


_CREATED_DATABASES: set[str] = set()


@pytest.fixture(scope="session")
def fresh_postgres_database(postgres_server_url: str) -> Iterator[Callable[[], str]]:
    """Makes empty PostgreSQL databases on demand; drops them at the end of the session."""
    created: list[str] = []

    def make() -> str:
        name = f"{DATABASE_PREFIX}{uuid.uuid4().hex[:12]}"
        blocking(asyncio.run, _admin_execute(f'CREATE DATABASE "{name}"'))
        created.append(name)
        _CREATED_DATABASES.add(name)
        return _with_database(postgres_server_url, name)

    yield make
    for name in created:
        # Only what this session created, by name: never another run's or anyone else's.
        blocking(asyncio.run, _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        _CREATED_DATABASES.discard(name)


def assert_created_here(url: str) -> None:
    """Refuses a destructive step on a PostgreSQL database this session did not create."""
    name = make_url(url).database or ""
    if not (name.startswith(DATABASE_PREFIX) and name in _CREATED_DATABASES):
        raise RuntimeError(
            f"refusing to empty database {name!r}: the test suite only empties databases it "
            f"created ({DATABASE_PREFIX}…)"
        )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test copies it instead of migrating again."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    blocking(migrate.upgrade, database_url=f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(fresh_postgres_database: Callable[[], str]) -> str:
    """One migrated PostgreSQL database reused by every test (emptied between tests)."""
    url = fresh_postgres_database()
    blocking(migrate.upgrade, database_url=url)
    return url


async def _truncate_all(url: str) -> None:
    # DELETE, children first, then every sequence back to its start: TRUNCATE of the 43
    # tables costs about 0.7 s (a new file per table), DELETE of a test's few rows 0.04 s.
    # The tests' tables have no delete triggers, so the two leave the same empty database.
    deletes = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(metadata.sorted_tables))
    restart = """DO $$ DECLARE s record; BEGIN
        FOR s IN SELECT schemaname, sequencename FROM pg_sequences
                 WHERE schemaname = current_schema() LOOP
            EXECUTE format('ALTER SEQUENCE %I.%I RESTART', s.schemaname, s.sequencename);
        END LOOP; END $$"""
    assert_created_here(url)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            driver = await connection.get_raw_connection()
            await driver.driver_connection.execute(f"{deletes}; {restart}")  # type: ignore[union-attr]
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "hub.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        url: str = request.getfixturevalue("postgres_template")
        await _truncate_all(url)
        yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings of a test hub on the test database.

    The log's and the event log's sequencers and the webhook dispatcher are off: they run
    in the background and would be counted by
    the tests that count a request's SQL statements or pooled connections. The log's own
    tests (tests/log) turn it on."""
    return Settings(
        database_url=database_url,
        issuer=TEST_ISSUER,
        env="test",
        log_sequencer=False,
        events_sequencer=False,
        webhook_dispatcher=False,
        # Each app start would collect the whole test process (a quarter second, 2,700 times).
        gc_freeze=False,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """The hub's ASGI app with its lifespan running."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
        yield client


@pytest.fixture
def register_client(settings: Settings) -> Callable[..., Awaitable[RegisteredClient]]:
    """Creates OAuth2 clients the way `hub clients create` does."""

    async def register(
        *, name: str = "test client", scopes: str, enterprise: str | None = None
    ) -> RegisteredClient:
        engine = create_engine(settings)
        try:
            async with unit_of_work(create_session_factory(engine)) as session:
                created = await clients.create(
                    session=session, name=name, scopes=scopes, enterprise_code=enterprise
                )
        finally:
            await engine.dispose()
        return RegisteredClient(created.client_id, created.client_secret)

    return register


@pytest.fixture
def get_token(
    http: httpx.AsyncClient, register_client: Callable[..., Awaitable[RegisteredClient]]
) -> Callable[..., Awaitable[str]]:
    """Registers a client and obtains an access token from /oauth/token, like a client."""

    async def token(*, scopes: str, enterprise: str | None = None, name: str = "test") -> str:
        registered = await register_client(name=name, scopes=scopes, enterprise=enterprise)
        response = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(registered.client_id, registered.client_secret),
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    return token


@pytest.fixture
def gql(http: httpx.AsyncClient) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Posts a GraphQL operation with a bearer token and returns the JSON body."""

    async def run(
        query: str, *, token: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code in (200, 400), response.text
        body: dict[str, Any] = response.json()
        return body

    return run
