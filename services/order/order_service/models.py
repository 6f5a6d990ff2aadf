"""The service's declarative base; each concept package declares its tables on it."""

from __future__ import annotations

from webrana_common.db.base import make_base

Base = make_base()


def import_all_models() -> None:
    """Register every table on `Base.metadata` (alembic's env.py needs the whole picture)."""
    import order_service.orders.models
    import order_service.provisioning.models  # noqa: F401
