"""The CLI in-process: every command, its output and its exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asyncjobs import __version__
from tests.unit.cli_support import Cli


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, monkeypatch, capsys)


# ---------------------------------------------------------------- parsing


def test_version(cli: Cli) -> None:
    result = cli("--version", app=False)
    assert result.code == 0
    assert result.out.strip() == f"asyncjobs {__version__}"


def test_help_lists_every_command(cli: Cli) -> None:
    result = cli("--help", app=False)
    assert result.code == 0
    for command in ("run", "list", "trigger", "history", "check", "new-job", "send-test-email"):
        assert command in result.out


@pytest.mark.parametrize(
    "argv",
    [[], ["bogus"], ["history", "--limit", "0"], ["history", "--status", "nope"], ["trigger"]],
)
def test_usage_errors_are_one_line_exit_2(cli: Cli, argv: list[str]) -> None:
    result = cli(*argv, app=False)
    assert result.code == 2
    assert len(result.error_lines) == 1
    assert result.err.strip() == result.error_lines[0]


def test_global_options_after_the_command(cli: Cli) -> None:
    result = cli("list", "--app", cli.spec, "--log-level", "warning", app=False)
    assert result.code == 0, result.err
    assert "ok" in result.out


# ---------------------------------------------------------------- finding the app


def test_demo_app_with_a_notice_when_no_app_is_named(cli: Cli) -> None:
    result = cli("list", app=False)
    assert result.code == 0, result.err
    assert "built-in demo app" in result.err
    for name in ("heartbeat", "host_report", "cleanup_tmp"):
        assert name in result.out


def test_app_from_the_environment(cli: Cli) -> None:
    cli.setenv("ASYNCJOBS_APP", cli.spec)
    result = cli("list", app=False)
    assert result.code == 0, result.err
    assert "demo" not in result.err
    assert "boom" in result.out


def test_app_factory(cli: Cli) -> None:
    result = cli("list", "--app", f"{cli.module}:make_app", app=False)
    assert result.code == 0, result.err
    assert "boom" in result.out


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module_xyz:app", "cannot import module 'no_such_module_xyz'"),
        ("{module}:missing", "has no attribute 'missing'"),
        ("{module}:not_an_app", "is a int, not an asyncjobs App"),
        ("not a module", "expected MODULE:ATTR"),
    ],
)
def test_bad_app_is_one_line_exit_2(cli: Cli, spec: str, message: str) -> None:
    result = cli("list", "--app", spec.format(module=cli.module), app=False)
    assert result.code == 2
    assert len(result.error_lines) == 1
    assert "--app" in result.error_lines[0]
    assert message in result.error_lines[0]
    assert "Traceback" not in result.err


def test_module_that_raises_on_import(cli: Cli) -> None:
    cli.write("raise RuntimeError('broken module')\n")
    result = cli("list")
    assert result.code == 2
    assert result.error_lines == [
        f"error: --app: importing '{cli.module}' failed: RuntimeError: broken module"
    ]
    assert "Traceback" not in result.err

    debug = cli("--debug", "list")
    assert debug.code == 2
    assert "Traceback" in debug.err
    assert "broken module" in debug.err


def test_env_file_is_read_and_the_environment_wins(cli: Cli, tmp_path: Path) -> None:
    env = tmp_path / "prod.env"
    env.write_text(
        f"ASYNCJOBS_APP={cli.spec}\nASYNCJOBS_JOBS__OK__EVERY=2h\nASYNCJOBS_TIMEZONE=Europe/Paris\n"
    )
    cli.setenv("ASYNCJOBS_TIMEZONE", "Asia/Tokyo")
    result = cli("--env-file", str(env), "list", "--json", app=False)
    assert result.code == 0, result.err
    rows = {row["name"]: row for row in json.loads(result.out)}
    assert rows["ok"]["schedule"] == "every 2h"
    assert rows["ok"]["timezone"] == "Asia/Tokyo"


def test_missing_env_file(cli: Cli, tmp_path: Path) -> None:
    result = cli("--env-file", str(tmp_path / "nope.env"), "list")
    assert result.code == 2
    assert result.error_lines == [f"error: --env-file: no such file: {tmp_path / 'nope.env'}"]


# ---------------------------------------------------------------- list, trigger, history


def test_list_table_and_json(cli: Cli) -> None:
    result = cli("list")
    assert result.code == 0, result.err
    header, *rows = result.out.splitlines()
    assert header.split()[:3] == ["NAME", "SCHEDULE", "TIMEZONE"]
    ok_row = next(r for r in rows if r.startswith("ok "))
    assert "every 1h" in ok_row and "UTC" in ok_row and "30s" in ok_row
    boom_row = next(r for r in rows if r.startswith("boom "))
    assert "manual" in boom_row

    data = json.loads(cli("list", "--json").out)
    by_name = {row["name"]: row for row in data}
    assert set(by_name) == {"ok", "boom"}
    ok = by_name["ok"]
    assert ok["schedule"] == "every 1h"
    assert ok["timezone"] == "UTC"
    assert ok["timeout"] == 30
    assert ok["overlap"] == "skip"
    assert ok["enabled"] is True
    assert ok["next_run_time"] is not None
    assert ok["last_status"] is None and ok["last_run_at"] is None
    assert by_name["boom"]["next_run_time"] is None


def test_list_shows_the_last_status(cli: Cli) -> None:
    assert cli("trigger", "boom").code == 1
    data = {row["name"]: row for row in json.loads(cli("list", "--json").out)}
    assert data["boom"]["last_status"] == "failed"
    assert data["boom"]["last_run_at"] is not None
    assert data["ok"]["last_status"] is None
    assert "failed" in cli("list").out


def test_trigger_success_and_failure(cli: Cli) -> None:
    ok = cli("trigger", "ok")
    assert ok.code == 0, ok.err
    assert ok.out.startswith("ok ") and "succeeded" in ok.out
    assert "ok ran" in ok.err  # the job's log, through configure_logging

    boom = cli("trigger", "boom")
    assert boom.code == 1
    assert "failed" in boom.out and "RuntimeError: kaboom" in boom.out


def test_trigger_json(cli: Cli) -> None:
    result = cli("trigger", "ok", "--json")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["job"] == "ok" and data["status"] == "succeeded" and data["success"] is True
    assert data["data"] == {"n": 1} and data["trigger"] == "manual"


def test_trigger_unknown_job(cli: Cli) -> None:
    result = cli("trigger", "nope")
    assert result.code == 2
    assert result.error_lines == ["error: unknown job 'nope' (known jobs: boom, ok)"]


def test_trigger_no_notify(cli: Cli, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    cli.setenv("ASYNCJOBS_MAIL_BACKEND", "file")
    cli.setenv("ASYNCJOBS_MAIL_OUTBOX_DIR", str(outbox))
    cli.setenv("ASYNCJOBS_NOTIFY_TO", "ops@example.com")
    assert cli("trigger", "boom", "--no-notify").code == 1
    assert not outbox.exists() or not list(outbox.iterdir())
    assert cli("trigger", "boom").code == 1
    assert len(list(outbox.iterdir())) == 1


def test_history(cli: Cli) -> None:
    assert cli("trigger", "ok").code == 0
    assert cli("trigger", "boom").code == 1
    assert cli("trigger", "ok").code == 0

    table = cli("history")
    assert table.code == 0
    header, *rows = table.out.splitlines()
    assert "STATUS" in header and "DURATION" in header and "ERROR" in header
    assert len(rows) == 3
    assert " ok " in rows[0] and "succeeded" in rows[0]  # newest first
    assert "failed" in rows[1] and "RuntimeError: kaboom" in rows[1]

    runs = json.loads(cli("history", "--json").out)
    assert [r["job"] for r in runs] == ["ok", "boom", "ok"]
    assert runs[1]["error_type"] == "RuntimeError"

    assert len(json.loads(cli("history", "--json", "--limit", "1").out)) == 1
    failed = json.loads(cli("history", "--status", "failed", "--json").out)
    assert [r["job"] for r in failed] == ["boom"]
    only_ok = json.loads(cli("history", "ok", "--json").out)
    assert {r["job"] for r in only_ok} == {"ok"} and len(only_ok) == 2


def test_history_empty_and_unknown(cli: Cli) -> None:
    empty = cli("history")
    assert empty.code == 0 and "no runs recorded" in empty.out
    assert json.loads(cli("history", "--json").out) == []
    unknown = cli("history", "nope")
    assert unknown.code == 2 and len(unknown.error_lines) == 1


# ---------------------------------------------------------------- check


def test_check_ok(cli: Cli) -> None:
    result = cli("check")
    assert result.code == 0, result.err
    assert "ok  job ok: every 1h" in result.out
    assert "ok  store sqlite:///" in result.out
    assert "ok  2 job(s)" in result.out


def test_check_bad_cron_override(cli: Cli) -> None:
    cli.setenv("ASYNCJOBS_JOBS__OK__CRON", "bogus")
    result = cli("check")
    assert result.code == 2
    assert len(result.error_lines) == 1
    line = result.error_lines[0]
    assert "job 'ok'" in line and "cron" in line
    assert "Traceback" not in result.err


def test_check_override_for_unknown_job(cli: Cli) -> None:
    cli.setenv("ASYNCJOBS_JOBS__TYPO__ENABLED", "false")
    result = cli("check")
    assert result.code == 2
    assert result.error_lines == [
        "error: job 'typo': ASYNCJOBS_JOBS: override for a job that is not defined"
    ]


def test_check_bad_setting(cli: Cli) -> None:
    cli.setenv("ASYNCJOBS_TIMEZONE", "Mars/Olympus")
    result = cli("check")
    assert result.code == 2
    assert len(result.error_lines) == 1 and "timezone" in result.error_lines[0]


def test_check_bad_store_url(cli: Cli) -> None:
    cli.setenv("ASYNCJOBS_STORE_URL", "mysql://u:pw-secret@db/x")
    result = cli("check")
    assert result.code == 2
    assert len(result.error_lines) == 1 and "store_url" in result.error_lines[0]
    assert "pw-secret" not in result.out + result.err


def test_check_smtp_without_smtp_backend(cli: Cli) -> None:
    result = cli("check", "--smtp")
    assert result.code == 2
    assert len(result.error_lines) == 1 and "--smtp" in result.error_lines[0]


# ---------------------------------------------------------------- send-test-email


def test_send_test_email_file_backend(cli: Cli, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    cli.setenv("ASYNCJOBS_MAIL_BACKEND", "file")
    cli.setenv("ASYNCJOBS_MAIL_OUTBOX_DIR", str(outbox))
    result = cli("send-test-email", "me@example.com")
    assert result.code == 0, result.err
    assert "sent a test message to me@example.com" in result.out
    (message,) = outbox.iterdir()
    assert "To: me@example.com" in message.read_text()


def test_send_test_email_failure_exits_1(cli: Cli) -> None:
    cli.setenv("ASYNCJOBS_SMTP_HOST", "127.0.0.1")
    cli.setenv("ASYNCJOBS_SMTP_PORT", "1")  # nothing listens there
    cli.setenv("ASYNCJOBS_SMTP_SECURITY", "none")
    cli.setenv("ASYNCJOBS_SMTP_RETRIES", "0")
    cli.setenv("ASYNCJOBS_SMTP_TIMEOUT", "5")
    result = cli("send-test-email", "me@example.com")
    assert result.code == 1
    assert len(result.error_lines) == 1 and "127.0.0.1:1" in result.error_lines[0]
