"""arq worker: `arq billing_service.worker.WorkerSettings` (DATABASE_URL, REDIS_URL).

Crons: `outbox.relay` (from webrana_common.worker), `invoices.expire_due` every minute,
`payments.reconcile` every five minutes."""

from __future__ import annotations

import logging
from typing import Any

from arq import cron

from billing_service.config import BillingSettings
from billing_service.context import BillingContext
from billing_service.invoices.expiry import expire_due
from billing_service.payments.reconciliation import reconcile
from webrana_common.worker import worker_settings

log = logging.getLogger("billing.worker")


async def startup(ctx: dict[str, Any]) -> None:
    """After `open_worker_context`: Tripay, the channel list and auth, as the API has them."""
    ctx["billing"] = BillingContext.build(ctx["settings"], ctx["http"], ctx["redis"])


async def shutdown(ctx: dict[str, Any]) -> None:
    if "billing" in ctx:
        await ctx["billing"].aclose()


async def expire_invoices(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron `invoices.expire_due`."""
    report = await expire_due(ctx["db"], ctx["billing"])
    if report["expired"] or report["waiting"]:
        log.info("invoice expiry", extra=report)
    return report


async def reconcile_payments(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron `payments.reconcile`."""
    report = await reconcile(ctx["db"], ctx["billing"])
    if report["outcomes"] or report.get("stopped"):
        log.info("payment reconciliation", extra=report)
    return report


def build_worker_settings(settings: BillingSettings) -> type:
    if not settings.database_url:
        raise RuntimeError("the billing worker needs DATABASE_URL")
    return worker_settings(
        settings,
        functions=[],
        cron_jobs=[
            cron(expire_invoices, name="invoices.expire_due", second={5}, unique=True),
            cron(
                reconcile_payments,
                name="payments.reconcile",
                minute=set(range(2, 60, 5)),
                second={35},
                unique=True,
            ),
        ],
        on_startup=startup,
        on_shutdown=shutdown,
    )


def __getattr__(name: str) -> type:
    # Built on first access (arq's import of `WorkerSettings`), not at import: settings come
    # from the worker process's environment, and tests import this module without one.
    if name == "WorkerSettings":
        return build_worker_settings(BillingSettings())
    raise AttributeError(name)
