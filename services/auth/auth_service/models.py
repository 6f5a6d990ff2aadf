"""The service's declarative base; each concept package declares its tables on it."""

from __future__ import annotations

from webrana_common.db.base import make_base

Base = make_base()


def import_all_models() -> None:
    """Register every table on `Base.metadata` (alembic's env.py and the schema test need the
    whole picture, not only what the importing module happened to touch)."""
    import auth_service.audit.models
    import auth_service.one_time_tokens.models
    import auth_service.sessions.models
    import auth_service.users.models  # noqa: F401
