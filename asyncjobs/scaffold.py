"""``new-job NAME``: a job module and its test, ready to run.

Writes ``jobs/<name>.py`` (a :class:`~asyncjobs.Job` subclass with lazy
set-up, a structured result and logging through ``ctx.log``) and
``tests/test_<name>.py`` (runs the job once against the in-memory store and
mailer, synchronously, so it needs no pytest plugin). Existing files are never
overwritten.
"""

from __future__ import annotations

import keyword
from pathlib import Path

from asyncjobs.exceptions import ConfigError

__all__ = ("write_job",)

JOB_TEMPLATE = '''\
"""{name}: describe what this job does and why.

Register it with your app::

    from jobs.{name} import {cls}

    app.add({cls})
"""

from __future__ import annotations

from typing import Any

from asyncjobs import Job, RunContext


class {cls}(Job):
    """One run of {name}: say what it reads and what it changes."""

    name = "{name}"
    every = "1h"  # or cron = "0 6 * * *"; no schedule means it runs only when triggered
    timeout = "5m"
    retries = 1

    async def setup(self) -> None:
        """Open clients and load configuration once, before the first run."""
        self.items: list[str] = ["example"]

    async def execute(self, ctx: RunContext) -> dict[str, Any]:
        """Do the work; the returned dict is kept with the run in the history."""
        ctx.log.info("processing %d item(s)", len(self.items))
        processed = [item.upper() for item in self.items]
        return {{"processed": len(processed)}}

    async def teardown(self) -> None:
        """Close what setup() opened; called when the app stops."""
'''

TEST_TEMPLATE = '''\
"""Tests for the {name} job: one real run against the in-memory store and mailer."""

from __future__ import annotations

from asyncjobs import App, MemoryStore, RunStatus, Settings

from jobs.{name} import {cls}


def make_app() -> App:
    app = App(Settings(store_url="memory://", mail_backend="memory"), store=MemoryStore())
    app.add({cls})
    return app


def test_{name}_succeeds() -> None:
    result = make_app().run("{name}", notify=False)

    assert result.status is RunStatus.SUCCEEDED, result.traceback
    assert result.data == {{"processed": 1}}
'''


def _class_name(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Job"


def write_job(name: str, root: Path | None = None) -> list[Path]:
    """Write the job module and its test under ``root`` (default: the working directory).

    Returns the files written (and any ``__init__.py`` made for a new
    package). Raises :class:`ConfigError` for a name that is not a Python
    identifier, or when either file already exists (then nothing is written).
    """
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ConfigError(
            f"expected a Python identifier such as daily_report, got {name!r}",
            job=name,
            field="new-job NAME",
        )
    root = Path.cwd() if root is None else root
    job_file = root / "jobs" / f"{name}.py"
    test_file = root / "tests" / f"test_{name}.py"
    for path in (job_file, test_file):
        if path.exists():
            raise ConfigError(
                f"{path} already exists; not overwriting", job=name, field="new-job NAME"
            )
    written = []
    for package in (job_file.parent, test_file.parent):
        if not package.exists():
            # A new folder becomes a package, so that plain `pytest` from the
            # project root can import jobs.<name> (rootdir-based sys.path).
            package.mkdir(parents=True)
            (package / "__init__.py").write_text("", encoding="utf-8")
            written.append(package / "__init__.py")
    values = {"name": name, "cls": _class_name(name)}
    job_file.write_text(JOB_TEMPLATE.format(**values), encoding="utf-8")
    test_file.write_text(TEST_TEMPLATE.format(**values), encoding="utf-8")
    return [*written, job_file, test_file]
