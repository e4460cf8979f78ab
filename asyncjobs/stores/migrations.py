"""Schema of the SQL stores, as forward migrations.

``SQLITE[i]`` and ``POSTGRES[i]`` take a database from schema version ``i``
to ``i + 1``; the version is the single row of ``asyncjobs_schema``. Entries
are only ever appended: a released migration is never edited, so every
database reaches the same schema whatever version it started from. A store
refuses a database whose version is newer than it knows.

Timestamps are integer microseconds since the Unix epoch in SQLite (exact
and sortable) and ``timestamptz`` in PostgreSQL; ``data`` and
``notifications`` are JSON text in both.
"""

from __future__ import annotations

__all__ = ("POSTGRES", "SQLITE")

SQLITE: list[str] = [
    # 1: run rows and tick claims
    """
    CREATE TABLE asyncjobs_runs (
        seq INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL UNIQUE,
        job TEXT NOT NULL,
        status TEXT NOT NULL,
        trigger TEXT NOT NULL,
        scheduled_for INTEGER,
        started_at INTEGER,
        completed_at INTEGER,
        duration_seconds REAL,
        attempts INTEGER NOT NULL,
        error TEXT,
        error_type TEXT,
        traceback TEXT,
        data TEXT,
        notifications TEXT,
        lease_expires_at INTEGER
    );
    CREATE INDEX asyncjobs_runs_job ON asyncjobs_runs (job);
    CREATE INDEX asyncjobs_runs_running ON asyncjobs_runs (job, lease_expires_at)
        WHERE status = 'running';
    CREATE TABLE asyncjobs_ticks (
        job TEXT NOT NULL,
        scheduled_for INTEGER NOT NULL,
        run_id TEXT NOT NULL,
        PRIMARY KEY (job, scheduled_for)
    ) WITHOUT ROWID;
    """,
]

POSTGRES: list[str] = [
    # 1: run rows and tick claims
    """
    CREATE TABLE asyncjobs_runs (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        run_id TEXT PRIMARY KEY,
        job TEXT NOT NULL,
        status TEXT NOT NULL,
        trigger TEXT NOT NULL,
        scheduled_for TIMESTAMPTZ,
        started_at TIMESTAMPTZ,
        completed_at TIMESTAMPTZ,
        duration_seconds DOUBLE PRECISION,
        attempts INTEGER NOT NULL,
        error TEXT,
        error_type TEXT,
        traceback TEXT,
        data TEXT,
        notifications TEXT,
        lease_expires_at TIMESTAMPTZ
    );
    CREATE INDEX asyncjobs_runs_seq ON asyncjobs_runs (seq);
    CREATE INDEX asyncjobs_runs_job_seq ON asyncjobs_runs (job, seq);
    CREATE INDEX asyncjobs_runs_running ON asyncjobs_runs (job, lease_expires_at)
        WHERE status = 'running';
    CREATE TABLE asyncjobs_ticks (
        job TEXT NOT NULL,
        scheduled_for TIMESTAMPTZ NOT NULL,
        run_id TEXT NOT NULL,
        PRIMARY KEY (job, scheduled_for)
    );
    """,
]
