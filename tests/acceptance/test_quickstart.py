"""The README's quickstart, followed literally on a fresh clone in a fresh virtual environment."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.acceptance.support import DEADLINE, Service, base_env

REPO = Path(__file__).resolve().parents[2]
#: The README's service command is
#: ``python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python -m asyncjobs run``;
#: the first two steps run through a shell as written, the last one directly so
#: that the signal reaches the service as Ctrl-C in a terminal would.
SETUP = "python3 -m venv .venv && .venv/bin/pip install -e ."
SERVE = [".venv/bin/python", "-m", "asyncjobs", "run"]


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    if shutil.which("git") is None or shutil.which("python3") is None:
        pytest.skip("needs git and python3 on PATH")
    dest = tmp_path / "asyncjobs"
    # A clone holds only committed files: what a new user gets.
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(dest)], check=True, timeout=120)
    return dest


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_readme_quickstart_serves_the_demo(clone: Path, services: list[Service]) -> None:
    readme = (clone / "README.md").read_text(encoding="utf-8")
    assert f"{SETUP} && {' '.join(SERVE)}" in readme, "the README's quickstart changed"

    env = base_env()
    setup = subprocess.run(
        SETUP, shell=True, cwd=clone, env=env, capture_output=True, text=True, timeout=900
    )
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]

    service = Service(SERVE, env=env, cwd=clone)
    services.append(service)
    service.wait_output("heartbeat: the scheduler is alive", timeout=DEADLINE)
    assert "built-in demo app" in service.err
    assert "asyncjobs serving 3 job(s)" in service.out

    service.proc.send_signal(signal.SIGINT)  # the README says: stop it with Ctrl-C
    assert service.proc.wait(timeout=DEADLINE) == 0, service.err
    assert (clone / "asyncjobs.db").exists()  # the embedded SQLite history
