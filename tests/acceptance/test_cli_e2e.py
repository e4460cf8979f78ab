"""``python -m asyncjobs`` end to end: a real service, real SQLite history, real signals."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from tests.acceptance.support import Service, base_env, run_cli

APP = """
from asyncjobs import App, RunContext

app = App()


@app.job(every=1, timeout=30)
async def tick(ctx: RunContext) -> dict:
    ctx.log.info("tick ran")
    return {"ok": True}


@app.job
async def fail(ctx: RunContext) -> None:
    raise RuntimeError("deliberate failure")
"""

SENTINEL = "sentinel-5f1e0c77-password"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "e2eapp.py").write_text(APP, encoding="utf-8")
    return tmp_path


@pytest.fixture
def env(project: Path) -> dict[str, str]:
    return base_env(
        ASYNCJOBS_APP="e2eapp:app",
        ASYNCJOBS_STORE_URL=f"sqlite:///{project / 'history.db'}",
        ASYNCJOBS_SHUTDOWN_GRACE="20",
    )


def start(services: list[Service], env: dict[str, str], cwd: Path, *args: str) -> Service:
    service = Service([sys.executable, "-m", "asyncjobs", *args, "run"], env=env, cwd=cwd)
    services.append(service)
    return service


def test_run_serves_until_sigterm_and_history_shows_the_runs(
    project: Path, env: dict[str, str], services: list[Service]
) -> None:
    service = start(services, env, project)
    service.wait_output("tick ran", count=2)

    assert service.terminate() == 0, service.err
    out = service.out
    assert "asyncjobs serving 2 job(s) from e2eapp:app" in out
    assert "every 1s" in out and "manual" in out
    assert f"sqlite:///{project / 'history.db'}" in out

    history = run_cli(["history", "tick", "--json"], env=env, cwd=project)
    assert history.code == 0, history.err
    runs = json.loads(history.out)
    succeeded = [r for r in runs if r["status"] == "succeeded"]
    assert len(succeeded) >= 2
    assert all(r["job"] == "tick" and r["trigger"] in ("schedule", "catch_up") for r in runs)
    assert not [r for r in runs if r["status"] == "running"]  # drained, not abandoned


def test_trigger_exit_codes(project: Path, env: dict[str, str]) -> None:
    ok = run_cli(["trigger", "tick", "--json"], env=env, cwd=project)
    assert ok.code == 0, ok.err
    assert json.loads(ok.out)["status"] == "succeeded"

    failed = run_cli(["trigger", "fail"], env=env, cwd=project)
    assert failed.code == 1
    assert "failed" in failed.out and "deliberate failure" in failed.out

    listed = json.loads(run_cli(["list", "--json"], env=env, cwd=project).out)
    assert {row["name"]: row["last_status"] for row in listed} == {
        "tick": "succeeded",
        "fail": "failed",
    }


def test_check_with_a_bad_cron_override(project: Path, env: dict[str, str]) -> None:
    assert run_cli(["check"], env=env, cwd=project).code == 0

    result = run_cli(["check"], env={**env, "ASYNCJOBS_JOBS__tick__CRON": "bogus"}, cwd=project)
    assert result.code == 2
    assert len(result.error_lines) == 1, result.err
    assert "job 'tick'" in result.error_lines[0] and "cron" in result.error_lines[0]
    assert "Traceback" not in result.err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_smtp_password_never_appears_in_output(
    project: Path, env: dict[str, str], services: list[Service]
) -> None:
    env = {
        **env,
        "ASYNCJOBS_SMTP_HOST": "127.0.0.1",
        "ASYNCJOBS_SMTP_PORT": str(_free_port()),  # nothing listens: every send fails
        "ASYNCJOBS_SMTP_USERNAME": "jobs",
        "ASYNCJOBS_SMTP_PASSWORD": SENTINEL,
        "ASYNCJOBS_SMTP_RETRIES": "0",
        "ASYNCJOBS_SMTP_TIMEOUT": "5",
        "ASYNCJOBS_NOTIFY_TO": "ops@example.com",
        "ASYNCJOBS_NOTIFY_ON": "always",
        "ASYNCJOBS_LOG_LEVEL": "DEBUG",
    }
    outputs: dict[str, str] = {}
    for args in (
        ["list"],
        ["list", "--json"],
        ["check"],
        ["check", "--smtp"],
        ["--debug", "check", "--smtp"],
        ["trigger", "tick"],
        ["trigger", "fail", "--json"],
        ["history"],
        ["history", "--json"],
        ["send-test-email", "me@example.com"],
    ):
        result = run_cli(args, env=env, cwd=project)
        outputs[" ".join(args)] = result.out + result.err
    assert "mail smtp 127.0.0.1" in outputs["check"]
    assert "error:" in outputs["check --smtp"]

    service = start(services, env, project)
    service.wait_output("tick ran", count=2)
    assert service.terminate() == 0, service.err
    outputs["run"] = service.out + service.err

    leaked = [name for name, text in outputs.items() if SENTINEL in text]
    assert leaked == []
