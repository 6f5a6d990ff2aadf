"""Email through aiosmtplib: implicit TLS, STARTTLS and login as the settings say."""

from __future__ import annotations

import ssl
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


class Mailer:
    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings
        self.sender = settings.smtp_from
        self._tls: ssl.SSLContext | None = None
        if settings.smtp_ca_bundle is not None:
            self._tls = ssl.create_default_context(cafile=str(settings.smtp_ca_bundle))

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
        settings = self.settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=password if settings.smtp_username else None,
            use_tls=settings.smtp_use_tls,
            start_tls=settings.smtp_starttls,
            tls_context=self._tls,
            timeout=settings.smtp_timeout_seconds,
        )
