"""Email jobs: through aiosmtplib to the SMTP sink (or a relay that misbehaves on purpose),
with retries for what may pass later and none for what never will."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from notification_helpers import send
from sqlalchemy import select

from devstack.sandbox.smtp import accept_any_login
from notification_service.deliveries.models import Delivery
from notification_service.preferences.models import Preference
from webrana_common.db.session import Database
from webrana_common.embedded import free_port


async def _email_delivery(db: Database) -> Delivery:
    async with db.session() as session:
        return (await session.scalars(select(Delivery).where(Delivery.channel == "email"))).one()


async def test_email_goes_out_with_html_and_text_and_is_logged_sent(
    client: httpx.AsyncClient, make_user: Any, run_jobs: Any, smtp: Any, db: Database
) -> None:
    user = await make_user(locale="en", full_name="Siti Rahma")
    await send(client, user, "VPS_ACTIVE", channels=["email"])
    await run_jobs()

    [mail] = smtp.messages(user.email)
    assert mail["subject"] == "Your server web-1 is up"
    assert mail["from"] == "WeBrana Cloud <no-reply@webrana.cloud>"
    assert "Hi Siti Rahma" in mail["text"] and "203.0.113.10" in mail["text"]
    assert "<code>203.0.113.10</code>" in mail["html"]
    headers = dict(mail["headers"])
    assert headers["Auto-Submitted"] == "auto-generated" and headers["Message-ID"]
    assert "List-Unsubscribe" not in headers
    delivery = await _email_delivery(db)
    assert (delivery.status, delivery.attempts) == ("SENT", 1)
    assert delivery.sent_at is not None and delivery.subject == mail["subject"]


async def test_marketing_mail_carries_a_working_one_click_unsubscribe(
    client: httpx.AsyncClient, make_user: Any, run_jobs: Any, smtp: Any, db: Database
) -> None:
    user = await make_user()
    await send(client, user, "SYSTEM_ANNOUNCEMENT", channels=["email"])
    await run_jobs()

    [mail] = smtp.messages(user.email)
    headers = dict(mail["headers"])
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://app.webrana.test/api/v1/notifications/unsubscribe?token=")
    path = url.removeprefix("https://app.webrana.test")
    page = await client.get(path)
    assert page.status_code == 200 and "<form" in page.text
    done = await client.post(path, content="List-Unsubscribe=One-Click")
    assert done.status_code == 200
    async with db.session() as session:
        choice = await session.get(Preference, user.id)
    assert choice is not None and choice.channels == {"marketing": {"email": False}}
    forged = await client.post(path[:-3] + "abc")
    assert forged.status_code == 400
    again = await send(client, user, "SYSTEM_ANNOUNCEMENT", channels=["email"])
    assert again["deliveries"][0]["reason"] == "preference_off"


async def test_an_unreachable_relay_is_retried_with_backoff_then_failed(
    client: httpx.AsyncClient, make_user: Any, run_jobs: Any, db: Database
) -> None:
    user = await make_user()
    await send(client, user, "WALLET_TOPUP", channels=["email"])
    await run_jobs(smtp_port=free_port(), delivery_max_attempts=3)

    delivery = await _email_delivery(db)
    assert (delivery.status, delivery.reason, delivery.attempts) == (
        "FAILED",
        "retries_exhausted",
        3,
    )
    assert "SMTPConnect" in (delivery.last_error or "") and delivery.failed_at is not None


async def test_a_temporary_refusal_is_retried_and_then_sent(
    client: httpx.AsyncClient, make_user: Any, run_jobs: Any, db: Database, flaky_relay: Any
) -> None:
    relay, port = flaky_relay("451 4.3.0 try again later")
    user = await make_user()
    await send(client, user, "WALLET_TOPUP", channels=["email"])
    await run_jobs(smtp_port=port)

    delivery = await _email_delivery(db)
    assert (delivery.status, delivery.attempts) == ("SENT", 2)
    assert len(relay.store.list(user.email)) == 1


async def test_a_permanent_refusal_fails_at_once(
    client: httpx.AsyncClient, make_user: Any, run_jobs: Any, db: Database, flaky_relay: Any
) -> None:
    relay, port = flaky_relay("550 5.1.1 mailbox unavailable")
    await send(client, await make_user(), "WALLET_TOPUP", channels=["email"])
    await run_jobs(smtp_port=port)

    delivery = await _email_delivery(db)
    assert (delivery.status, delivery.reason, delivery.attempts) == ("FAILED", "rejected", 1)
    assert "550" in (delivery.last_error or "")
    assert relay.codes == [] and relay.store.list() == []


async def test_logs_in_with_smtp_username_and_password(
    client: httpx.AsyncClient, make_user: Any, run_jobs: Any, smtp: Any
) -> None:
    user = await make_user()
    await send(client, user, "WALLET_TOPUP", channels=["email"])
    await run_jobs(smtp_username="relay-user", smtp_password="relay-pass")
    [mail] = smtp.store.list(user.email)
    assert mail["login"] == "relay-user"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "relay.pem", directory / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("mode", ["starttls", "implicit_tls"])
async def test_tls_to_the_relay_as_configured(
    client: httpx.AsyncClient,
    make_user: Any,
    run_jobs: Any,
    db: Database,
    flaky_relay: Any,
    tmp_path: Path,
    mode: str,
) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    if mode == "starttls":
        relay, port = flaky_relay(
            tls_context=context,
            require_starttls=True,
            authenticator=accept_any_login,
            auth_require_tls=True,
        )
        tls = {"smtp_starttls": True, "smtp_username": "u", "smtp_password": "p"}
    else:
        relay, port = flaky_relay(ssl_context=context)
        tls = {"smtp_starttls": False, "smtp_use_tls": True}
    user = await make_user()
    await send(client, user, "WALLET_TOPUP", channels=["email"])
    await run_jobs(smtp_port=port, smtp_ca_bundle=str(cert), **tls)

    delivery = await _email_delivery(db)
    assert delivery.status == "SENT", delivery.last_error
    assert len(relay.store.list(user.email)) == 1


async def test_preferences_and_verification_are_checked_again_at_send_time(
    client: httpx.AsyncClient, make_user: Any, run_jobs: Any, db: Database, smtp: Any
) -> None:
    user = await make_user()
    await send(client, user, "WALLET_TOPUP", channels=["email"])
    async with db.session() as session:  # switched off while the mail waited in the queue
        session.add(
            Preference(
                user_id=user.id,
                channels={"billing": {"email": False}},
                muted_email=False,
                muted_telegram=False,
            )
        )
    await run_jobs()
    delivery = await _email_delivery(db)
    assert (delivery.status, delivery.reason, delivery.attempts) == ("SKIPPED", "preference_off", 0)
    assert smtp.messages() == []


async def test_a_user_auth_no_longer_knows_fails_the_delivery(
    client: httpx.AsyncClient, make_user: Any, run_jobs: Any, db: Database, auth_db: Database
) -> None:
    from sqlalchemy import delete

    from auth_service.users.models import User

    user = await make_user()
    await send(client, user, "WALLET_TOPUP", channels=["email"])
    async with auth_db.session() as session:
        await session.execute(delete(User).where(User.id == user.id))
    await run_jobs(user_cache_seconds=0)
    delivery = await _email_delivery(db)
    assert (delivery.status, delivery.reason) == ("FAILED", "user_not_found")
    assert uuid.UUID(str(delivery.user_id)) == user.id


async def test_a_delivery_whose_notification_is_gone_fails_instead_of_waiting(
    client: httpx.AsyncClient, make_user: Any, run_jobs: Any, db: Database, smtp: Any
) -> None:
    from sqlalchemy import delete

    from notification_service.notifications.models import Notification

    user = await make_user()
    await send(client, user, "WALLET_TOPUP", channels=["email"])
    async with db.session() as session:  # retention purged it while the mail was queued
        await session.execute(delete(Notification).where(Notification.user_id == user.id))
    await run_jobs()

    delivery = await _email_delivery(db)
    # Settled, so the requeue cron does not pick it up again and again.
    assert (delivery.status, delivery.reason) == ("FAILED", "rejected")
    assert delivery.last_error == "notification no longer exists"
    assert delivery.failed_at is not None
    assert smtp.messages(user.email) == []


async def test_a_second_job_for_a_sent_mail_sends_nothing(
    client: httpx.AsyncClient,
    make_user: Any,
    run_jobs: Any,
    db: Database,
    smtp: Any,
    make_settings: Any,
) -> None:
    from notification_service import worker
    from webrana_common.worker import close_worker_context, open_worker_context

    user = await make_user()
    await send(client, user, "WALLET_TOPUP", channels=["email"])
    await run_jobs()
    first = await _email_delivery(db)
    ctx: dict[str, Any] = {}
    await open_worker_context(ctx, make_settings(), use_outbox=False)
    await worker.startup(ctx)
    try:  # a requeued duplicate of the job that already sent it
        await worker.send_delivery(ctx, str(first.id))
    finally:
        await worker.shutdown(ctx)
        await close_worker_context(ctx)

    again = await _email_delivery(db)
    assert (again.status, again.attempts, again.sent_at) == ("SENT", 1, first.sent_at)
    assert len(smtp.messages(user.email)) == 1
