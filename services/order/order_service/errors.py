"""The order service's errors, each with a stable problem `code`."""

from __future__ import annotations

from webrana_common.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    UpstreamError,
    ValidationFailed,
)


class OrderNotFound(NotFound):
    code = "order_not_found"
    title = "Order not found"


class IllegalTransition(Conflict):
    code = "illegal_transition"
    title = "The order cannot move to that status"


class OrderNotCancellable(Conflict):
    code = "order_not_cancellable"
    title = "Only an unpaid order can be cancelled"


class OrderNotRetryable(Conflict):
    code = "order_not_retryable"
    title = "Only an order whose provisioning failed, and not refunded, can be retried"


class OrderNotRefundable(Conflict):
    code = "order_not_refundable"
    title = "This order cannot be refunded"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    title = "This Idempotency-Key was used for a different order"


class OrderRejected(ValidationFailed):
    """The catalog or billing refused what was ordered (plan, region, image, promo); `code`
    is theirs (`region_not_offered`, `promo_expired`, ...)."""


class InsufficientBalance(Conflict):
    code = "insufficient_balance"
    title = "The wallet balance does not cover this order"


class DependencyUnavailable(ServiceUnavailable):
    code = "dependency_unavailable"
    title = "A service this request needs is unavailable"


class DependencyFailed(UpstreamError):
    code = "dependency_failed"
