from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from auth_service.models import Base, import_all_models
from webrana_common.db.session import Database
from webrana_common.outbox.models import OutboxMessage


def _differences(connection: Any) -> list[Any]:
    import_all_models()
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diffs = compare_metadata(context, [Base.metadata, OutboxMessage.metadata])  # type: ignore[arg-type]
    # alembic's own version table belongs to no model
    return [d for d in diffs if not (d[0] == "remove_table" and d[1].name.startswith("alembic"))]


async def test_hand_written_migrations_build_exactly_the_models_and_the_outbox(
    db: Database,
) -> None:
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
        assert (
            await connection.scalar(text("SELECT version_num FROM alembic_version_auth"))
            == "0001_initial"
        )
        tables = set(
            await connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        )
    assert {
        "users",
        "refresh_families",
        "refresh_tokens",
        "one_time_tokens",
        "audit_log",
        "outbox_messages",
    } <= tables
