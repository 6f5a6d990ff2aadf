"""Email through aiosmtplib: implicit TLS, STARTTLS and login as the settings say, over a few
connections kept open between messages."""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import secrets
import ssl
import time
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid, parseaddr

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPRecipientsRefused,
    SMTPResponseException,
)

from notification_service.config import NotificationSettings
from notification_service.rendering.renderer import Email


def is_permanent(exc: Exception) -> bool:
    """A 5xx refusal of the sender, a recipient or the message: retrying cannot help. Everything
    else (no connection, timeouts, 4xx, a login refused by a misconfigured relay) is retried."""
    if isinstance(exc, SMTPAuthenticationError):
        return False
    if isinstance(exc, SMTPRecipientsRefused):
        return all(500 <= refused.code < 600 for refused in exc.recipients)
    if isinstance(exc, SMTPResponseException):
        return 500 <= exc.code < 600
    return False


@dataclass(frozen=True)
class Mail:
    """A message ready for the relay: its envelope and its bytes."""

    sender: str
    recipients: list[str]
    data: bytes


def _header(value: str) -> str:
    """One header line's value: RFC 2047 encoded only when it must be (the 7-bit wire)."""
    if "\r" in value or "\n" in value:
        raise ValueError("a header value must be one line")
    return value if value.isascii() else Header(value, "utf-8").encode(linesep="\r\n")


def _part(boundary: str, subtype: str, body: str) -> bytes:
    """One body part, quoted-printable (readable in a raw mail, safe for any relay: 7-bit)
    with CRLF line ends. The CRLF before the next boundary belongs to the boundary."""
    encoded = binascii.b2a_qp(body.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return b"".join(
        [
            f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode("ascii"),
            encoded.replace(b"\n", b"\r\n"),
            b"\r\n",
        ]
    )


# A connection, its greeting, EHLO, STARTTLS and login cost the relay and us more than the
# message itself; relays drop idle clients after a minute or more, so an idle connection is
# reused only for a while, and checked with NOOP once it has been idle for a few seconds.
POOL_SIZE = 4
REUSE_SECONDS = 30.0
NOOP_AFTER_SECONDS = 5.0


class Mailer:
    def __init__(self, settings: NotificationSettings, *, pool_size: int = POOL_SIZE) -> None:
        self.settings = settings
        self.sender = settings.smtp_from
        # A display name outside ASCII is RFC 2047 encoded, the address never is.
        self._from = formataddr(parseaddr(self.sender), charset="utf-8")
        self._tls: ssl.SSLContext | None = None
        if settings.smtp_ca_bundle is not None:
            self._tls = ssl.create_default_context(cafile=str(settings.smtp_ca_bundle))
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # (connection, idle since)

    def build(
        self,
        to: str,
        email: Email,
        *,
        message_id_domain: str | None = None,
        unsubscribe_url: str | None = None,
        auto_submitted: bool = True,
    ) -> Mail:
        """multipart/alternative, text then HTML, each quoted-printable, written out directly:
        the `email` package's message objects and generator cost about 0.9 ms of CPU per mail,
        most of a mail's cost in the worker; this is a tenth of that (`binascii` encodes)."""
        domain = message_id_domain or parseaddr(self.sender)[1].rpartition("@")[2] or None
        boundary = f"=_{secrets.token_hex(12)}"  # never inside a QP body: "=_" is not valid QP
        headers = [
            ("MIME-Version", "1.0"),
            ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
            ("From", self._from),
            ("To", to),
            ("Subject", email.subject),
            ("Date", formatdate(localtime=False, usegmt=True)),
            ("Message-ID", make_msgid(domain=domain)),
        ]
        if auto_submitted:
            headers.append(("Auto-Submitted", "auto-generated"))
        if unsubscribe_url:
            # RFC 2369 + RFC 8058: mail clients show an unsubscribe button that POSTs here.
            headers.append(("List-Unsubscribe", f"<{unsubscribe_url}>"))
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        data = b"".join(
            [
                *(f"{name}: {_header(value)}\r\n".encode("ascii") for name, value in headers),
                b"\r\n",
                _part(boundary, "plain", email.text),
                _part(boundary, "html", email.html),
                f"--{boundary}--\r\n".encode("ascii"),
            ]
        )
        return Mail(parseaddr(self.sender)[1], [to], data)

    async def send(self, mail: Mail) -> None:
        """Send over an idle connection, or a new one. A connection that failed in any way is
        closed, never reused: its state at the relay is unknown."""
        async with self._slots:
            smtp = await self._idle_connection() or await self._connect()
            try:
                await smtp.sendmail(mail.sender, mail.recipients, mail.data)
            except BaseException:
                smtp.close()
                raise
            self._idle.append((smtp, time.monotonic()))

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for smtp, _ in idle:
            with contextlib.suppress(Exception):
                await smtp.quit()
            smtp.close()

    async def _idle_connection(self) -> aiosmtplib.SMTP | None:
        now = time.monotonic()
        while self._idle:
            smtp, since = self._idle.pop()
            if not smtp.is_connected or now - since > REUSE_SECONDS:
                smtp.close()
                continue
            if now - since > NOOP_AFTER_SECONDS:
                try:
                    await smtp.noop()
                except Exception:
                    smtp.close()
                    continue
            return smtp
        return None

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self.settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        smtp = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=password if settings.smtp_username else None,
            use_tls=settings.smtp_use_tls,
            start_tls=settings.smtp_starttls,
            tls_context=self._tls,
            timeout=settings.smtp_timeout_seconds,
        )
        await smtp.connect()
        return smtp
