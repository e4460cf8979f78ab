"""A throwaway PostgreSQL server for the test run (and the benchmarks).

* :func:`running_postgres` is a plain context manager: ``initdb`` into a
  temporary directory, start the server on a free loopback port (its unix
  socket in that directory), stop it and delete everything at the end. As
  root it runs the server as ``nobody`` (PostgreSQL refuses to run as root).
* The session fixture ``postgres_server`` (and ``postgres_dsn``, a DSN to its
  maintenance database) skips the test when the binaries are missing, or
  fails it when ``ASYNCJOBS_REQUIRE_POSTGRES=1`` (CI must not skip silently).
* :func:`create_database` and the ``fresh_postgres_dsn`` fixture give a test
  a database of its own, so tests never see each other's rows.

TCP connections authenticate with a password (:data:`PASSWORD`), as in
production, so the tests can check that it never leaks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = (
    "PASSWORD",
    "PostgresServer",
    "PostgresUnavailable",
    "create_database",
    "find_bindir",
    "running_postgres",
    "serve_or_skip",
    "skip_or_fail",
)

USER = "asyncjobs"
PASSWORD = "pg-s3cret-Pw"
MISSING = "PostgreSQL binaries (initdb, pg_ctl) not found; install postgresql to run these tests"
_UNPRIVILEGED = "nobody"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries on this machine."""


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: PATH first, then Debian's layout."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        bindir = Path(found).resolve().parent
        if (bindir / "pg_ctl").exists():
            return bindir
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One initdb'd cluster in a temporary directory; see :func:`running_postgres`."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable
        self.base = Path(tempfile.mkdtemp(prefix="asyncjobs-pg-"))
        self.data = self.base / "data"
        self.logfile = self.base / "server.log"
        self.port = _free_port()
        self.os_user = _UNPRIVILEGED if os.geteuid() == 0 else None

    def dsn(self, database: str = "postgres") -> str:
        """A TCP DSN with the password, as an application would use."""
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.os_user is not None:
            command = ["runuser", "-u", self.os_user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
        if done.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-3000:] if self.logfile.exists() else ""
            output = f"{done.stdout}\n{done.stderr}\n{log}"
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}):\n{output}")
        return done

    def init(self) -> None:
        """``initdb`` with a password for TCP and trust on the private unix socket."""
        pwfile = self.base / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if self.os_user is not None:
            shutil.chown(self.base, self.os_user)
            shutil.chown(pwfile, self.os_user)
        self.base.chmod(0o700)
        self._run(
            "initdb", "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}", "-E", "UTF8",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--locale=C",
        )  # fmt: skip

    def start(self) -> None:
        """Start and wait until it accepts connections; a port taken meanwhile gets another."""
        options = [
            f"-p {self.port}",
            f"-k {self.base}",
            "-c listen_addresses=127.0.0.1",
            "-c max_connections=200",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c full_page_writes=off", "-c synchronous_commit=off"]
        for attempt in range(3):
            try:
                self._run(
                    "pg_ctl", "start", "-D", str(self.data), "-l", str(self.logfile),
                    "-w", "-t", "120", "-o", " ".join(options),
                )  # fmt: skip
                return
            except RuntimeError:
                if attempt == 2 or "already in use" not in self.logfile.read_text(errors="replace"):
                    raise
                self.port = _free_port()
                options[0] = f"-p {self.port}"

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` disconnects clients, as a restart does)."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "120")

    def is_running(self) -> bool:
        """Whether the server is up (``pg_ctl status``)."""
        command = [str(self.bindir / "pg_ctl"), "status", "-D", str(self.data)]
        if self.os_user is not None:
            command = ["runuser", "-u", self.os_user, "--", *command]
        return subprocess.run(command, capture_output=True, timeout=60, check=False).returncode == 0

    def restart(self) -> None:
        """Stop and start on the same port: every client connection is cut."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop (if running) and delete the cluster."""
        with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def running_postgres(*, durable: bool = False) -> Iterator[PostgresServer]:
    """A fresh running server; ``durable=False`` turns fsync off (tests), ``True`` keeps it."""
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(MISSING)
    server = PostgresServer(bindir, durable=durable)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.close()


def create_database(dsn: str, name: str | None = None) -> str:
    """Create a new empty database on the server of ``dsn``; return a DSN to it.

    Callable from sync or async code alike (it runs on a thread of its own).
    """
    import asyncpg  # type: ignore[import-untyped]

    name = name or f"t_{uuid.uuid4().hex[:16]}"

    async def create() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(create())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return dsn.rsplit("/", 1)[0] + f"/{name}"


def skip_or_fail(reason: str) -> Any:
    """Skip the test, or fail it when ``ASYNCJOBS_REQUIRE_POSTGRES=1`` (CI)."""
    if os.environ.get("ASYNCJOBS_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (and ASYNCJOBS_REQUIRE_POSTGRES=1)", pytrace=False)
    pytest.skip(reason)


def serve_or_skip() -> Iterator[PostgresServer]:
    """:func:`running_postgres` for a fixture: skip (or fail in CI) without the binaries."""
    try:
        with running_postgres() as server:
            yield server
    except PostgresUnavailable as exc:
        skip_or_fail(str(exc))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One server for the whole run."""
    yield from serve_or_skip()


@pytest.fixture(scope="session")
def postgres_dsn(postgres_server: PostgresServer) -> str:
    """DSN (with password) to the session server's ``postgres`` database."""
    return postgres_server.dsn()


@pytest.fixture
def fresh_postgres_dsn(postgres_dsn: str) -> str:
    """DSN to a new, empty database for this test only."""
    return create_database(postgres_dsn)
