"""Schema migrations through alembic: the only way the database schema changes."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from hub.paths import MIGRATIONS_DIR


def alembic_config(database_url: str) -> Config:
    """An alembic Config pointing at the project's migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation; URLs may contain %-escapes.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(*, database_url: str, revision: str = "head") -> None:
    """Migrates the database up to a revision (blocking; call from a thread in async code)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(*, database_url: str, revision: str = "base") -> None:
    """Migrates the database down to a revision (blocking)."""
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    """The newest revision the code ships."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(*, database_url: str) -> str | None:
    """The revision the database is at (None for an empty database)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current)
    finally:
        await engine.dispose()


def current_revision_sync(*, database_url: str) -> str | None:
    """Blocking variant of current_revision for the CLI."""
    return asyncio.run(current_revision(database_url=database_url))
