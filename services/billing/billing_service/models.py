"""The service's declarative base; each concept package declares its tables on it."""

from __future__ import annotations

from webrana_common.db.base import make_base

Base = make_base()


def import_all_models() -> None:
    """Register every table on `Base.metadata` (alembic's env.py and the schema test)."""
    import billing_service.audit.models
    import billing_service.invoices.models
    import billing_service.payments.models
    import billing_service.promos.models
    import billing_service.wallet.models  # noqa: F401
