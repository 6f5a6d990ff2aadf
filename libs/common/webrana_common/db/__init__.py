from webrana_common.db.base import Base, TimestampMixin, UUIDPrimaryKey, utcnow
from webrana_common.db.session import Database, SessionDep, after_commit, get_session

__all__ = [
    "Base",
    "Database",
    "SessionDep",
    "TimestampMixin",
    "UUIDPrimaryKey",
    "after_commit",
    "get_session",
    "utcnow",
]
