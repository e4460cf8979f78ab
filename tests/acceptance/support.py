"""The CLI as a user runs it: ``python -m asyncjobs`` in subprocesses.

Waiting is always on a condition with a generous deadline (the suite must
pass on a loaded two-core machine), never on a fixed sleep. Service output
goes to files, not pipes, so a chatty service can never block on a full pipe.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ("DEADLINE", "Completed", "Service", "base_env", "run_cli", "wait_for")

#: Seconds to wait for anything; far above what an idle machine needs.
DEADLINE = 90.0


def base_env(**values: str) -> dict[str, str]:
    """The environment without any ``ASYNCJOBS_*`` variable, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ASYNCJOBS_")}
    env.update(values)
    return env


@dataclass
class Completed:
    """A finished CLI command."""

    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        """stderr lines starting with ``error:``."""
        return [line for line in self.err.splitlines() if line.startswith("error:")]


def run_cli(
    args: Sequence[str], *, env: dict[str, str], cwd: Path, python: str = sys.executable
) -> Completed:
    """Run ``python -m asyncjobs ARGS`` to completion."""
    proc = subprocess.run(
        [python, "-m", "asyncjobs", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.1)


class Service:
    """A long-running command (``run``) with its output in files."""

    def __init__(self, command: Sequence[str], *, env: dict[str, str], cwd: Path) -> None:
        self.out_path = cwd / f"service-{os.getpid()}-{time.monotonic_ns()}.out"
        self.err_path = self.out_path.with_suffix(".err")
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err)

    @property
    def out(self) -> str:
        """Everything written to stdout so far."""
        return self.out_path.read_text(errors="replace")

    @property
    def err(self) -> str:
        """Everything written to stderr so far."""
        return self.err_path.read_text(errors="replace")

    def wait_output(self, text: str, count: int = 1, timeout: float = DEADLINE) -> None:
        """Wait until ``text`` appears ``count`` times in stdout+stderr (fail if it exits)."""

        def seen() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"service exited {self.proc.returncode} before printing {text!r}:\n"
                    f"{self.out}\n{self.err}"
                )
            return (self.out + self.err).count(text) >= count

        wait_for(seen, f"{count} x {text!r} in the output", timeout)

    def terminate(self, timeout: float = DEADLINE) -> int:
        """Send SIGTERM and return the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        """Make sure the process is gone (test clean-up)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=DEADLINE)
