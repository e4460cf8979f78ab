"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

pytest_plugins = ("tests.postgres_server",)


@pytest.fixture(autouse=True)
def _clean_asyncjobs_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """No test sees the developer's ``ASYNCJOBS_*`` variables or ``.env`` file."""
    for key in list(os.environ):
        if key.upper().startswith("ASYNCJOBS_") and key.upper() != "ASYNCJOBS_REQUIRE_POSTGRES":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    yield


@pytest.fixture
def settings_factory() -> object:
    """Settings for an in-process app: memory store, memory mailer, quick shutdown."""
    from asyncjobs import Settings

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "store_url": "memory://",
            "mail_backend": "memory",
            "shutdown_grace": 5.0,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def make_app(settings_factory: object) -> object:
    """``make_app(**settings)`` → a fresh :class:`asyncjobs.App` on a memory store."""
    from asyncjobs import App

    def make(**overrides: object) -> App:
        return App(settings_factory(**overrides))  # type: ignore[operator]

    return make
