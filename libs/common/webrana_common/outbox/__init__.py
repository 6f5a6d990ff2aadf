"""Transactional outbox: a message is stored with the state change that caused it, delivered
right after commit, and re-delivered by the relay until the receiver acknowledges it."""

from webrana_common.outbox.models import OutboxMessage, OutboxStatus
from webrana_common.outbox.relay import (
    OutboxRelay,
    OutboxSender,
    Unit,
    add,
    add_and_follow,
    relay_outbox,
)

__all__ = [
    "OutboxMessage",
    "OutboxRelay",
    "OutboxSender",
    "OutboxStatus",
    "Unit",
    "add",
    "add_and_follow",
    "relay_outbox",
]
