"""A throwaway PostgreSQL primary and streaming replica on this machine, for the replica tests.

`initdb` a primary on a free port, `pg_basebackup -R` it into a second data directory, and
start that as a hot standby on another port. PostgreSQL refuses to run as root, so as root
the commands run as the `postgres` OS user. Everything lives in one temporary directory,
removed (with both servers stopped) at the end.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_SEARCH = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")


def postgres_bin() -> Path | None:
    """The directory holding initdb, pg_ctl and pg_basebackup, or None."""
    for directory in (*_SEARCH, *(os.environ.get("PATH", "").split(os.pathsep))):
        if directory and all(
            (Path(directory) / tool).exists() for tool in ("initdb", "pg_ctl", "pg_basebackup")
        ):
            return Path(directory)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Pair:
    """The primary's and the replica's admin URLs (database `postgres`)."""

    primary_port: int
    replica_port: int

    def url(self, port: int, database: str) -> str:
        """An asyncpg URL of `database` on the server listening on `port`."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{database}"


@contextmanager
def primary_and_replica() -> Iterator[Pair]:
    """Starts a primary and a streaming replica of it; stops and removes both after."""
    binaries = postgres_bin()
    assert binaries is not None, "PostgreSQL server binaries (initdb, pg_ctl) not found"
    as_root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="hub-replica-"))
    if as_root:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    base.chmod(0o700)

    def run(*command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
        subprocess.run(
            [*prefix, *command], check=True, capture_output=True, text=True, timeout=120, cwd=base
        )

    primary, replica = base / "primary", base / "replica"
    pair = Pair(_free_port(), _free_port())
    started: list[Path] = []
    try:
        run(
            str(binaries / "initdb"),
            "-D",
            str(primary),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        )
        settings = (
            f"port = {pair.primary_port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{base}'\nwal_level = replica\nmax_wal_senders = 4\n"
            "fsync = off\nshared_buffers = 16MB\nhot_standby = on\n"
        )
        _append_as(run, primary / "postgresql.conf", settings)
        run(
            str(binaries / "pg_ctl"),
            "-D",
            str(primary),
            "-l",
            str(base / "primary.log"),
            "-w",
            "start",
        )
        started.append(primary)
        run(
            str(binaries / "pg_basebackup"),
            "-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", "postgres",
            "-D", str(replica), "-R", "-X", "stream",
        )  # fmt: skip
        _append_as(run, replica / "postgresql.conf", f"port = {pair.replica_port}\n")
        run(
            str(binaries / "pg_ctl"),
            "-D",
            str(replica),
            "-l",
            str(base / "replica.log"),
            "-w",
            "start",
        )
        started.append(replica)
        yield pair
    finally:
        for directory in reversed(started):
            subprocess.run(
                [*(["runuser", "-u", "postgres", "--"] if as_root else []),
                 str(binaries / "pg_ctl"), "-D", str(directory), "-m", "immediate", "-w", "stop"],
                capture_output=True, timeout=60, check=False,
            )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


def _append_as(run: object, path: Path, text: str) -> None:
    # The data directory belongs to the postgres user: append through it.
    assert callable(run)
    run("sh", "-c", f"cat >> '{path}' <<'EOF'\n{text}EOF\n")
