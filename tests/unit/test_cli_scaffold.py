"""``new-job``: the files it writes, its refusals, and a generated test that passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from asyncjobs.cli import main


def test_new_job_writes_a_job_and_a_passing_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new-job", "sync_orders"]) == 0
    out = capsys.readouterr().out
    job_file, test_file = (
        tmp_path / "jobs" / "sync_orders.py",
        tmp_path / "tests" / "test_sync_orders.py",
    )
    assert f"created {job_file}" in out and f"created {test_file}" in out
    source = job_file.read_text()
    assert "class SyncOrders(Job):" in source
    assert 'name = "sync_orders"' in source
    assert "async def setup(self)" in source and "ctx.log.info" in source

    # Run the generated test as a user would: plain pytest from the project root,
    # without this repository's configuration or plugins.
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ASYNCJOBS_")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:asyncio",
            "-W",
            "error",
            "tests/test_sync_orders.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def test_new_job_refuses_to_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests").mkdir()
    existing = tmp_path / "tests" / "test_report.py"
    existing.write_text("# mine\n")
    assert main(["new-job", "report"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "already exists" in err and len(err.splitlines()) == 1
    assert existing.read_text() == "# mine\n"
    assert not (tmp_path / "jobs").exists()  # nothing half-written
    assert not (tmp_path / "tests" / "__init__.py").exists()  # an existing folder is left alone


@pytest.mark.parametrize("name", ["2fast", "class", "with-dash", "_private"])
def test_new_job_rejects_bad_names(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new-job", name]) == 2
    assert "Python identifier" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
