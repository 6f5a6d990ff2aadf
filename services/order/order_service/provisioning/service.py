"""Provisioning an order's server: ask the provider service for it (the order id is the
idempotency key, so a resumed or duplicated job gets the same server back), poll it until it is
active, then activate the order. Every step is stored, so a worker killed anywhere resumes from
the stored state; the deadline is stored too and survives restarts."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from order_service import notifications
from order_service.clients import ProviderPermanent, ProviderTransient
from order_service.context import OrderContext
from order_service.errors import OrderNotRetryable
from order_service.orders import repository as orders
from order_service.orders import transitions
from order_service.orders.models import Order, OrderStatus
from order_service.provisioning import queue
from order_service.provisioning import repository as tasks
from order_service.provisioning.models import ProvisioningTask, TaskState
from webrana_common import outbox
from webrana_common.db.base import utcnow

log = logging.getLogger("order.provisioning")
ACTOR = "worker"
INSTANCE_TARGET = "instance:/internal/instances"


def attempt_key(order_id: uuid.UUID, attempt: int) -> str:
    return str(order_id) if attempt == 1 else f"{order_id}-r{attempt}"


def new_task(ctx: OrderContext, order: Order, attempt: int) -> ProvisioningTask:
    return ProvisioningTask(
        order_id=order.id,
        attempt=attempt,
        idempotency_key=attempt_key(order.id, attempt),
        state=TaskState.REQUESTING,
        deadline_at=utcnow() + timedelta(seconds=ctx.settings.provisioning_deadline_seconds),
        calls=0,
    )


async def _claim(ctx: OrderContext, order_id: uuid.UUID) -> tuple[ProvisioningTask, Order] | str:
    """Take the order for this job (PAID → PROVISIONING on the first run): its task and order as
    stored, which this job then keeps in memory while it holds the lease; the reason to skip it
    otherwise.

    The worker's steps run on the driver's connection (webrana_common.db.raw): through the
    ORM they were most of its CPU per order."""
    async with ctx.db.transaction() as transaction:
        connection = transaction.connection
        order = await orders.lock_row(connection, order_id)
        if order is None:
            return "unknown order"
        task = await tasks.lock_row(connection, order_id)
        created = False
        if order.status == OrderStatus.PAID:
            await transitions.move_now(
                transaction,
                order,
                OrderStatus.PROVISIONING,
                actor=ACTOR,
                reason="provisioning started",
            )
            if task is None:
                task, created = new_task(ctx, order, attempt=1), True
        elif order.status != OrderStatus.PROVISIONING or task is None:
            return f"order is {order.status}"
        if task.state not in (TaskState.REQUESTING, TaskState.POLLING):
            return f"task is {task.state}"
        now = utcnow()
        if task.lease_until is not None and task.lease_until > now:
            return "another job holds it"
        task.lease_until = _lease(ctx, now)
        if created:
            await tasks.insert_row(connection, task, now)
        else:
            await tasks.save(connection, order_id, now, lease_until=task.lease_until)
    return task, order


async def provision_order(ctx: OrderContext, order_id: uuid.UUID) -> str:
    """Job `orders.provision`: the order's final status, or why nothing was done."""
    claimed = await _claim(ctx, order_id)
    if isinstance(claimed, str):
        log.info("provisioning skipped", extra={"order_id": str(order_id), "why": claimed})
        return f"skipped: {claimed}"
    # Not reloaded per round: while the lease is held nobody else moves this task, and every
    # step below stores what it changes before the next one relies on it.
    task, order = claimed
    retry_wait = ctx.settings.provisioning_retry_initial_seconds
    poll_wait = ctx.settings.provisioning_poll_initial_seconds
    while True:
        remaining = (task.deadline_at - utcnow()).total_seconds()
        if remaining <= 0:
            return await _fail(ctx, order_id, task, "The server did not become active in time")
        try:
            if task.state == TaskState.REQUESTING:
                await _request(ctx, order, task)
                continue
            instance = await ctx.provider.instance(order.provider, task.provider_instance_id or "")
        except ProviderTransient as exc:
            await _note(ctx, order_id, task, str(exc))
            await asyncio.sleep(min(retry_wait, remaining))
            retry_wait = min(retry_wait * 2, ctx.settings.provisioning_retry_max_seconds)
            continue
        except ProviderPermanent as exc:
            return await _fail(ctx, order_id, task, exc.reason)
        retry_wait = ctx.settings.provisioning_retry_initial_seconds
        status = instance.get("status")
        if status == "ACTIVE" and instance.get("ipv4"):
            return await _activate(ctx, order_id, task, instance)
        if status in ("ERROR", "TERMINATED"):
            reason = f"The server could not be built ({instance.get('provider_status')})"
            return await _fail(ctx, order_id, task, reason)
        await _note(ctx, order_id, task, None)
        await asyncio.sleep(min(poll_wait, remaining))
        poll_wait = min(poll_wait * 1.5, ctx.settings.provisioning_poll_max_seconds)


def _provision_body(order: Order, task: ProvisioningTask) -> dict[str, Any]:
    return {
        "idempotency_key": task.idempotency_key,
        "provider": order.provider,
        "region": order.provider_region,
        "size": order.provider_size,
        "image": order.provider_image,
        "hostname": order.hostname,
        "ssh_keys": order.ssh_keys,
        "tags": ["webrana", f"ord-{order.number}"],
    }


async def _request(ctx: OrderContext, order: Order, task: ProvisioningTask) -> None:
    timeout = ctx.settings.provisioning_call_timeout_seconds
    answer = await ctx.provider.provision(_provision_body(order, task), wait_seconds=timeout)
    # Stored at once: from here on a restart polls this server instead of asking again (and if
    # this commit is lost, asking again with the same key returns the same server).
    task.provider_instance_id = str(answer["provider_instance_id"])
    task.state = TaskState.POLLING
    now = utcnow()
    async with ctx.db.driver() as connection:
        # One statement: the task and its timeline entry together, no transaction needed.
        await transitions.record_now(
            connection,
            order.id,
            "server_requested",
            actor=ACTOR,
            now=now,
            data={
                "attempt": task.attempt,
                "provider_instance_id": task.provider_instance_id,
                "replayed": bool(answer.get("replayed")),
            },
            along=(
                _REQUESTED,
                [order.id, task.provider_instance_id, _lease(ctx, now), now, task.attempt],
            ),
        )


# Every write of a job names its attempt: a job that outlived its lease (or an admin's retry,
# which starts the next attempt) changes nothing of the attempt that replaced it.
_REQUESTED = (
    "UPDATE provisioning_tasks SET provider_instance_id = $2, state = 'polling',"
    " calls = calls + 1, last_error = NULL, lease_until = $3, updated_at = $4"
    " WHERE order_id = $1 AND attempt = $5"
)
# One statement, so no transaction: a failed or unanswered call, the lease renewed.
_NOTED = (
    "UPDATE provisioning_tasks SET calls = calls + 1, last_error = COALESCE($2, last_error),"
    " lease_until = $3, updated_at = $4 WHERE order_id = $1 AND attempt = $5"
)


def _lease(ctx: OrderContext, now: datetime) -> datetime:
    return now + timedelta(seconds=ctx.settings.provisioning_lease_seconds)


async def _note(
    ctx: OrderContext, order_id: uuid.UUID, task: ProvisioningTask, error: str | None
) -> None:
    if error is not None:
        error = error[:1000]
        log.warning(
            "provider call failed, retrying", extra={"order_id": str(order_id), "error": error}
        )
    now = utcnow()
    async with ctx.db.driver() as connection:
        await connection.execute(_NOTED, order_id, error, _lease(ctx, now), now, task.attempt)


def _superseded(order: Order, stored: ProvisioningTask, mine: ProvisioningTask) -> str | None:
    """Why this job may no longer settle the order, if it may not."""
    if order.status != OrderStatus.PROVISIONING or stored.attempt != mine.attempt:
        return f"superseded: order is {order.status}, attempt {stored.attempt}"
    if stored.state not in (TaskState.REQUESTING, TaskState.POLLING):
        return f"superseded: task is {stored.state}"
    return None


async def _activate(
    ctx: OrderContext, order_id: uuid.UUID, mine: ProvisioningTask, instance: dict[str, Any]
) -> str:
    async with ctx.db.transaction() as transaction:
        order = await orders.lock_row(transaction.connection, order_id)
        task = await tasks.lock_row(transaction.connection, order_id)
        assert order is not None and task is not None
        if (why := _superseded(order, task, mine)) is not None:
            log.warning("activation skipped", extra={"order_id": str(order_id), "why": why})
            return why
        now = utcnow()
        await transitions.move_now(
            transaction,
            order,
            OrderStatus.ACTIVE,
            actor=ACTOR,
            reason="server active",
            data={"provider_instance_id": task.provider_instance_id, "ipv4": instance.get("ipv4")},
            provider_instance_id=task.provider_instance_id,
            ipv4=instance.get("ipv4"),
            ipv6=instance.get("ipv6"),
            activated_at=now,
            failure_reason=None,
        )
        await tasks.save(
            transaction.connection, order_id, now, state=str(TaskState.DONE), lease_until=None
        )
        await _register_instance(transaction, order)
        await notifications.vps_active(transaction, order)
        return str(order.status)


async def _register_instance(session: outbox.Unit, order: Order) -> None:
    """Held in the outbox until the instance service acknowledges it (it may not run yet)."""
    activated = order.activated_at or utcnow()
    payload = {
        "id": str(order.instance_id),
        "order_id": str(order.id),
        "order_number": order.number,
        "user_id": str(order.user_id),
        "provider": order.provider,
        "provider_instance_id": order.provider_instance_id,
        "hostname": order.hostname,
        "plan_id": str(order.plan_id),
        "plan_slug": order.plan_slug,
        "plan_name": order.plan_name,
        "region": order.region,
        "provider_region": order.provider_region,
        "image": order.image,
        "provider_image": order.provider_image,
        "ipv4": order.ipv4,
        "ipv6": order.ipv6,
        "billing_cycle": order.billing_cycle,
        "months": order.months,
        "amount": order.amount,
        "activated_at": activated.isoformat(),
    }
    await outbox.add(session, INSTANCE_TARGET, payload, f"order:instance:{order.id}")


async def _fail(ctx: OrderContext, order_id: uuid.UUID, mine: ProvisioningTask, reason: str) -> str:
    async with ctx.db.session() as session:
        order = await orders.get(session, order_id, lock=True)
        stored = await tasks.get(session, order_id, lock=True)
        assert order is not None and stored is not None
        if (why := _superseded(order, stored, mine)) is not None:
            log.warning("failure skipped", extra={"order_id": str(order_id), "why": why})
            return why
        order.failure_reason = reason[:500]
        if stored.provider_instance_id:
            order.provider_instance_id = stored.provider_instance_id
        transitions.move(
            session,
            order,
            OrderStatus.PROVISIONING_FAILED,
            actor=ACTOR,
            reason=reason[:500],
            data={"attempt": stored.attempt, "last_error": stored.last_error},
        )
        stored.state = TaskState.FAILED
        stored.lease_until = None
        await notifications.provisioning_failed(session, order, stored.attempt)
    log.warning("provisioning failed", extra={"order_id": str(order_id), "reason": reason})
    return OrderStatus.PROVISIONING_FAILED.value


async def retry(
    session: AsyncSession, ctx: OrderContext, order: Order, *, actor: str, reason: str
) -> None:
    """Admin retry of a failed order: a new attempt under a new idempotency key."""
    if order.status != OrderStatus.PROVISIONING_FAILED:
        raise OrderNotRetryable(f"Order {order.number} is {order.status}")
    if order.refunded_amount > 0:
        # A refund stays PROVISIONING_FAILED: the money went back, a server would be free.
        raise OrderNotRetryable(
            f"Order {order.number} was refunded (Rp {order.refunded_amount} to the wallet)",
            refunded_amount=order.refunded_amount,
        )
    task = await tasks.get(session, order.id, lock=True)
    attempt = (task.attempt if task else 0) + 1
    transitions.move(
        session,
        order,
        OrderStatus.PROVISIONING,
        actor=actor,
        reason=reason,
        data={"attempt": attempt},
    )
    fresh = new_task(ctx, order, attempt)
    if task is None:
        session.add(fresh)
    else:
        for field in ("attempt", "idempotency_key", "state", "deadline_at", "calls"):
            setattr(task, field, getattr(fresh, field))
        task.provider_instance_id = None
        task.lease_until = None
        task.last_error = None
    order.failure_reason = None
    queue.enqueue_after_commit(session, ctx.arq, order.id, attempt)


async def resume_stalled(ctx: OrderContext) -> int:
    """Cron `orders.resume_provisioning`: enqueue every order a dead worker left behind."""
    async with ctx.db.session() as session:
        found = await tasks.stalled(session, utcnow())
    if ctx.arq is None:
        return 0
    stamp = int(utcnow().timestamp())
    for order_id, attempt in found:
        await ctx.arq.enqueue_job(
            queue.PROVISION_JOB,
            str(order_id),
            _job_id=f"{queue.job_id(order_id, attempt)}:resume:{stamp}",
        )
    return len(found)
