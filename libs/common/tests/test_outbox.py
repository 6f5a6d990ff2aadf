"""The outbox, proven against real PostgreSQL and a real receiving HTTP server: nothing is sent
for a rolled-back transaction, nothing committed is lost, and each message is processed once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from webrana_common.db.base import utcnow
from webrana_common.db.session import Database
from webrana_common.outbox import (
    OutboxMessage,
    OutboxRelay,
    OutboxSender,
    OutboxStatus,
    add,
    add_and_follow,
)
from webrana_common.testing.live_server import LiveServer

TARGET = "notification:/internal/events"


class Receiver:
    """A receiving service: counts every call, acts once per `Idempotency-Key` (as ours must),
    and can be told to fail or to be slow."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.processed: dict[str, Any] = {}
        self.failures_left = 0
        self.failure_status = 500
        self.delay = 0.0
        self._lock = threading.Lock()
        self.app = FastAPI()
        self.app.post("/internal/events")(self.receive)
        self.server = LiveServer(self.app)

    async def receive(self, request: Request) -> JSONResponse:
        key = request.headers["idempotency-key"]
        payload = await request.json()
        with self._lock:
            self.calls[key] += 1
            fail = self.failures_left > 0
            self.failures_left -= fail
        if fail:
            return JSONResponse({"detail": "refused"}, status_code=self.failure_status)
        await asyncio.sleep(self.delay)
        with self._lock:
            duplicate = key in self.processed
            self.processed.setdefault(key, payload)
        return JSONResponse({"duplicate": duplicate})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    with receiver.server:
        yield receiver


@pytest.fixture
async def database_url(empty_database_url: str) -> str:
    db = Database(empty_database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(OutboxMessage.metadata.create_all)
    await db.dispose()
    return empty_database_url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


@pytest.fixture
def make_relay(receiver: Receiver, http: httpx.AsyncClient) -> Callable[..., OutboxRelay]:
    def make(db: Database, **options: Any) -> OutboxRelay:
        options.setdefault("base_delay_seconds", 0.05)
        sender = OutboxSender(http, {"notification": receiver.server.url})
        return OutboxRelay(db, sender, **options)

    return make


async def settle(db: Database) -> None:
    """Wait for the work started after commits (the post-commit delivery), within reason."""
    async with asyncio.timeout(10):
        await db.wait_for_background()


async def add_messages(db: Database, keys: list[str]) -> None:
    async with db.session() as session:
        for key in keys:
            await add(session, TARGET, {"key": key}, idempotency_key=key)


async def messages(db: Database) -> dict[str, OutboxMessage]:
    async with db.session() as session:
        rows = await session.scalars(select(OutboxMessage))
        return {m.idempotency_key: m for m in rows}


async def wait_until_due(message: OutboxMessage, timeout: float = 5.0) -> None:
    wait = (message.next_attempt_at - utcnow()).total_seconds()
    assert wait < timeout
    await asyncio.sleep(max(0.0, wait) + 0.005)


async def relay_until_done(db: Database, *relays: OutboxRelay, timeout: float = 15.0) -> None:
    """Run relay rounds (as the cron would, only faster; several relays at once) until nothing
    is pending."""
    deadline = time.monotonic() + timeout
    while any(m.status == OutboxStatus.PENDING for m in (await messages(db)).values()):
        assert time.monotonic() < deadline, "messages still pending"
        await asyncio.gather(*(relay.deliver() for relay in relays))
        await asyncio.sleep(0.01)


async def test_message_added_in_a_rolled_back_transaction_is_neither_stored_nor_sent(
    db: Database, receiver: Receiver, make_relay: Callable[..., OutboxRelay]
) -> None:
    db.outbox_relay = make_relay(db)

    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await add(session, TARGET, {"invoice": 1}, idempotency_key="invoice-1-paid")
            raise RuntimeError("the payment failed to save")
    await settle(db)
    await db.outbox_relay.deliver()

    assert await messages(db) == {}
    assert receiver.calls == {}


async def test_message_is_delivered_right_after_commit(
    db: Database, receiver: Receiver, make_relay: Callable[..., OutboxRelay]
) -> None:
    db.outbox_relay = make_relay(db)

    async with db.session() as session:
        await add(session, TARGET, {"invoice": 1}, idempotency_key="invoice-1-paid")
        assert receiver.calls == {}  # not before the commit
    await settle(db)  # the post-commit task; no relay round is run

    assert receiver.processed == {"invoice-1-paid": {"invoice": 1}}
    message = (await messages(db))["invoice-1-paid"]
    assert (message.status, message.attempts) == (OutboxStatus.DELIVERED, 1)
    assert message.delivered_at is not None


async def test_failed_deliveries_are_retried_with_growing_backoff_until_acknowledged(
    db: Database, receiver: Receiver, make_relay: Callable[..., OutboxRelay]
) -> None:
    base = 0.1
    db.outbox_relay = relay = make_relay(db, base_delay_seconds=base)
    receiver.failures_left = 3

    started = utcnow()
    await add_messages(db, ["order-9-created"])
    await settle(db)
    delays: list[float] = []
    message = (await messages(db))["order-9-created"]
    while message.status == OutboxStatus.PENDING:
        delays.append((message.next_attempt_at - started).total_seconds())
        await wait_until_due(message)
        started = utcnow()
        await relay.deliver()
        message = (await messages(db))["order-9-created"]

    # Attempt n waits base * 2^(n-1), give or take 20% jitter (and the time a round takes).
    assert len(delays) == 3
    for n, delay in enumerate(delays, start=1):
        expected = base * 2 ** (n - 1)
        assert 0.8 * expected <= delay <= 1.2 * expected + 1.0, delays
    assert (message.status, message.attempts, message.last_error) == (
        OutboxStatus.DELIVERED,
        4,
        None,
    )
    assert receiver.calls == {"order-9-created": 4}
    assert list(receiver.processed) == ["order-9-created"]


async def test_messages_sent_while_the_receiver_is_down_arrive_once_it_is_back(
    db: Database, receiver: Receiver, make_relay: Callable[..., OutboxRelay]
) -> None:
    db.outbox_relay = relay = make_relay(db)
    receiver.server.stop()
    keys = [f"user-{n}-registered" for n in range(5)]

    await add_messages(db, keys)
    await settle(db)
    await asyncio.sleep(0.1)
    await relay.deliver()
    down = await messages(db)
    receiver.server.start()
    await relay_until_done(db, relay)

    assert {m.status for m in down.values()} == {OutboxStatus.PENDING}
    assert all("ConnectError" in (m.last_error or "") for m in down.values())
    # One connection attempt a round (after the commit, then the cron's), not one a message:
    # the others wait for the refusing service without spending their attempts.
    assert 1 <= sum(m.attempts for m in down.values()) <= 2
    assert {m.status for m in (await messages(db)).values()} == {OutboxStatus.DELIVERED}
    assert sorted(receiver.processed) == sorted(keys)
    assert receiver.calls == dict.fromkeys(keys, 1)


@pytest.mark.parametrize("engines", ["one engine", "two engines"])
async def test_concurrent_relays_never_send_a_message_twice(
    engines: str,
    db: Database,
    database_url: str,
    receiver: Receiver,
    make_relay: Callable[..., OutboxRelay],
) -> None:
    receiver.delay = 0.01  # a slow receiver widens the window for a double send
    keys = [f"instance-{n}-ready" for n in range(40)]
    await add_messages(db, keys)  # no relay attached: nothing is sent after commit
    other_db = db if engines == "one engine" else Database(database_url)
    relays = [make_relay(db, batch_size=7), make_relay(other_db, batch_size=7)]
    try:
        await relay_until_done(db, *relays)
    finally:
        if other_db is not db:
            await other_db.dispose()

    assert receiver.calls == dict.fromkeys(keys, 1)


async def test_delivery_after_commit_and_the_cron_relay_never_send_a_message_twice(
    db: Database,
    database_url: str,
    receiver: Receiver,
    make_relay: Callable[..., OutboxRelay],
) -> None:
    receiver.delay = 0.01
    db.outbox_relay = make_relay(db)
    cron = make_relay(Database(database_url))  # the worker process has its own engine
    keys = [f"payment-{n}-settled" for n in range(20)]
    stop = asyncio.Event()

    async def cron_loop() -> None:
        while not stop.is_set():
            await cron.deliver()

    loop = asyncio.create_task(cron_loop())
    try:
        for key in keys:
            await add_messages(db, [key])
        await settle(db)
        await relay_until_done(db, cron)
    finally:
        stop.set()
        await loop
        await cron.db.dispose()

    assert receiver.calls == dict.fromkeys(keys, 1)


async def test_a_refusing_service_holds_only_its_own_messages(
    db: Database, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    """The instance service is not deployed: its messages wait, one probe per backoff
    window, while another service's messages in the same round are delivered."""
    closed = LiveServer(FastAPI())
    closed.start()
    closed.stop()  # a port nothing listens on
    sender = OutboxSender(http, {"notification": receiver.server.url, "instance": closed.url})
    relay = OutboxRelay(db, sender, base_delay_seconds=1.0)
    async with db.session() as session:
        for n in range(4):
            await add(session, "instance:/internal/instances", {"n": n}, f"instance-{n}")
            await add(session, TARGET, {"n": n}, f"event-{n}")
    for _ in range(3):
        await relay.deliver()
    stored = await messages(db)
    held = [m for k, m in stored.items() if k.startswith("instance-")]
    assert {m.status for m in held} == {OutboxStatus.PENDING}
    assert sum(m.attempts for m in held) == 1  # the window is 0.8-1.2 s: no second probe yet
    assert all("ConnectError" in (m.last_error or "") for m in held)
    assert sum("instance refused connections" in (m.last_error or "") for m in held) == 3
    assert sorted(receiver.processed) == [f"event-{n}" for n in range(4)]
    await asyncio.sleep(1.3)
    await relay.deliver()
    assert sum(m.attempts for m in (await messages(db)).values() if m.target.startswith("i")) == 2


async def test_same_idempotency_key_is_stored_once(
    db: Database, receiver: Receiver, make_relay: Callable[..., OutboxRelay]
) -> None:
    db.outbox_relay = make_relay(db)

    async with db.session() as session:
        first = await add(session, TARGET, {"n": 1}, idempotency_key="invoice-7-paid")
        again = await add(session, TARGET, {"n": 2}, idempotency_key="invoice-7-paid")
    async with db.session() as session:
        later = await add(session, TARGET, {"n": 3}, idempotency_key="invoice-7-paid")
    await settle(db)

    assert (first, again, later) == (True, False, False)
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert receiver.processed == {"invoice-7-paid": {"n": 1}}
    assert receiver.calls == {"invoice-7-paid": 1}


async def test_a_message_staged_on_the_drivers_connection_is_sent_once_after_commit(
    db: Database, receiver: Receiver, make_relay: Callable[..., OutboxRelay]
) -> None:
    """`add` in a transaction on the driver's connection: one delivery round after the commit
    for all its messages, the same key stored once, nothing for a rollback."""
    db.outbox_relay = make_relay(db)

    async with db.transaction() as transaction:
        first = await add(transaction, TARGET, {"n": 1}, "order-1-active")
        again = await add(transaction, TARGET, {"n": 2}, "order-1-active")
        await add(transaction, TARGET, {"n": 3}, "order-2-active")
        assert receiver.calls == {}  # not before the commit
    with pytest.raises(RuntimeError):
        async with db.transaction() as transaction:
            await add(transaction, TARGET, {"n": 4}, "order-3-active")
            raise RuntimeError("the activation failed to save")
    await settle(db)

    assert (first, again) == (True, False)
    assert receiver.processed == {"order-1-active": {"n": 1}, "order-2-active": {"n": 3}}
    assert receiver.calls == {"order-1-active": 1, "order-2-active": 1}
    stored = await messages(db)
    assert sorted(stored) == ["order-1-active", "order-2-active"]
    assert {(m.status, m.attempts) for m in stored.values()} == {(OutboxStatus.DELIVERED, 1)}
    with pytest.raises(ValueError, match="service:/path"):
        async with db.transaction() as transaction:
            await add(transaction, "notification/no-colon", {}, "bad-target")


async def test_message_is_dead_after_max_attempts_and_no_longer_sent(
    db: Database, receiver: Receiver, make_relay: Callable[..., OutboxRelay]
) -> None:
    relay = make_relay(db, base_delay_seconds=0.01, max_attempts=3)
    receiver.failures_left = 1000
    await add_messages(db, ["order-3-cancelled"])

    await relay_until_done(db, relay)
    await relay.deliver()

    message = (await messages(db))["order-3-cancelled"]
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 3)
    assert message.last_error is not None and message.last_error.startswith("HTTP 500")
    assert receiver.calls == {"order-3-cancelled": 3}
    assert receiver.processed == {}


async def test_the_post_commit_attempt_counts_towards_max_attempts(
    db: Database, receiver: Receiver, make_relay: Callable[..., OutboxRelay]
) -> None:
    db.outbox_relay = relay = make_relay(db, base_delay_seconds=0.01, max_attempts=2)
    receiver.failures_left = 1000

    await add_messages(db, ["order-4-cancelled"])
    await settle(db)
    after_commit_try = (await messages(db))["order-4-cancelled"]
    await relay_until_done(db, relay)

    assert (after_commit_try.status, after_commit_try.attempts) == (OutboxStatus.PENDING, 1)
    assert (after_commit_try.last_error or "").startswith("HTTP 500")
    message = (await messages(db))["order-4-cancelled"]
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 2)
    assert receiver.calls == {"order-4-cancelled": 2}


async def test_locking_a_message_being_sent_after_commit_waits_for_the_outcome(
    db: Database, database_url: str, receiver: Receiver, make_relay: Callable[..., OutboxRelay]
) -> None:
    """What order's invoice withdrawal relies on: a message found PENDING under lock was
    never sent, because a send in flight holds the row until its outcome is stored."""
    receiver.delay = 0.3
    db.outbox_relay = make_relay(db)
    other = Database(database_url)
    try:
        await add_messages(db, ["order-6-invoice"])
        while not receiver.calls:  # the send has started
            await asyncio.sleep(0.01)
        async with other.session() as session:
            locked = await session.scalar(
                select(OutboxMessage)
                .where(OutboxMessage.idempotency_key == "order-6-invoice")
                .with_for_update()
            )
            seen = (locked.status, locked.attempts) if locked else None
    finally:
        await settle(db)
        await other.dispose()

    assert seen == (OutboxStatus.DELIVERED, 1)


@pytest.mark.parametrize("unit", ["session", "driver transaction"])
async def test_following_a_message_gives_the_receivers_answer_after_commit(
    db: Database, receiver: Receiver, make_relay: Callable[..., OutboxRelay], unit: str
) -> None:
    db.outbox_relay = make_relay(db)

    async with db.session() if unit == "session" else db.transaction() as session:
        answer = await add_and_follow(session, TARGET, {"order": 7}, "order-7-invoice")
        assert answer is not None and not answer.done()  # nothing is sent before the commit
        again = await add_and_follow(session, TARGET, {"order": 7}, "order-7-invoice")
    answered = await asyncio.wait_for(answer, 5)
    await settle(db)

    assert again is None  # stored before: no second send to follow
    assert answered == {"duplicate": False}
    assert (await messages(db))["order-7-invoice"].status == OutboxStatus.DELIVERED


async def test_a_followed_send_that_fails_answers_none_and_stays_for_the_relay(
    db: Database, receiver: Receiver, make_relay: Callable[..., OutboxRelay]
) -> None:
    db.outbox_relay = relay = make_relay(db, base_delay_seconds=0.01)
    receiver.failures_left = 1

    async with db.session() as session:
        answer = await add_and_follow(session, TARGET, {"order": 8}, "order-8-invoice")
    assert answer is not None
    answered = await asyncio.wait_for(answer, 5)
    await settle(db)
    after_commit_try = (await messages(db))["order-8-invoice"]
    await relay_until_done(db, relay)

    assert answered is None
    assert (after_commit_try.status, after_commit_try.attempts) == (OutboxStatus.PENDING, 1)
    assert receiver.calls == {"order-8-invoice": 2}


async def test_nothing_to_follow_without_a_relay_sending_after_commit(db: Database) -> None:
    async with db.session() as session:
        answer = await add_and_follow(session, TARGET, {"order": 9}, "order-9-invoice")

    assert answer is None
    assert (await messages(db))["order-9-invoice"].status == OutboxStatus.PENDING


async def test_messages_to_different_services_go_out_together(
    db: Database, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    """An order's ORDER_CREATED must not hold up the invoice request a customer waits for."""
    receiver.delay = 0.5
    url = receiver.server.url
    sender = OutboxSender(http, {"notification": url, "billing": url})
    db.outbox_relay = OutboxRelay(db, sender)

    async with db.session() as session:
        await add(session, TARGET, {"n": 1}, "order-10-created")
        await add(session, "billing:/internal/events", {"n": 2}, "order-10-invoice")
    started = time.monotonic()
    await settle(db)
    elapsed = time.monotonic() - started

    assert sorted(receiver.processed) == ["order-10-created", "order-10-invoice"]
    assert elapsed < 0.9, f"sent one after the other ({elapsed:.2f} s)"


@pytest.mark.parametrize("status", [400, 409, 422])
async def test_a_message_the_receiver_refuses_for_good_is_dead_at_once(
    db: Database,
    receiver: Receiver,
    make_relay: Callable[..., OutboxRelay],
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db.outbox_relay = relay = make_relay(db, base_delay_seconds=0.01)
    receiver.failures_left, receiver.failure_status = 1000, status
    await add_messages(db, ["order-11-created"])  # sent after commit
    async with db.session() as session:  # left to the relay's round
        await add(session, TARGET, {"n": 2}, "order-12-created")
    await settle(db)
    await asyncio.sleep(0.05)
    await relay.deliver()
    await relay.deliver()

    stored = await messages(db)
    for key in ("order-11-created", "order-12-created"):
        assert (stored[key].status, stored[key].attempts) == (OutboxStatus.DEAD, 1)
        assert (stored[key].last_error or "").startswith(f"HTTP {status}")
    assert receiver.calls == {"order-11-created": 1, "order-12-created": 1}
    assert sum(r.message == "outbox message gave up" for r in caplog.records) == 2


@pytest.mark.parametrize("status", [401, 404, 429, 503])
async def test_a_refusal_that_can_pass_later_is_retried(
    db: Database, receiver: Receiver, make_relay: Callable[..., OutboxRelay], status: int
) -> None:
    """A key an operator will fix, a route not deployed yet, a receiver busy or down."""
    db.outbox_relay = relay = make_relay(db, base_delay_seconds=0.01)
    receiver.failures_left, receiver.failure_status = 2, status

    await add_messages(db, ["order-13-created"])
    await settle(db)
    await relay_until_done(db, relay)

    message = (await messages(db))["order-13-created"]
    assert (message.status, message.attempts) == (OutboxStatus.DELIVERED, 3)


def test_backoff_doubles_up_to_the_cap() -> None:
    relay = OutboxRelay(None, None, base_delay_seconds=1, max_delay_seconds=60)  # type: ignore[arg-type]

    delays = [relay.backoff(n) for n in (1, 2, 3, 10)]

    bounds = [(0.8, 1.2), (1.6, 2.4), (3.2, 4.8), (48, 72)]
    for delay, (low, high) in zip(delays, bounds, strict=True):
        assert timedelta(seconds=low) <= delay <= timedelta(seconds=high)
