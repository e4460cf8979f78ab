"""Run-history stores and the factory that picks one from ``store_url``.

``memory://`` → :class:`MemoryStore`; ``sqlite:///relative.db`` or
``sqlite:////absolute.db`` → ``SqliteStore``; ``postgresql://`` or
``postgres://`` → ``PostgresStore`` (the ``postgres`` extra). The SQL stores
are imported only when used, to keep start-up fast.
"""

from __future__ import annotations

import re

from asyncjobs.exceptions import ConfigError
from asyncjobs.stores.base import Store, StoreError
from asyncjobs.stores.memory import MemoryStore

__all__ = ("MemoryStore", "Store", "StoreError", "open_store", "redact_url")


def redact_url(url: str) -> str:
    """``url`` with any password (in the user info or a ``password=`` option) shown as ``***``.

    The user info ends at the last ``@``, so a password holding an unescaped
    ``/`` or ``@`` is hidden too; when in doubt this hides too much, never too little.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    at = rest.rfind("@")
    user, colon, _ = rest[: max(at, 0)].partition(":")
    if colon:
        rest = f"{user}:***{rest[at:]}"
    return scheme + sep + re.sub(r"(?i)([?&;]password=)[^&#;]*", r"\1***", rest)


def open_store(url: str) -> Store:
    """A new (unopened) store for ``url``; ``ConfigError`` for an unknown scheme."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        from asyncjobs.stores.sqlite import SqliteStore

        return SqliteStore.from_url(url)
    if scheme in ("postgresql", "postgres"):
        try:
            from asyncjobs.stores.postgres import PostgresStore
        except ImportError as exc:  # asyncpg missing
            raise ConfigError(
                f"PostgreSQL needs the 'postgres' extra: pip install 'asyncjobs[postgres]' ({exc})",
                field="settings: store_url",
            ) from None
        return PostgresStore.from_url(url)
    raise ConfigError(
        f"unsupported scheme in {redact_url(url)!r}: use memory://, sqlite:///path or postgresql://",
        field="settings: store_url",
    )
