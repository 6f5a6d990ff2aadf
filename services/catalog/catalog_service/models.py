"""The service's declarative base; each concept package declares its tables on it."""

from __future__ import annotations

from webrana_common.db.base import make_base

Base = make_base()


def import_all_models() -> None:
    """Register every table on `Base.metadata` (alembic's env.py and the schema test need the
    whole picture, not only what the importing module happened to touch)."""
    import catalog_service.audit.models
    import catalog_service.images.models
    import catalog_service.plans.models
    import catalog_service.providers.models
    import catalog_service.regions.models
    import catalog_service.versioning.models  # noqa: F401
