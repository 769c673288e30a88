"""Which database errors are an outage (503 SERVICE_UNAVAILABLE), contention (503
DATABASE_BUSY), a connection to drop, or a bug (hub/http/unavailable.py decides).

The exceptions are the drivers' own classes, chained the way SQLAlchemy chains them
(SQLAlchemy error → the adapted DBAPI error → asyncpg's or sqlite3's exception).
"""

from __future__ import annotations

import sqlite3

import asyncpg.exceptions as pg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, PendingRollbackError

from hub.http import unavailable


class _AdaptedError(Exception):
    """Stands for the DBAPI adapter's error class (sqlalchemy's asyncpg/aiosqlite shims)."""


def _wrapped(driver_error: BaseException, *, kind: type[DBAPIError] = DBAPIError) -> DBAPIError:
    adapted = _AdaptedError(str(driver_error))
    adapted.__cause__ = driver_error
    error = kind("SELECT 1", {}, adapted)
    error.__cause__ = adapted
    return error


OUTAGES = {
    "terminated mid-operation": _wrapped(
        pg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    ),
    "administrator shutdown": _wrapped(
        pg.AdminShutdownError("terminating connection due to administrator command")
    ),
    "server starting": _wrapped(pg.CannotConnectNowError("the database system is starting up")),
    "too many connections": _wrapped(pg.TooManyConnectionsError("sorry, too many clients")),
    "statement timeout": _wrapped(pg.QueryCanceledError("canceling statement due to timeout")),
    "failover to a standby": _wrapped(
        pg.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction")
    ),
    "wedged after a timeout": _wrapped(
        pg.InternalClientError("cannot switch to state 12; another operation is in progress")
    ),
    "connection closed": _wrapped(pg.InterfaceError("connection is closed")),
    "invalidated connection": DBAPIError(
        "SELECT 1", {}, _AdaptedError("gone"), connection_invalidated=True
    ),
    "invalid transaction": PendingRollbackError(
        "Can't reconnect until invalid transaction is rolled back.  Please rollback() fully"
    ),
    "refused": ConnectionRefusedError(111, "Connection refused"),
    "reset": ConnectionResetError(104, "Connection reset by peer"),
    "connect failed": OSError("Multiple exceptions: [Errno 111] Connect call failed"),
    "timeout": TimeoutError(),
}

BUGS = {
    "unique violation": _wrapped(
        pg.UniqueViolationError("duplicate key value violates unique constraint"),
        kind=IntegrityError,
    ),
    "undefined column": _wrapped(pg.UndefinedColumnError('column "x" does not exist')),
    "value error": ValueError("bad"),
    "missing file": FileNotFoundError(2, "No such file or directory"),
    "other pending rollback": PendingRollbackError(
        "This Session's transaction has been rolled back"
    ),
}


@pytest.mark.parametrize("case", OUTAGES)
def test_a_lost_stalled_or_refused_connection_is_an_outage(case: str) -> None:
    error = OUTAGES[case]
    assert unavailable.is_database_unavailable(error)
    assert unavailable.refusal_for(error) is unavailable.UNAVAILABLE


@pytest.mark.parametrize("case", BUGS)
def test_a_bug_is_not_answered_503(case: str) -> None:
    assert unavailable.refusal_for(BUGS[case]) is None


def test_a_busy_sqlite_lock_is_contention_not_an_outage() -> None:
    locked = sqlite3.OperationalError("database is locked")
    for error in (locked, _wrapped(locked, kind=OperationalError)):
        assert unavailable.is_database_busy(error)
        assert not unavailable.is_database_unavailable(error)
        refusal = unavailable.refusal_for(error)
        assert refusal is unavailable.BUSY
        assert (refusal.code, refusal.retry_after) == ("DATABASE_BUSY", 1)


@pytest.mark.parametrize(
    ("case", "lost"),
    [
        ("terminated mid-operation", True),
        ("administrator shutdown", True),
        ("wedged after a timeout", True),
        ("failover to a standby", True),
        ("timeout", True),
        # The server cancelled one statement, or refused one more connection: the
        # connection at hand is healthy and stays in the pool.
        ("statement timeout", False),
        ("too many connections", False),
    ],
)
def test_only_a_dead_or_wedged_connection_is_dropped(case: str, lost: bool) -> None:
    assert unavailable.is_connection_lost(OUTAGES[case]) is lost


def test_a_refusal_code_maps_back_to_its_answer() -> None:
    assert unavailable.refusal_of_code("SERVICE_UNAVAILABLE") is unavailable.UNAVAILABLE
    assert unavailable.refusal_of_code("DATABASE_BUSY") is unavailable.BUSY
    assert unavailable.refusal_of_code("INTERNAL") is None
    assert unavailable.refusal_of_code(None) is None
