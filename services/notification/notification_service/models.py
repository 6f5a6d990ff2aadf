"""The service's declarative base; each concept package declares its tables on it."""

from __future__ import annotations

from webrana_common.db.base import make_base

Base = make_base()


def import_all_models() -> None:
    """Register every table on `Base.metadata` (alembic's env.py and the schema test)."""
    import notification_service.broadcasts.models
    import notification_service.deliveries.models
    import notification_service.notifications.models
    import notification_service.preferences.models
    import notification_service.telegram_bot.models  # noqa: F401
