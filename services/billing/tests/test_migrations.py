from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from billing_service.models import Base, import_all_models
from webrana_common.db.session import Database
from webrana_common.outbox.models import OutboxMessage


def _differences(connection: Any) -> list[Any]:
    import_all_models()
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diffs = compare_metadata(context, [Base.metadata, OutboxMessage.metadata])  # type: ignore[arg-type]
    return [d for d in diffs if not (d[0] == "remove_table" and d[1].name.startswith("alembic"))]


async def test_hand_written_migration_builds_exactly_the_models_and_the_outbox(
    db: Database,
) -> None:
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
        version = await connection.scalar(text("SELECT version_num FROM alembic_version_billing"))
        triggers = set(
            await connection.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
        )
    assert version == "0002_payments_reconciled_at"
    assert {
        "wallet_ledger_apply",
        "wallet_ledger_append_only",
        "wallet_ledger_no_truncate",
        "wallets_balance_guard",
    } <= triggers
