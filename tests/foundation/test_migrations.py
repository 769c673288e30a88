"""Alembic is the only way the schema changes; it must work both ways on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from hub import migrate
from hub.models import metadata


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    make: Callable[[], str] = request.getfixturevalue("fresh_postgres_database")
    return make()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _run(url: str, fn: Callable[[Connection], object]) -> object:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(fn)
    finally:
        await engine.dispose()


async def test_upgrade_from_empty_creates_every_table_and_downgrade_removes_them(
    empty_database: str,
) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url=empty_database)
    assert await migrate.current_revision(database_url=empty_database) == migrate.head_revision()
    tables = await _run(empty_database, _tables)
    assert {t.name for t in metadata.sorted_tables} <= tables  # type: ignore[operator]

    await asyncio.to_thread(migrate.downgrade, database_url=empty_database, revision="base")
    assert await migrate.current_revision(database_url=empty_database) is None
    assert await _run(empty_database, _tables) <= {"alembic_version"}  # type: ignore[operator]


async def test_migrations_build_exactly_the_schema_the_models_declare(
    empty_database: str,
) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url=empty_database)
    assert await _run(empty_database, _diff) == []
