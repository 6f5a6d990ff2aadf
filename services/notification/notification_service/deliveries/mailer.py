"""Email through aiosmtplib: implicit TLS, STARTTLS and login as the settings say, over a few
connections kept open between messages."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

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
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        domain = message_id_domain or parseaddr(self.sender)[1].rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(domain=domain)
        if auto_submitted:
            message["Auto-Submitted"] = "auto-generated"
        if unsubscribe_url:
            # RFC 2369 + RFC 8058: mail clients show an unsubscribe button that POSTs here.
            message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message

    async def send(self, message: EmailMessage) -> None:
        """Send over an idle connection, or a new one. A connection that failed in any way is
        closed, never reused: its state at the relay is unknown."""
        async with self._slots:
            smtp = await self._idle_connection() or await self._connect()
            try:
                await smtp.send_message(message)
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
