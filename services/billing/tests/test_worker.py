"""The arq worker: its crons, and its jobs run with the context `worker_settings` builds."""

from __future__ import annotations

from typing import Any

from billing_builders import BillingEnv

from billing_service import worker
from billing_service.config import BillingSettings
from webrana_common.worker import close_worker_context, open_worker_context


def test_worker_schedules_relay_expiry_and_reconciliation() -> None:
    settings = BillingSettings(
        environment="test", database_url="postgresql://x/y", redis_url="redis://127.0.0.1:1/0"
    )
    cls = worker.build_worker_settings(settings)
    assert {job.name for job in cls.cron_jobs} == {
        "outbox.relay",
        "invoices.expire_due",
        "payments.reconcile",
    }
    assert cls.queue_name == "arq:billing"


async def test_jobs_run_in_the_workers_own_context(
    env: BillingEnv, settings: BillingSettings
) -> None:
    ctx: dict[str, Any] = {}
    await open_worker_context(ctx, settings)
    await worker.startup(ctx)
    try:
        assert (await worker.expire_invoices(ctx))["due"] == 0
        assert (await worker.reconcile_payments(ctx))["checked"] == 0
        assert ctx["billing"].settings is settings
    finally:
        await worker.shutdown(ctx)
        await close_worker_context(ctx)
