"""The mailer keeps connections to the relay open between messages, and never reuses one whose
state is in doubt: a refused message, or a relay that hung up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from aiosmtplib import SMTPResponseException

from notification_service.config import NotificationSettings
from notification_service.deliveries.mailer import Mailer
from webrana_common.embedded import free_port


class _Relay:
    """Accepts mail, noting the client port (one per connection); refuses the first `refuse`."""

    def __init__(self, refuse: int = 0) -> None:
        self.refuse = refuse
        self.peers: list[int] = []  # of accepted messages
        self.refused_peers: list[int] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            self.refuse -= 1
            self.refused_peers.append(session.peer[1])
            return "451 4.3.0 try again later"
        self.peers.append(session.peer[1])
        return "250 OK"


@pytest.fixture
def relay() -> Iterator[Callable[..., tuple[_Relay, Controller]]]:
    started: list[Controller] = []

    def start(handler: _Relay | None = None, port: int | None = None) -> tuple[_Relay, Controller]:
        handler = handler or _Relay()
        controller = Controller(handler, hostname="127.0.0.1", port=port or free_port())
        controller.start()
        started.append(controller)
        return handler, controller

    yield start
    for controller in started:
        with contextlib.suppress(AssertionError, RuntimeError):  # a test stopped it already
            controller.stop()


def _mailer(make_settings: Callable[..., NotificationSettings], port: int) -> Mailer:
    return Mailer(make_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False))


def _message(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "no-reply@webrana.cloud"
    message["To"] = to
    message["Subject"] = "hello"
    message.set_content("hello")
    return message


async def test_messages_in_a_row_share_one_connection(make_settings: Any, relay: Any) -> None:
    handler, controller = relay()
    mailer = _mailer(make_settings, controller.port)
    try:
        for n in range(5):
            await mailer.send(_message(f"user{n}@example.com"))
    finally:
        await mailer.close()

    assert len(handler.peers) == 5
    assert len(set(handler.peers)) == 1


async def test_concurrent_messages_use_at_most_the_pool_size(
    make_settings: Any, relay: Any
) -> None:
    handler, controller = relay()
    mailer = Mailer(
        make_settings(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_starttls=False),
        pool_size=2,
    )
    try:
        await asyncio.gather(*(mailer.send(_message(f"u{n}@example.com")) for n in range(10)))
    finally:
        await mailer.close()

    assert len(handler.peers) == 10
    assert 1 <= len(set(handler.peers)) <= 2


async def test_a_refused_message_leaves_no_connection_behind(
    make_settings: Any, relay: Any
) -> None:
    handler, controller = relay(_Relay(refuse=1))
    mailer = _mailer(make_settings, controller.port)
    try:
        with pytest.raises(SMTPResponseException):
            await mailer.send(_message("first@example.com"))
        await mailer.send(_message("second@example.com"))
        await mailer.send(_message("third@example.com"))
    finally:
        await mailer.close()

    assert len(handler.peers) == 2 and handler.peers[0] == handler.peers[1]
    assert handler.refused_peers[0] not in handler.peers


async def test_a_relay_that_hung_up_costs_a_new_connection_not_a_message(
    make_settings: Any, relay: Any
) -> None:
    first, controller = relay()
    port = controller.port
    mailer = _mailer(make_settings, port)
    try:
        await mailer.send(_message("before@example.com"))
        controller.stop()  # closes the kept connection, as a relay restart would
        second, _ = relay(port=port)
        await asyncio.sleep(0.2)  # the close reaches the client
        await mailer.send(_message("after@example.com"))
    finally:
        await mailer.close()

    assert len(first.peers) == 1 and len(second.peers) == 1
