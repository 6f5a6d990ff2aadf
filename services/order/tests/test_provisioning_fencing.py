"""A provisioning job that outlived its attempt (its lease ran out while it still ran, or an
admin retry started the next attempt) settles nothing: it cannot activate the order with the
old attempt's server, fail the new attempt, or keep renewing the new attempt's lease."""

from __future__ import annotations

import httpx
from order_helpers import Cloud, Fleet
from test_provisioning import Customer, load, paid_order

from order_service.context import OrderContext
from order_service.provisioning import service
from webrana_common.db.session import Database


async def test_a_job_of_an_earlier_attempt_changes_nothing(
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
    assert await service.provision_order(worker, order_id) == "PROVISIONING_FAILED"
    _, stale = await load(db, order_id)  # what the attempt-1 job holds
    assert stale is not None and stale.attempt == 1
    cloud.configure(creation_failure=None)
    path = f"/api/v1/admin/orders/{order_id}/retry-provisioning"
    response = await client.post(path, json={"reason": "capacity is back"}, headers=admin)
    assert response.status_code == 200, response.text
    await settled()
    _, fresh = await load(db, order_id)
    assert fresh is not None

    # The attempt-1 job wakes up and carries on.
    await service._note(worker, order_id, stale, "late error")
    activated = await service._activate(
        worker, order_id, stale, {"status": "ACTIVE", "ipv4": "203.0.113.99"}
    )
    failed = await service._fail(worker, order_id, stale, "late failure")

    assert activated.startswith("superseded") and failed.startswith("superseded")
    order, task = await load(db, order_id)
    assert order.status == "PROVISIONING" and order.ipv4 is None
    assert task is not None and task.attempt == 2
    assert (task.calls, task.last_error, task.lease_until) == (
        fresh.calls,
        fresh.last_error,
        fresh.lease_until,
    )
    # The attempt that replaced it still ends as it should, with one server.
    assert await service.provision_order(worker, order_id) == "ACTIVE"
    order, _ = await load(db, order_id)
    assert order.ipv4 != "203.0.113.99" and len(cloud.servers()) == 1
