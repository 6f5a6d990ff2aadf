"""The provisioning worker against the real provider service and its DigitalOcean stand-in."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import httpx
from order_helpers import Cloud, FlakyProxy, Fleet, order_body
from sqlalchemy import select

from order_service.context import OrderContext
from order_service.orders.models import Order, OrderEvent
from order_service.provisioning.models import ProvisioningTask
from order_service.provisioning.service import provision_order, resume_stalled
from webrana_common.db.session import Database
from webrana_common.outbox.models import OutboxMessage
from webrana_common.testing.live_server import LiveServer

Customer = tuple[uuid.UUID, dict[str, str]]


async def paid_order(
    client: httpx.AsyncClient, customer: Customer, fleet: Fleet, plan_id: str, **kw: Any
) -> uuid.UUID:
    fleet.balances[str(customer[0])] = 100_000_000
    body = order_body(plan_id, payment="wallet", **kw)
    response = await client.post("/api/v1/orders", json=body, headers=customer[1])
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "PAID"
    return uuid.UUID(response.json()["id"])


async def load(db: Database, order_id: uuid.UUID) -> tuple[Order, ProvisioningTask | None]:
    async with db.session() as session:
        order = await session.get(Order, order_id)
        task = await session.get(ProvisioningTask, order_id)
        assert order is not None
        return order, task


async def test_paid_order_becomes_active_with_an_ip(
    client: httpx.AsyncClient,
    customer: Customer,
    fleet: Fleet,
    plans: dict[str, str],
    cloud: Cloud,
    worker: OrderContext,
    db: Database,
) -> None:
    order_id = await paid_order(
        client,
        customer,
        fleet,
        plans["do-1c-1gb"],
        ssh_keys=[
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk2ZcVn0kHq0m8fQ3pGk7J1r6y2Y1o3x8Lk0n5m4p2Q budi"
        ],
    )
    assert await provision_order(worker, order_id) == "ACTIVE"
    order, _ = await load(db, order_id)
    servers = cloud.servers()
    assert len(servers) == 1
    assert order.ipv4 and order.provider_instance_id == str(servers[0]["id"])
    await worker.db.wait_for_background()
    active = fleet.events("VPS_ACTIVE")
    assert active[0]["data"]["ip_address"] == order.ipv4
    assert active[0]["data"]["instance_id"] == str(order.instance_id)
    assert active[0]["data"]["access"] == "ssh_key"
    # The instance service is not there yet: the registration waits in the outbox.
    registered = fleet.to("/internal/instances")
    assert registered and registered[0]["provider_instance_id"] == order.provider_instance_id
    async with db.session() as session:
        held = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.target == "instance:/internal/instances")
            )
        ).one()
    assert held.status == "pending" and held.attempts == 1
    fleet.instance_up = True
    assert await worker.db.outbox_relay.deliver([held.id]) == 1


async def test_provider_failing_its_first_three_calls_still_ends_active(
    client: httpx.AsyncClient,
    customer: Customer,
    fleet: Fleet,
    plans: dict[str, str],
    cloud: Cloud,
    worker: OrderContext,
    db: Database,
) -> None:
    order_id = await paid_order(client, customer, fleet, plans["do-1c-1gb"])
    cloud.fault(kind="error", status=503, count=3)
    assert await provision_order(worker, order_id) == "ACTIVE"
    assert len(cloud.servers()) == 1
    assert cloud.call("GET", "/faults")["faults"] == []


async def test_provider_service_failing_its_first_three_answers_still_ends_active(
    client: httpx.AsyncClient,
    customer: Customer,
    fleet: Fleet,
    plans: dict[str, str],
    cloud: Cloud,
    worker: OrderContext,
    db: Database,
    provider: str,
) -> None:
    """The worker's own retries: the provider service itself answers 503 three times."""
    order_id = await paid_order(client, customer, fleet, plans["do-1c-1gb"])
    proxy = FlakyProxy(provider, failures=3)
    with LiveServer(proxy.app()) as server:
        flaky = dataclasses.replace(
            worker, settings=worker.settings.model_copy(update={"provider_url": server.url})
        )
        assert await provision_order(flaky, order_id) == "ACTIVE"
    assert [status for _, status in proxy.seen[:4]] == [503, 503, 503, 202]
    assert len(cloud.servers()) == 1
    _, task = await load(db, order_id)
    assert task is not None and task.calls >= 4


async def test_permanent_failure_then_admin_retry_ends_active(
    client: httpx.AsyncClient,
    customer: Customer,
    fleet: Fleet,
    plans: dict[str, str],
    cloud: Cloud,
    worker: OrderContext,
    db: Database,
    admin: dict[str, str],
    settled,
) -> None:
    order_id = await paid_order(client, customer, fleet, plans["do-1c-1gb"])
    cloud.configure(creation_failure="reject")
    assert await provision_order(worker, order_id) == "PROVISIONING_FAILED"
    order, _ = await load(db, order_id)
    assert "capacity" in (order.failure_reason or "").lower()
    await worker.db.wait_for_background()
    failed = fleet.events("PROVISIONING_FAILED")
    assert failed[0]["data"]["reason"] == order.failure_reason

    cloud.configure(creation_failure=None)
    path = f"/api/v1/admin/orders/{order_id}/retry-provisioning"
    response = await client.post(path, json={"reason": "capacity is back"}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "PROVISIONING"
    await settled()
    assert await provision_order(worker, order_id) == "ACTIVE"
    order, task = await load(db, order_id)
    assert task is not None and task.attempt == 2 and task.idempotency_key == f"{order_id}-r2"
    assert len(cloud.servers()) == 1
    detail = (await client.get(f"/api/v1/admin/orders/{order_id}", headers=admin)).json()
    statuses = [e["to_status"] for e in detail["timeline"] if e["action"] == "status_changed"]
    assert statuses == ["PAID", "PROVISIONING", "PROVISIONING_FAILED", "PROVISIONING", "ACTIVE"]
    retry = next(e for e in detail["timeline"] if e["reason"] == "capacity is back")
    assert retry["actor"].startswith("admin:")


async def test_restarted_worker_resumes_without_a_second_server(
    client: httpx.AsyncClient,
    customer: Customer,
    fleet: Fleet,
    plans: dict[str, str],
    cloud: Cloud,
    worker: OrderContext,
    db: Database,
) -> None:
    order_id = await paid_order(client, customer, fleet, plans["do-1c-1gb"])
    cloud.configure(boot_delay=1.0)
    job = asyncio.create_task(provision_order(worker, order_id))
    for _ in range(200):
        _, task = await load(db, order_id)
        if task is not None and task.provider_instance_id:
            break
        await asyncio.sleep(0.02)
    job.cancel()  # killed mid-way: the lease it holds is not given back
    assert await provision_order(worker, order_id) == "skipped: another job holds it"
    # As if the worker had died before storing the server: the same key gets the same one.
    async with db.session() as session:
        task = await session.get(ProvisioningTask, order_id)
        assert task is not None
        task.state, task.provider_instance_id = "requesting", None
    await asyncio.sleep(0.6)  # the dead job's lease runs out
    assert await provision_order(worker, order_id) == "ACTIVE"
    assert len(cloud.servers()) == 1
    async with db.session() as session:
        requested = (
            await session.scalars(
                select(OrderEvent).where(
                    OrderEvent.order_id == order_id, OrderEvent.action == "server_requested"
                )
            )
        ).all()
    assert [e.data["replayed"] for e in requested] == [False, True]


async def test_deadline_fails_the_order(
    client: httpx.AsyncClient,
    customer: Customer,
    fleet: Fleet,
    plans: dict[str, str],
    cloud: Cloud,
    worker: OrderContext,
    db: Database,
) -> None:
    order_id = await paid_order(client, customer, fleet, plans["do-1c-1gb"])
    cloud.configure(boot_delay=30.0)
    hurried = dataclasses.replace(
        worker, settings=worker.settings.model_copy(update={"provisioning_deadline_seconds": 0.5})
    )
    assert await provision_order(hurried, order_id) == "PROVISIONING_FAILED"
    order, _ = await load(db, order_id)
    assert order.failure_reason == "The server did not become active in time"


async def test_resume_cron_enqueues_paid_orders_nobody_works_on(
    client: httpx.AsyncClient,
    customer: Customer,
    fleet: Fleet,
    plans: dict[str, str],
    worker: OrderContext,
    app,
    redis_url: str,
) -> None:
    order_id = await paid_order(client, customer, fleet, plans["do-1c-1gb"])
    with_queue = dataclasses.replace(worker, arq=app.state.arq)
    assert await resume_stalled(with_queue) == 1
    queued = await app.state.arq.zrange("arq:order", 0, -1)
    assert any(str(order_id) in q.decode() and ":resume:" in q.decode() for q in queued)


async def test_the_arq_worker_runs_the_job_the_api_enqueued(
    client: httpx.AsyncClient,
    customer: Customer,
    fleet: Fleet,
    plans: dict[str, str],
    cloud: Cloud,
    settings,
    settled,
    db: Database,
) -> None:
    from arq.worker import Worker

    from order_service import worker as order_worker

    order_id = await paid_order(client, customer, fleet, plans["do-1c-1gb"])
    await settled()  # the enqueue runs after commit

    async def startup(ctx: dict[str, Any]) -> None:
        await order_worker.startup(ctx, settings)

    runner = Worker(
        functions=order_worker.WorkerSettings.functions,
        queue_name=order_worker.WorkerSettings.queue_name,
        redis_settings=order_worker.arq_redis_settings(settings.redis_url),
        on_startup=startup,
        on_shutdown=order_worker.shutdown,
        burst=True,
        poll_delay=0.05,
        handle_signals=False,
    )
    try:
        await runner.main()
    finally:
        await runner.close()
    order, _ = await load(db, order_id)
    assert order.status == "ACTIVE" and runner.jobs_complete == 1
    assert len(cloud.servers()) == 1
