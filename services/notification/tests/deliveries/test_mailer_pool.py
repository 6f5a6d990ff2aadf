"""The mailer keeps connections to the relay open between messages, and never reuses one whose
state is in doubt: a refused message, or a relay that hung up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiosmtplib import SMTPResponseException

from notification_service.config import NotificationSettings
from notification_service.deliveries.mailer import Mail, Mailer


def _mailer(
    make_settings: Callable[..., NotificationSettings], port: int, **options: Any
) -> Mailer:
    settings = make_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    return Mailer(settings, **options)


def _message(to: str) -> Mail:
    data = f"From: no-reply@webrana.cloud\r\nTo: {to}\r\nSubject: hello\r\n\r\nhello\r\n"
    return Mail("no-reply@webrana.cloud", [to], data.encode())


async def test_messages_in_a_row_share_one_connection(make_settings: Any, flaky_relay: Any) -> None:
    relay, port = flaky_relay()
    mailer = _mailer(make_settings, port)
    try:
        for n in range(5):
            await mailer.send(_message(f"user{n}@example.com"))
    finally:
        await mailer.close()

    assert len(relay.peers) == 5
    assert len(set(relay.peers)) == 1


async def test_concurrent_messages_use_at_most_the_pool_size(
    make_settings: Any, flaky_relay: Any
) -> None:
    relay, port = flaky_relay()
    mailer = _mailer(make_settings, port, pool_size=2)
    try:
        await asyncio.gather(*(mailer.send(_message(f"u{n}@example.com")) for n in range(10)))
    finally:
        await mailer.close()

    assert len(relay.peers) == 10
    assert 1 <= len(set(relay.peers)) <= 2


async def test_a_refused_message_leaves_no_connection_behind(
    make_settings: Any, flaky_relay: Any
) -> None:
    relay, port = flaky_relay("451 4.3.0 try again later")
    mailer = _mailer(make_settings, port)
    try:
        with pytest.raises(SMTPResponseException):
            await mailer.send(_message("first@example.com"))
        await mailer.send(_message("second@example.com"))
        await mailer.send(_message("third@example.com"))
    finally:
        await mailer.close()

    assert len(relay.peers) == 2 and relay.peers[0] == relay.peers[1]
    assert relay.refused_peers[0] not in relay.peers


async def test_a_relay_that_hung_up_costs_a_new_connection_not_a_message(
    make_settings: Any, flaky_relay: Any
) -> None:
    first, port = flaky_relay()
    mailer = _mailer(make_settings, port)
    try:
        await mailer.send(_message("before@example.com"))
        first.controller.stop()  # closes the kept connection, as a relay restart would
        second, _ = flaky_relay(port=port)
        await asyncio.sleep(0.2)  # the close reaches the client
        await mailer.send(_message("after@example.com"))
    finally:
        await mailer.close()

    assert len(first.peers) == 1 and len(second.peers) == 1
