"""Acceptance fixtures: services started by a test are always stopped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.acceptance.support import Service


@pytest.fixture
def services() -> Iterator[list[Service]]:
    """Append each started :class:`Service`; any still running is killed afterwards."""
    started: list[Service] = []
    yield started
    for service in started:
        service.kill()
