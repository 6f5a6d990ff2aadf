"""All SQL of provision requests. Each function runs in the caller's unit of work."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from provider_service.provisioning.models import ProvisionRequest, ProvisionState


async def claim_new(
    session: AsyncSession, values: dict[str, Any], lease_seconds: float
) -> ProvisionRequest | None:
    """Insert the row for a new key; None when the key exists (a concurrent insert of the same
    key waits for ours to commit, then finds it)."""
    statement = (
        insert(ProvisionRequest)
        .values(
            id=uuid.uuid4(),
            state=ProvisionState.CREATING,
            attempts=1,
            lease_expires_at=func.now() + timedelta(seconds=lease_seconds),
            **values,
        )
        .on_conflict_do_nothing(index_elements=[ProvisionRequest.idempotency_key])
        .returning(ProvisionRequest)
    )
    return (await session.scalars(statement)).one_or_none()


# Built once (its cache key is memoized on the object): read on every status poll.
_BY_KEY = (
    select(ProvisionRequest)
    .where(ProvisionRequest.idempotency_key == bindparam("key"))
    .execution_options(populate_existing=True)
)


async def get_by_key(session: AsyncSession, idempotency_key: str) -> ProvisionRequest | None:
    return await session.scalar(_BY_KEY, {"key": idempotency_key})


async def take_over(
    session: AsyncSession, seen: ProvisionRequest, lease_seconds: float
) -> ProvisionRequest | None:
    """Claim a row whose last create failed or whose claimer's lease ran out, exactly as it was
    seen: if it changed since (the claimer just finished), nobody gets it this round. At most
    one of several concurrent callers gets it."""
    statement = (
        update(ProvisionRequest)
        .where(
            ProvisionRequest.id == seen.id,
            ProvisionRequest.attempts == seen.attempts,
            ProvisionRequest.state == seen.state,
            or_(
                ProvisionRequest.state == ProvisionState.FAILED,
                ProvisionRequest.lease_expires_at < func.now(),
            ),
        )
        .values(
            state=ProvisionState.CREATING,
            attempts=ProvisionRequest.attempts + 1,
            lease_expires_at=func.now() + timedelta(seconds=lease_seconds),
            updated_at=func.now(),
        )
        .returning(ProvisionRequest)
        # `seen` is in this session's identity map: return the updated values, not its copy.
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def mark_created(
    session: AsyncSession,
    request_id: uuid.UUID,
    *,
    instance_id: str,
    action_id: str | None,
    recovered_by_tag: bool,
) -> None:
    await session.execute(
        update(ProvisionRequest)
        .where(ProvisionRequest.id == request_id)
        .values(
            state=ProvisionState.CREATED,
            provider_instance_id=instance_id,
            create_action_id=action_id,
            recovered_by_tag=recovered_by_tag,
            lease_expires_at=None,
            last_error_code=None,
            last_error_detail=None,
            updated_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )


async def mark_failed(
    session: AsyncSession, request_id: uuid.UUID, *, attempt: int, code: str, detail: str
) -> None:
    """Only while the row is still this attempt's: a claimer that outlived its lease must not
    overwrite whoever took over."""
    await session.execute(
        update(ProvisionRequest)
        .where(
            ProvisionRequest.id == request_id,
            ProvisionRequest.attempts == attempt,
            ProvisionRequest.state == ProvisionState.CREATING,
        )
        .values(
            state=ProvisionState.FAILED,
            lease_expires_at=None,
            last_error_code=code[:64],
            last_error_detail=detail[:1000],
            updated_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )
