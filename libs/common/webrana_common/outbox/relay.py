from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from webrana_common.db.base import utcnow
from webrana_common.db.raw import RawTransaction, as_json
from webrana_common.db.session import Database, after_commit
from webrana_common.outbox.models import OutboxMessage, OutboxStatus

log = logging.getLogger("webrana.outbox")
_BATCH = "webrana_outbox_batch"


# What a message is stored in: a session's transaction, or one on the driver's connection.
Unit = AsyncSession | RawTransaction


@dataclass(frozen=True)
class Fresh:
    """A message just stored, as the committing process sends it (no need to read it back)."""

    id: uuid.UUID
    target: str
    payload: dict[str, Any]
    idempotency_key: str
    # Resolved with the receiver's JSON answer once it acknowledges the send after commit, or
    # with None when that send did not succeed (the relay goes on trying, as for any message).
    answer: asyncio.Future[Any] | None = None


async def add(
    session: Unit,
    target: str,
    payload: dict[str, Any],
    idempotency_key: str,
) -> bool:
    """Store a message in the caller's transaction (a session's, or one on the driver's
    connection: `Database.transaction()`); False when that key is already stored."""
    if isinstance(session, RawTransaction):
        return await _stage(session, target, payload, idempotency_key, None)
    return await _add(session, target, payload, idempotency_key, None)


async def add_and_follow(
    session: Unit, target: str, payload: dict[str, Any], idempotency_key: str
) -> asyncio.Future[Any] | None:
    """`add`, for a caller that wants the receiver's answer to the send right after commit
    (a created resource's id to show at once): a future of that JSON answer, or of None when
    that first send fails. None when the key was stored before or nothing sends after commit.
    The future never resolves if the transaction rolls back: wait on it with a timeout."""
    answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    if isinstance(session, RawTransaction):
        db = session.database
        stored = await _stage(session, target, payload, idempotency_key, answer)
    else:
        db = session.info.get("database")
        stored = await _add(session, target, payload, idempotency_key, answer)
    if stored and getattr(db, "outbox_relay", None) is not None:
        return answer
    return None


async def _add(
    session: AsyncSession,
    target: str,
    payload: dict[str, Any],
    idempotency_key: str,
    answer: asyncio.Future[Any] | None,
) -> bool:
    _check_target(target)
    db: Database | None = session.info.get("database")
    relay: OutboxRelay | None = getattr(db, "outbox_relay", None)
    message_id = await session.scalar(
        insert(OutboxMessage)
        .values(id=uuid.uuid4(), target=target, payload=payload, idempotency_key=idempotency_key)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage.id)
    )
    if message_id is None:
        return False
    if relay is not None:
        fresh = Fresh(message_id, target, payload, idempotency_key, answer)
        _deliver_after_commit(session, relay, fresh)
    return True


_INSERT_RAW = (
    "INSERT INTO outbox_messages (id, target, payload, idempotency_key, status, attempts,"
    " next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)


async def _stage(
    transaction: RawTransaction,
    target: str,
    payload: dict[str, Any],
    idempotency_key: str,
    answer: asyncio.Future[Any] | None,
) -> bool:
    _check_target(target)
    message_id = await transaction.connection.fetchval(
        _INSERT_RAW, uuid.uuid4(), target, as_json(payload), idempotency_key, utcnow()
    )
    if message_id is None:
        return False
    relay: OutboxRelay | None = getattr(transaction.database, "outbox_relay", None)
    if relay is not None:
        batch: list[Fresh] | None = transaction.info.get(_BATCH)
        if batch is None:
            batch = transaction.info[_BATCH] = []
            fresh = batch
            transaction.after_commit(lambda: relay.deliver_fresh(fresh))
        batch.append(Fresh(message_id, target, payload, idempotency_key, answer))
    return True


def _check_target(target: str) -> None:
    service, sep, path = target.partition(":")
    if not sep or not service or not path.startswith("/"):
        raise ValueError("outbox target must look like 'service:/path'")


def _deliver_after_commit(session: AsyncSession, relay: OutboxRelay, message: Fresh) -> None:
    """One delivery round per transaction (or savepoint), for all the messages it added."""
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    batch: tuple[Any, list[Fresh]] | None = session.info.get(_BATCH)
    if batch is not None and batch[0] is transaction:
        batch[1].append(message)
        return
    fresh = [message]
    session.info[_BATCH] = (transaction, fresh)
    after_commit(session, lambda: relay.deliver_fresh(fresh))


# Answers that say this message will never be taken, however often it is sent: a malformed
# or invalid payload, a conflict with what the receiver holds, something gone for good. Not
# 401/403 (a key an operator will fix), 404 (a route not deployed yet), 408/429 or 5xx.
PERMANENT_STATUS = frozenset({400, 409, 410, 413, 422})


class SendError(str):
    """Why a message was not acknowledged; `unreachable` when no connection was made,
    `permanent` when the receiver refused it for good (it is dead at once, not retried)."""

    unreachable: bool = False
    permanent: bool = False


def _unreachable(text: str) -> SendError:
    error = SendError(text)
    error.unreachable = True
    return error


class OutboxSender:
    """POSTs a message's payload to its target with its key as `Idempotency-Key`."""

    def __init__(self, http: httpx.AsyncClient, service_urls: Mapping[str, str]) -> None:
        self.http = http
        self.service_urls = service_urls

    async def send(self, message: OutboxMessage | Fresh) -> str | None:
        """None when acknowledged, else why it was not."""
        error, _ = await self.post(message)
        return error

    async def post(self, message: OutboxMessage | Fresh) -> tuple[str | None, Any]:
        """(None, the JSON answer or None when it is not JSON) when acknowledged; (why, None)
        when not."""
        service, _, path = message.target.partition(":")
        base = self.service_urls.get(service)
        if base is None:
            return f"unknown target service {service!r}", None
        try:
            response = await self.http.post(
                base.rstrip("/") + path,
                json=message.payload,
                headers={"Idempotency-Key": message.idempotency_key},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return _unreachable(f"{type(exc).__name__}: {exc}"[:500]), None
        except httpx.HTTPError as exc:
            return SendError(f"{type(exc).__name__}: {exc}"[:500]), None
        if not response.is_success:
            error = SendError(f"HTTP {response.status_code}: {response.text[:300]}")
            error.permanent = response.status_code in PERMANENT_STATUS
            return error, None
        try:
            return None, response.json()
        except ValueError:
            return None, None


_PENDING = (
    select(OutboxMessage)
    .where(OutboxMessage.status == OutboxStatus.PENDING)
    .order_by(OutboxMessage.next_attempt_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
# Built once: a delivery round follows every commit that added a message, and building and
# keying the statement each time cost more than running it.
_BY_IDS = _PENDING.where(OutboxMessage.id.in_(bindparam("ids", expanding=True)))
_DUE = _PENDING.where(OutboxMessage.next_attempt_at <= bindparam("now"))
# deliver_fresh's statements, on the driver's connection (webrana_common.db.raw). Only a
# message still pending is touched: an operator may have marked it meanwhile.
_LOCK_FRESH = (
    "SELECT id FROM outbox_messages WHERE id = ANY($1::uuid[]) AND status = 'pending'"
    " FOR UPDATE SKIP LOCKED"
)
_ACKNOWLEDGED = (
    "UPDATE outbox_messages SET status = 'delivered', attempts = attempts + 1,"
    " delivered_at = $2, last_error = NULL WHERE id = ANY($1::uuid[]) AND status = 'pending'"
)
_HELD = (
    "UPDATE outbox_messages SET next_attempt_at = $2, last_error = $3"
    " WHERE id = $1 AND status = 'pending'"
)
# Dead once attempts reach $4 (1 for a permanent refusal: at once).
_NOT_ACKNOWLEDGED = (
    "UPDATE outbox_messages SET attempts = attempts + 1, last_error = $3, next_attempt_at = $2,"
    " status = CASE WHEN attempts + 1 >= $4 THEN 'dead' ELSE status END"
    " WHERE id = $1 AND status = 'pending'"
)


def _permanent(error: str) -> bool:
    return bool(getattr(error, "permanent", False))


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        sender: OutboxSender,
        *,
        batch_size: int = 50,
        base_delay_seconds: float = 1.0,
        max_delay_seconds: float = 600.0,
        max_attempts: int = 25,
    ) -> None:
        self.db = db
        self.sender = sender
        self.batch_size = batch_size
        self.base_delay = base_delay_seconds
        self.max_delay = max_delay_seconds
        self.max_attempts = max_attempts
        # A service that refused a connection is left alone until then (monotonic seconds),
        # with the backoff of its consecutive refusals: one probe a window, not one attempt
        # per waiting message (a service not deployed yet would get thousands a minute).
        self._held: dict[str, tuple[float, int, str]] = {}

    def backoff(self, attempts: int) -> timedelta:
        delay = min(self.max_delay, self.base_delay * 2 ** max(0, attempts - 1))
        return timedelta(seconds=delay * random.uniform(0.8, 1.2))

    async def deliver(self, ids: list[uuid.UUID] | None = None) -> int:
        """Send due messages (or just `ids`, due or not); returns how many were acknowledged.

        Rows are locked `FOR UPDATE SKIP LOCKED` for the whole send, so a second relay (or the
        post-commit delivery racing the cron) passes over them instead of sending them again.
        Never raises: the relay runs again on the next cron tick.
        """
        delivered = 0
        try:
            if ids is None:
                return await self._deliver_batch(None)
            for start in range(0, len(ids), self.batch_size):
                delivered += await self._deliver_batch(ids[start : start + self.batch_size])
        except Exception:
            log.exception("outbox relay round failed")
        return delivered

    async def deliver_fresh(self, messages: list[Fresh]) -> int:
        """Send messages this process just committed, with the payloads it still holds: the
        rows are locked (FOR UPDATE SKIP LOCKED, as `deliver` does, so the cron passes over them
        and a reader locking one waits for the send) but not loaded, and the outcome is written
        with plain UPDATEs: the ORM's load and flush were most of a delivery's cost. Messages
        to different services go out at once, those to one service one after the other (a
        refusing service is then tried once per round). Never raises: what is left pending is
        the cron's."""
        delivered: list[uuid.UUID] = []
        try:
            async with self.db.driver() as connection, connection.transaction():
                ids = [m.id for m in messages]
                locked = {row[0] for row in await connection.fetch(_LOCK_FRESH, ids)}
                # Not locked: the cron is on it, or it was settled (withdrawn) meanwhile.
                by_service: dict[str, list[Fresh]] = {}
                for message in messages:
                    if message.id in locked:
                        by_service.setdefault(message.target.partition(":")[0], []).append(message)
                rounds = await asyncio.gather(
                    *(self._post_in_turn(service, group) for service, group in by_service.items())
                )
                for message, outcome in (pair for done in rounds for pair in done):
                    if outcome is None:
                        delivered.append(message.id)
                    else:
                        await connection.execute(*outcome)
                if delivered:
                    await connection.execute(_ACKNOWLEDGED, delivered, utcnow())
        except Exception:
            log.exception("outbox delivery after commit failed; the relay cron will retry")
        finally:
            for message in messages:  # whoever follows one must not wait past this round
                if message.answer is not None and not message.answer.done():
                    message.answer.set_result(None)
        return len(delivered)

    async def _post_in_turn(
        self, service: str, group: list[Fresh]
    ) -> list[tuple[Fresh, tuple[Any, ...] | None]]:
        """Each message with None when acknowledged, or the statement (and its arguments)
        recording why not."""
        done: list[tuple[Fresh, tuple[Any, ...] | None]] = []
        for message in group:
            window = self._held_window(service)
            if window is not None:
                retry_at, reason = window
                done.append((message, (_HELD, message.id, retry_at, reason)))
                continue
            try:
                error, answer = await self.sender.post(message)
            except Exception as exc:
                error, answer = f"{type(exc).__name__}: {exc}"[:500], None
            self._note_reachability(service, error)
            if error is None:
                # Answered now, not after the UPDATE: a caller following it waits no longer.
                if message.answer is not None and not message.answer.done():
                    message.answer.set_result(answer)
                done.append((message, None))
                continue
            self._log_failure(message.target, message.idempotency_key, 1, error)
            retry_at = utcnow() + self.backoff(1)
            max_attempts = 1 if _permanent(error) else self.max_attempts
            outcome = (_NOT_ACKNOWLEDGED, message.id, retry_at, str(error), max_attempts)
            done.append((message, outcome))
        return done

    async def _deliver_batch(self, ids: list[uuid.UUID] | None) -> int:
        delivered = 0
        async with self.db.session() as session:
            if ids is not None:
                rows = await session.scalars(_BY_IDS, {"ids": ids, "limit": self.batch_size})
            else:
                rows = await session.scalars(_DUE, {"now": utcnow(), "limit": self.batch_size})
            for message in rows.all():
                service = message.target.partition(":")[0]
                if self._hold(message, service):
                    continue
                try:
                    error = await self.sender.send(message)
                except Exception as exc:
                    # One bad message must not roll back the outcome of the others.
                    error = f"{type(exc).__name__}: {exc}"[:500]
                self._note_reachability(service, error)
                self._record(message, error)
                delivered += error is None
        return delivered

    def _hold(self, message: OutboxMessage, service: str) -> bool:
        """Whether `message` waits for its held service (not counted as an attempt)."""
        window = self._held_window(service)
        if window is None:
            return False
        message.next_attempt_at, message.last_error = window
        return True

    def _held_window(self, service: str) -> tuple[datetime, str] | None:
        """(when to try again, why not now) while `service` is held for refusing connections;
        None once its window is over (the next message is the probe)."""
        held = self._held.get(service)
        if held is None:
            return None
        remaining = held[0] - time.monotonic()
        if remaining <= 0:
            return None
        reason = f"not sent: {service} refused connections ({held[2]})"[:500]
        return utcnow() + timedelta(seconds=remaining), reason

    def _note_reachability(self, service: str, error: str | None) -> None:
        if not getattr(error, "unreachable", False):
            self._held.pop(service, None)
            return
        refusals = self._held.get(service, (0.0, 0, ""))[1] + 1
        delay = self.backoff(refusals).total_seconds()
        self._held[service] = (time.monotonic() + delay, refusals, str(error)[:200])

    def _record(self, message: OutboxMessage, error: str | None) -> None:
        message.attempts += 1
        if error is None:
            message.status = OutboxStatus.DELIVERED
            message.delivered_at = utcnow()
            message.last_error = None
            return
        message.last_error = error
        self._log_failure(message.target, message.idempotency_key, message.attempts, error)
        if self._gives_up(message.attempts, error):
            message.status = OutboxStatus.DEAD
            return
        message.next_attempt_at = utcnow() + self.backoff(message.attempts)

    def _gives_up(self, attempts: int, error: str) -> bool:
        return attempts >= self.max_attempts or _permanent(error)

    def _log_failure(self, target: str, key: str, attempts: int, error: str) -> None:
        if self._gives_up(attempts, error):
            log.error(
                "outbox message gave up",
                extra={"target": target, "key": key, "error": error},
            )
        else:
            log.warning(
                "outbox delivery failed, will retry",
                extra={"target": target, "attempt": attempts, "error": error},
            )


async def relay_outbox(ctx: dict[str, Any]) -> int:
    """arq job `outbox.relay`: one round over every due message."""
    relay: OutboxRelay = ctx["outbox_relay"]
    return await relay.deliver()
