"""The mail as a client reads it: Indonesian and other non-ASCII text survives the trip, the
raw message stays 7-bit for any relay, and the headers a mail client relies on are there."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from devstack.sandbox.smtp import parse_fields
from notification_service.deliveries.mailer import Mail, Mailer
from notification_service.rendering.renderer import Email

EMAIL = Email(
    subject="Server “web-1” aktif — Rp 150.000",
    text="Halo Siti Rahmà,\nServer web-1 sudah aktif: 203.0.113.10 ✓\n",
    html="<p>Halo Siti Rahmà,</p><p>Server <b>web-1</b> sudah aktif ✓</p>",
)


def _read(mail: Mail) -> tuple[bytes, dict[str, Any]]:
    return mail.data, parse_fields(mail.data)


def test_non_ascii_subject_sender_and_bodies_arrive_intact(make_settings: Any) -> None:
    mailer = Mailer(make_settings(smtp_from="WéBrana Cloud <no-reply@webrana.cloud>"))

    built = mailer.build("siti@example.com", EMAIL)
    raw, mail = _read(built)

    assert (built.sender, built.recipients) == ("no-reply@webrana.cloud", ["siti@example.com"])
    assert mail["subject"] == EMAIL.subject
    assert mail["from"] == "WéBrana Cloud <no-reply@webrana.cloud>"
    assert mail["to"] == ["siti@example.com"]
    assert mail["text"].replace("\r\n", "\n") == EMAIL.text
    assert mail["html"].strip() == EMAIL.html
    assert max(raw) < 128, "a relay without 8BITMIME must be able to carry it"
    assert b"\n" not in raw.replace(b"\r\n", b""), "lines end in CRLF on the wire"
    assert b"quoted-printable" in raw  # readable when a person opens the raw mail


def test_headers_mail_clients_rely_on(make_settings: Any) -> None:
    mailer = Mailer(make_settings(smtp_from="WeBrana Cloud <no-reply@webrana.cloud>"))
    url = "https://webrana.cloud/api/v1/notifications/unsubscribe?token=" + "a" * 120

    raw, mail = _read(mailer.build("siti@example.com", EMAIL, unsubscribe_url=url))
    headers = dict(mail["headers"])

    assert headers["Content-Type"].startswith("multipart/alternative")
    assert headers["MIME-Version"] == "1.0"
    assert headers["Message-ID"].endswith("@webrana.cloud>")
    sent = parsedate_to_datetime(headers["Date"])
    assert abs((datetime.now(UTC) - sent).total_seconds()) < 60
    assert headers["Auto-Submitted"] == "auto-generated"
    assert headers["List-Unsubscribe"] == f"<{url}>"
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in raw  # one line, not folded
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_an_ascii_sender_is_not_encoded(make_settings: Any) -> None:
    mailer = Mailer(make_settings(smtp_from="WeBrana Cloud <no-reply@webrana.cloud>"))

    raw, _ = _read(mailer.build("siti@example.com", EMAIL))

    assert b"\r\nFrom: WeBrana Cloud <no-reply@webrana.cloud>\r\n" in raw


def test_awkward_bodies_survive_and_lines_stay_short(make_settings: Any) -> None:
    """What quoted-printable must get right: long lines (soft breaks), '=' signs, trailing
    spaces, a lone dot, 'From ' at a line start, and text that looks like the boundary."""
    text = (
        "Tagihan INV-20261123-00042 = Rp 150.000 " + "é" * 120 + "\n"
        "trailing spaces   \n"
        ".\n"
        "From the team\n"
        "--=_not-a-boundary\n"
        "no newline at the end"
    )
    html = "<p>" + "x" * 500 + "</p>\r\n<p>=3D stays text</p>"
    mailer = Mailer(make_settings(smtp_from="WeBrana Cloud <no-reply@webrana.cloud>"))

    built = mailer.build("siti@example.com", Email(subject="Tagihan", text=text, html=html))
    message = message_from_bytes(built.data, policy=policy.default)

    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.iter_parts()
    assert plain.get_content().replace("\r\n", "\n") == text
    assert rich.get_content().replace("\r\n", "\n") == html.replace("\r\n", "\n")
    assert max(len(line) for line in built.data.split(b"\r\n")) <= 78
    assert max(built.data) < 128


def test_a_header_value_on_two_lines_is_refused(make_settings: Any) -> None:
    """A subject or address carrying CR/LF would add headers of its own (header injection)."""
    mailer = Mailer(make_settings(smtp_from="WeBrana Cloud <no-reply@webrana.cloud>"))

    with pytest.raises(ValueError, match="one line"):
        mailer.build("siti@example.com\r\nBcc: all@example.com", EMAIL)
    with pytest.raises(ValueError, match="one line"):
        mailer.build("siti@example.com", Email(subject="Hi\nBcc: x@y.z", text="t", html="h"))
