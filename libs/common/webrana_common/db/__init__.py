from webrana_common.db.base import Base, TimestampMixin, UUIDPrimaryKey, utcnow
from webrana_common.db.session import Database, SessionDep, after_commit, get_session

__all__ = ["Base", "Database", "SessionDep", "after_commit", "TimestampMixin", "UUIDPrimaryKey", "get_session", "utcnow"]
