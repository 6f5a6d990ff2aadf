"""Settings of the order service; every name is documented in services/order/README.md."""

from __future__ import annotations

from pydantic import Field, model_validator

from webrana_common.settings import ServiceSettings


class OrderSettings(ServiceSettings):
    service_name: str = "order"
    port: int = 3003

    # How long billing keeps an order's invoice open (sent as `expires_in`).
    order_invoice_ttl_seconds: int = Field(default=86_400, ge=300, le=30 * 86_400)
    # POST /orders waits this long for billing to make the invoice (asked right after commit)
    # and answers with its id and number; slower, and the client finds it by order id. 0: never
    # wait.
    order_invoice_wait_seconds: float = Field(default=2.0, ge=0, le=10)

    # Provisioning: the whole job (create + boot) must finish within the deadline, counted from
    # the moment an attempt starts and kept across worker restarts.
    provisioning_deadline_seconds: float = Field(default=900.0, gt=0)
    # Polling the provider for a booting server: first wait, growth factor, longest wait.
    provisioning_poll_initial_seconds: float = Field(default=2.0, gt=0)
    provisioning_poll_max_seconds: float = Field(default=30.0, gt=0)
    # Waits between retries of a transient provider error (5xx, timeout, 409 in progress).
    provisioning_retry_initial_seconds: float = Field(default=1.0, gt=0)
    provisioning_retry_max_seconds: float = Field(default=30.0, gt=0)
    # One provision call may wait for the provider service's own retries at the cloud.
    provisioning_call_timeout_seconds: float = Field(default=75.0, gt=0)
    # A job holds an order this long (renewed at every step); after that a crashed job's order
    # is picked up again by `orders.resume_provisioning`.
    provisioning_lease_seconds: float = Field(default=120.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> OrderSettings:
        if self.provisioning_poll_initial_seconds > self.provisioning_poll_max_seconds:
            raise ValueError(
                "PROVISIONING_POLL_INITIAL_SECONDS exceeds PROVISIONING_POLL_MAX_SECONDS"
            )
        if self.provisioning_retry_initial_seconds > self.provisioning_retry_max_seconds:
            raise ValueError(
                "PROVISIONING_RETRY_INITIAL_SECONDS exceeds PROVISIONING_RETRY_MAX_SECONDS"
            )
        return self
