from __future__ import annotations

import uuid
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from order_service.models import Base, import_all_models
from order_service.orders.models import Order
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
        version = await connection.scalar(text("SELECT version_num FROM alembic_version_order"))
    assert version == "0001_initial"


async def test_amounts_must_add_up(db: Database) -> None:
    """`amount = base_amount - discount` is enforced by the database, not only by the code."""
    async with db.session() as session:
        session.add(
            Order(
                number="ORD-20261123-ZZZZZ",
                user_id=uuid.uuid4(),
                status="PENDING_PAYMENT",
                plan_id=uuid.uuid4(),
                plan_slug="p",
                plan_name="P",
                provider="digitalocean",
                provider_size="s",
                region="sg-sin",
                provider_region="sgp1",
                image="u",
                provider_image="u",
                hostname="web",
                ssh_keys=[],
                billing_cycle="monthly",
                months=1,
                catalog_version=1,
                base_amount=100,
                discount=10,
                amount=100,
                refunded_amount=0,
                payment_method="tripay",
                request_fingerprint="x",
            )
        )
        with pytest.raises(IntegrityError):
            await session.flush()
        await session.rollback()
