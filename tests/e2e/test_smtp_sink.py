"""The SMTP sink: a mail sent with aiosmtplib (as services send) is listed over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def sink() -> Iterator[tuple[int, str]]:
    smtp_port, http_port = _free_port(), _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.sandbox.smtp",
         "--smtp-port", str(smtp_port), "--http-port", str(http_port)],
        cwd=REPO_ROOT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            if httpx.get(f"{base}/health", trust_env=False).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None, "the sink exited"
        assert time.monotonic() < deadline, "the sink did not answer"
        time.sleep(0.1)
    try:
        yield smtp_port, base
    finally:
        process.terminate()
        process.wait(10)


async def test_sent_mail_is_listed_with_its_parts(sink: tuple[int, str]) -> None:
    smtp_port, base = sink
    message = EmailMessage()
    message["From"] = "WeBrana Cloud <no-reply@webrana.local>"
    message["To"] = "Budi Santoso <budi@example.co.id>"
    message["Subject"] = "Server Anda sudah aktif — vps-01"
    message.set_content("IP: 203.0.113.7")
    message.add_alternative("<p>IP: <b>203.0.113.7</b></p>", subtype="html")
    message.add_attachment(b"%PDF-1.7", maintype="application", subtype="pdf", filename="inv.pdf")

    await aiosmtplib.send(
        message, hostname="127.0.0.1", port=smtp_port, username="svc", password="any"
    )

    async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
        listed = (await client.get("/messages", params={"to": "budi@example.co.id"})).json()
        assert [m["subject"] for m in listed["messages"]] == ["Server Anda sudah aktif — vps-01"]
        summary = listed["messages"][0]
        assert summary["mail_from"] == "no-reply@webrana.local"
        assert summary["rcpt_tos"] == ["budi@example.co.id"]

        detail = (await client.get(f"/messages/{summary['id']}")).json()
        assert detail["from"] == "WeBrana Cloud <no-reply@webrana.local>"
        assert detail["to"] == ["budi@example.co.id"]
        assert detail["text"].strip() == "IP: 203.0.113.7"
        assert detail["html"].strip() == "<p>IP: <b>203.0.113.7</b></p>"
        assert detail["attachments"] == [
            {"filename": "inv.pdf", "content_type": "application/pdf", "size": 8}
        ]
        assert detail["login"] == "svc"
        assert ["Subject", "Server Anda sudah aktif — vps-01"] in detail["headers"]

        raw = await client.get(f"/messages/{summary['id']}/raw")
        assert raw.headers["content-type"].startswith("message/rfc822")
        assert "Subject:" in raw.text

        assert (await client.get("/messages", params={"to": "nobody@example.com"})).json() == {
            "messages": []
        }
        assert (await client.delete("/messages")).status_code == 204
        assert (await client.get("/messages")).json() == {"messages": []}
        assert (await client.get(f"/messages/{summary['id']}")).status_code == 404
