"""In-process CLI helpers: a small app module written to a temp dir, and ``main(argv)``.

Each test gets a uniquely named module, and the module is forgotten after
every ``main`` call: the user's module builds its ``App()`` at import time
from the environment, so each CLI invocation must import it afresh, as a new
process would.
"""

from __future__ import annotations

import gc
import itertools
import logging
import os
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from asyncjobs.cli import main

__all__ = ("APP_SOURCE", "Cli", "CliResult")

APP_SOURCE = """
from asyncjobs import App, RunContext

app = App()


@app.job(every="1h", timeout=30, description="always works")
async def ok(ctx: RunContext) -> dict:
    ctx.log.info("ok ran")
    return {"n": 1}


@app.job
async def boom(ctx: RunContext) -> None:
    raise RuntimeError("kaboom")


def make_app() -> App:
    return app


not_an_app = 42
"""

_counter = itertools.count()


@dataclass
class CliResult:
    """Exit code and captured output of one ``main`` call."""

    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        """The stderr lines that start with ``error:``."""
        return [line for line in self.err.splitlines() if line.startswith("error:")]


class Cli:
    """Runs ``asyncjobs.cli.main`` against a module written to ``tmp_path``."""

    def __init__(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.dir = tmp_path
        self.module = f"cliapp_{next(_counter)}"
        self._capsys = capsys
        self._monkeypatch = monkeypatch
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.setenv("ASYNCJOBS_STORE_URL", f"sqlite:///{tmp_path / 'history.db'}")
        self.write(APP_SOURCE)

    def write(self, source: str) -> None:
        """Replace the app module's source."""
        (self.dir / f"{self.module}.py").write_text(textwrap.dedent(source), encoding="utf-8")

    @property
    def spec(self) -> str:
        """``--app`` value for the module's ``app``."""
        return f"{self.module}:app"

    def __call__(self, *argv: str, app: bool = True) -> CliResult:
        """``main(["--app", spec, *argv])`` with captured output."""
        self._capsys.readouterr()
        args = ["--app", self.spec, *argv] if app else list(argv)
        # --env-file exports variables and configure_logging adds a root
        # handler: both would outlive the call (and the test) otherwise.
        environ = dict(os.environ)
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        try:
            code = main(args)
            # Anything the call leaked (an unclosed socket) is reported here,
            # against this test, rather than at a random later collection.
            gc.collect()
        finally:
            sys.modules.pop(self.module, None)
            os.environ.clear()
            os.environ.update(environ)
            root.handlers[:] = handlers
            root.setLevel(level)
        captured = self._capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    def setenv(self, name: str, value: str) -> None:
        """Set an environment variable for the rest of the test."""
        self._monkeypatch.setenv(name, value)
