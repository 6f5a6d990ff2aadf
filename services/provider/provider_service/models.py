"""The service's declarative base. Its one table, `provision_requests`, is in
`provisioning/models.py`; cached provider metadata lives in Redis, not here."""

from __future__ import annotations

from webrana_common.db.base import make_base

Base = make_base()


def import_all_models() -> None:
    """Register every table on `Base.metadata` (alembic's env.py and the schema test)."""
    import provider_service.provisioning.models  # noqa: F401
