"""Customer-visible events for the notification service, written to the outbox in the caller's
transaction. Data follow services/notification/notification_service/contracts.py."""

from __future__ import annotations

from typing import Any

from order_service.orders.models import Order
from webrana_common import outbox

TARGET = "notification:/internal/notifications/send"


async def notify(
    session: outbox.Unit, order: Order, event: str, data: dict[str, Any], key: str
) -> None:
    payload = {
        "event": event,
        "user_id": str(order.user_id),
        "data": data,
        "idempotency_key": key,
    }
    await outbox.add(session, TARGET, payload, key)


async def order_created(session: outbox.Unit, order: Order) -> None:
    data = {
        "order_id": str(order.id),
        "order_number": order.number,
        "plan_name": order.plan_name,
        "hostname": order.hostname,
        "billing_cycle": order.billing_cycle,
        "amount": order.amount,
        "payment_method": order.payment_method,
    }
    await notify(session, order, "ORDER_CREATED", data, f"order:order-created:{order.id}")


async def payment_confirmed(session: outbox.Unit, order: Order, *, method: str) -> None:
    """A wallet payment's: it has no invoice, so the order stands in for one. (An invoice's
    payment is announced by billing.)"""
    data = {
        "invoice_id": str(order.id),
        "invoice_number": order.number,
        "order_number": order.number,
        "amount": order.amount,
        "payment_method": method,
        "paid_at": (order.paid_at.isoformat() if order.paid_at else None),
    }
    await notify(session, order, "PAYMENT_CONFIRMED", data, f"order:payment-confirmed:{order.id}")


async def vps_active(session: outbox.Unit, order: Order) -> None:
    data = {
        "instance_id": str(order.instance_id),
        "hostname": order.hostname,
        "ip_address": order.ipv4,
        "ipv6_address": order.ipv6,
        "username": "root",
        "ssh_port": 22,
        # No password is ever stored or sent: SSH keys, or a reset from the instance page.
        "access": "ssh_key" if order.ssh_keys else "password_reset",
        "region": order.region,
        "plan_name": order.plan_name,
        "image": order.image,
        "order_number": order.number,
    }
    await notify(session, order, "VPS_ACTIVE", data, f"order:vps-active:{order.id}")


async def provisioning_failed(session: outbox.Unit, order: Order, attempt: int) -> None:
    data = {
        "order_id": str(order.id),
        "order_number": order.number,
        "hostname": order.hostname,
        "reason": (order.failure_reason or "")[:500] or None,
    }
    key = f"order:provisioning-failed:{order.id}:{attempt}"
    await notify(session, order, "PROVISIONING_FAILED", data, key)
