"""Integration fixtures: real SMTP servers (see ``smtp_server.py``)."""

from __future__ import annotations

from tests.integration.smtp_server import smtp_servers, test_ca

__all__ = ("smtp_servers", "test_ca")
