"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _clean_asyncjobs_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test sees the developer's ``ASYNCJOBS_*`` variables or ``.env`` file."""
    for key in list(os.environ):
        if key.upper().startswith("ASYNCJOBS_") and key.upper() != "ASYNCJOBS_REQUIRE_POSTGRES":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    yield
