"""The ``store`` fixture: every contract test runs against each store.

``backend`` knows how to make further stores on the same data (another
"process"): a second SQLite connection to the same file, a second pool to
the same PostgreSQL database; for ``MemoryStore`` the same instance.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from asyncjobs.stores import MemoryStore, Store, open_store
from tests.postgres_server import create_database


@dataclass
class Backend:
    """One store's data, and how to open another store on it."""

    kind: str
    url: str
    make: Callable[[], Store]


def _backend(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if kind == "memory":
        shared = MemoryStore()
        return Backend(kind, "memory://", lambda: shared)
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'runs.db'}"
    else:
        url = create_database(request.getfixturevalue("postgres_dsn"))
    return Backend(kind, url, lambda: open_store(url))


POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture(params=["memory", "sqlite", POSTGRES])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each store kind in turn, on fresh data."""
    return _backend(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", POSTGRES])
def sql_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """The SQL stores only (what ``MemoryStore`` need not do: truncation, UTC normalising)."""
    return _backend(request.param, request, tmp_path)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    """An open store of each kind."""
    async with backend.make() as opened:
        yield opened


@pytest.fixture
async def sql_store(sql_backend: Backend) -> AsyncIterator[Store]:
    """An open SQL store."""
    async with sql_backend.make() as opened:
        yield opened
