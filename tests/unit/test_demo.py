"""The demo app's jobs, each run for real against the memory store and mailer."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from asyncjobs import MemoryMailer, RunStatus, Settings
from asyncjobs.demo import DEFAULT_REPORT_TO, CleanupTmp, create_app, host_report_text


def settings(**values: object) -> Settings:
    return Settings(store_url="memory://", mail_backend="memory", **values)  # type: ignore[arg-type]


def test_schedules_show_something_within_a_minute(tmp_path: Path) -> None:
    app = create_app(settings(), tmp_dir=tmp_path)
    assert {name: d.describe_schedule() for name, d in app.jobs.items()} == {
        "heartbeat": "every 10s",
        "host_report": "every 30s",
        "cleanup_tmp": "every 1m",
    }
    app.validate()


async def test_heartbeat(tmp_path: Path) -> None:
    result = await create_app(settings(), tmp_dir=tmp_path).run_async("heartbeat")
    assert result.status is RunStatus.SUCCEEDED
    assert result.data == {"pid": os.getpid()}


async def test_host_report_mails_the_default_address(tmp_path: Path) -> None:
    app = create_app(settings(), tmp_dir=tmp_path)
    result = await app.run_async("host_report")
    assert result.status is RunStatus.SUCCEEDED, result.traceback
    assert isinstance(app.mailer, MemoryMailer)
    (message,) = app.mailer.outbox
    assert message["To"] == DEFAULT_REPORT_TO
    assert "Disk at" in message.get_content()
    assert result.data is not None
    assert 0 <= result.data["disk_used_percent"] <= 100
    assert result.data["sent_to"] == [DEFAULT_REPORT_TO]


async def test_host_report_respects_notify_to(tmp_path: Path) -> None:
    app = create_app(settings(notify_to="a@example.com,b@example.com"), tmp_dir=tmp_path)
    result = await app.run_async("host_report", notify=False)
    assert result.success
    assert isinstance(app.mailer, MemoryMailer)
    (message,) = app.mailer.outbox
    assert message["To"] == "a@example.com, b@example.com"


def test_host_report_text(tmp_path: Path) -> None:
    text, data = host_report_text(tmp_path)
    assert text.startswith(f"Disk at {tmp_path}:")
    assert "Load average" in text
    assert data["disk_total_bytes"] > 0


async def test_cleanup_tmp_deletes_only_old_files(tmp_path: Path) -> None:
    folder = tmp_path / "owned"
    folder.mkdir()
    old, new, sub = folder / "old.txt", folder / "new.txt", folder / "sub"
    old.write_text("x")
    new.write_text("y")
    sub.mkdir()
    two_days_ago = time.time() - 48 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    os.utime(sub, (two_days_ago, two_days_ago))

    result = await create_app(settings(), tmp_dir=folder).run_async("cleanup_tmp")

    assert result.status is RunStatus.SUCCEEDED, result.traceback
    assert result.data == {"directory": str(folder), "deleted": 1, "kept": 2}
    assert not old.exists() and new.exists() and sub.is_dir()


async def test_cleanup_tmp_creates_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "not-yet"
    result = await create_app(settings(), tmp_dir=folder).run_async("cleanup_tmp")
    assert result.success and folder.is_dir()


def test_cleanup_tmp_default_folder_is_its_own() -> None:
    assert CleanupTmp().directory.name == "asyncjobs-demo"


@pytest.mark.parametrize("job", ["heartbeat", "host_report", "cleanup_tmp"])
async def test_every_demo_job_logs_through_ctx_log(
    job: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    result = await create_app(settings(), tmp_dir=tmp_path).run_async(job)
    assert result.success
    assert any(getattr(r, "run_id", None) == result.run_id for r in caplog.records)
