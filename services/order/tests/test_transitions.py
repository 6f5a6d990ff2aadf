from __future__ import annotations

import itertools
import uuid

import pytest

from order_service.errors import IllegalTransition
from order_service.orders import transitions
from order_service.orders.models import Order, OrderStatus

S = OrderStatus
LEGAL = {
    (S.PENDING_PAYMENT, S.PAID),
    (S.PENDING_PAYMENT, S.CANCELLED),
    (S.PENDING_PAYMENT, S.EXPIRED),
    (S.PAID, S.PROVISIONING),
    (S.PROVISIONING, S.ACTIVE),
    (S.PROVISIONING, S.PROVISIONING_FAILED),
    (S.PROVISIONING_FAILED, S.PROVISIONING),
    (S.PROVISIONING_FAILED, S.CANCELLED),
}


class FakeSession:
    """Collects what `move` adds; the table itself needs no database."""

    def __init__(self) -> None:
        self.added: list[object] = []

    def add(self, thing: object) -> None:
        self.added.append(thing)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_transition_table_allows_only_the_designed_moves(
    current: OrderStatus, target: OrderStatus
) -> None:
    order = Order(id=uuid.uuid4(), number="ORD-20261123-TEST1", status=current)
    session = FakeSession()
    if (current, target) in LEGAL:
        event = transitions.move(session, order, target, actor="system", reason="test")  # type: ignore[arg-type]
        assert order.status == target
        assert (event.from_status, event.to_status, event.actor) == (current, target, "system")
        assert session.added == [event]
    else:
        with pytest.raises(IllegalTransition):
            transitions.move(session, order, target, actor="system")  # type: ignore[arg-type]
        assert order.status == current and session.added == []
