"""Composing messages: addresses, header safety, parts, encodings."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from asyncjobs.mail import MailError, MemoryMailer
from asyncjobs.mail.message import build_message, header_text, html_to_text, parse_address


def reparse(msg: EmailMessage) -> EmailMessage:
    out = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(out, EmailMessage)
    return out


@pytest.mark.parametrize(
    "value",
    [
        "a@example.com\r\nBcc: x@example.com",
        "a@example.com, b@example.com",
        "not-an-address",
        "",
        "@example.com",
        "a@",
        "A <a@example.com>\nCc: x@example.com",
    ],
)
def test_bad_addresses_are_refused(value: str) -> None:
    with pytest.raises(MailError):
        parse_address(value)


def test_display_names_are_kept() -> None:
    addr = parse_address("Zoë Ärger <z@example.com>")
    assert (addr.display_name, addr.addr_spec) == ("Zoë Ärger", "z@example.com")


def test_header_text_folds_control_characters() -> None:
    assert header_text("job failed\r\nBcc: x@example.com") == "job failed Bcc: x@example.com"
    assert len(header_text("x" * 5000)) <= 900


def test_message_has_text_html_date_and_id() -> None:
    msg, envelope = build_message(
        sender="Jobs <jobs@example.com>",
        to="a@example.com",
        subject="Grüße ✓",
        text="plain",
        html="<b>rich</b>",
        reply_to="ops@example.com",
    )
    got = reparse(msg)
    assert got["Subject"] == "Grüße ✓"
    assert "=?utf-8?" in msg.as_string()  # encoded on the wire, not raw UTF-8
    assert got["Date"] and got["Message-ID"].endswith("@example.com>")
    assert got["Reply-To"] == "ops@example.com"
    assert got.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in got.iter_parts()] == ["text/plain", "text/html"]
    assert envelope.sender == "jobs@example.com"
    assert envelope.recipients == ("a@example.com",)


def test_text_part_is_derived_from_html_when_missing() -> None:
    msg, _ = build_message(
        sender="j@example.com",
        to="a@example.com",
        subject="s",
        html="<p>Hi<script>x()</script></p><p>there</p>",
    )
    body = reparse(msg).get_body(("plain",))
    assert body is not None
    assert body.get_content() == "Hi\nthere\n"
    assert html_to_text("<style>p{}</style><p>a</p>") == "a\n"


def test_subject_injection_adds_no_header() -> None:
    msg, envelope = build_message(
        sender="j@example.com", to="a@example.com", subject="x\r\nBcc: evil@example.com", text="t"
    )
    got = reparse(msg)
    assert got["Bcc"] is None
    assert envelope.recipients == ("a@example.com",)


async def test_attachments_from_paths_and_bytes(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("a,b\n1,2\n")
    mailer = MemoryMailer("j@example.com")
    await mailer.send(
        "a@example.com",
        "s",
        text="t",
        attachments=[path, ("data.bin", b"\x00\x01", "application/octet-stream")],
    )
    got = reparse(mailer.outbox[0])
    files = {p.get_filename(): p for p in got.iter_attachments()}
    assert files["report.csv"].get_content_type() == "text/csv"
    assert files["data.bin"].get_content() == b"\x00\x01"


async def test_missing_attachment_is_a_mail_error(tmp_path: Path) -> None:
    with pytest.raises(MailError, match=r"missing\.txt"):
        await MemoryMailer().send("a@example.com", "s", attachments=[tmp_path / "missing.txt"])


def test_no_recipient_is_an_error() -> None:
    with pytest.raises(MailError, match="recipient"):
        build_message(sender="j@example.com", to=[], subject="s")
