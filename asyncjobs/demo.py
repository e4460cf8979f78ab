"""The demo app: what ``python -m asyncjobs run`` serves when no app is named.

Three small jobs that work offline and show something within a minute:

* ``heartbeat`` (every 10 s) logs one line;
* ``host_report`` (every 30 s) mails disk usage of the working directory and
  the load average through the configured mailer (the console backend, which
  prints the message, unless SMTP is set up), to ``notify_to`` or
  ``ops@localhost``;
* ``cleanup_tmp`` (every minute) deletes files older than a day from a
  folder it owns, ``<temp dir>/asyncjobs-demo``.

Serve your own jobs with ``--app module:app`` or ``ASYNCJOBS_APP``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from asyncjobs.app import App
from asyncjobs.context import RunContext
from asyncjobs.definition import Job
from asyncjobs.settings import Settings

__all__ = ("DEFAULT_REPORT_TO", "CleanupTmp", "create_app", "host_report_text")

#: Where ``host_report`` goes when neither the job nor the settings name anyone.
DEFAULT_REPORT_TO = "ops@localhost"


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def host_report_text(directory: Path) -> tuple[str, dict[str, Any]]:
    """The report's text and the numbers behind it, for ``directory``."""
    usage = shutil.disk_usage(directory)
    used_pct = round(100 * usage.used / usage.total, 1) if usage.total else 0.0
    try:
        load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # not available on Windows
        load = None
    data: dict[str, Any] = {
        "directory": str(directory),
        "disk_total_bytes": usage.total,
        "disk_free_bytes": usage.free,
        "disk_used_percent": used_pct,
        "load_average": load,
    }
    lines = [
        f"Disk at {directory}: {used_pct}% used, {_gib(usage.free)} free of {_gib(usage.total)}",
        "Load average (1, 5, 15 min): "
        + (", ".join(f"{x:.2f}" for x in load) if load is not None else "not available"),
    ]
    return "\n".join(lines) + "\n", data


class CleanupTmp(Job):
    """Delete files older than ``max_age_hours`` from a folder this job owns."""

    name = "cleanup_tmp"
    every = 60
    timeout = 60
    description = "delete old files from <temp dir>/asyncjobs-demo"

    def __init__(self, directory: Path | None = None, max_age_hours: float = 24.0) -> None:
        self.directory = directory or Path(tempfile.gettempdir()) / "asyncjobs-demo"
        self.max_age_hours = max_age_hours

    async def setup(self) -> None:
        """Create the folder on first use."""
        self.directory.mkdir(parents=True, exist_ok=True)

    async def execute(self, ctx: RunContext) -> dict[str, Any]:
        """Remove the old regular files (not folders, not symlinks' targets)."""
        cutoff = time.time() - self.max_age_hours * 3600
        deleted = kept = 0
        for entry in self.directory.iterdir():
            try:
                stat = entry.lstat()
            except FileNotFoundError:  # removed meanwhile by someone else
                continue
            if entry.is_file() and not entry.is_symlink() and stat.st_mtime < cutoff:
                entry.unlink(missing_ok=True)
                deleted += 1
            else:
                kept += 1
        ctx.log.info("deleted %d old file(s) from %s, kept %d", deleted, self.directory, kept)
        return {"directory": str(self.directory), "deleted": deleted, "kept": kept}


def create_app(settings: Settings | None = None, *, tmp_dir: Path | None = None) -> App:
    """Build the demo app (``tmp_dir`` replaces the folder ``cleanup_tmp`` owns)."""
    app = App(settings)

    @app.job(every=10, timeout=10, description="log a line every 10 seconds")
    async def heartbeat(ctx: RunContext) -> dict[str, Any]:
        ctx.log.info("heartbeat: the scheduler is alive")
        return {"pid": os.getpid()}

    @app.job(every=30, timeout=30, description="mail disk usage and load average")
    async def host_report(ctx: RunContext) -> dict[str, Any]:
        text, data = host_report_text(Path.cwd())
        to = list(ctx.definition.notify_to or ctx.settings.notify_to or [DEFAULT_REPORT_TO])
        await ctx.mailer.send(to, "asyncjobs demo: host report", text=text)
        ctx.log.info("host report sent to %s", ", ".join(to))
        return {**data, "sent_to": to}

    app.add(CleanupTmp(tmp_dir))
    return app
