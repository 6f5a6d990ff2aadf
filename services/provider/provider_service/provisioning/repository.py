"""All SQL of provision requests. Each function runs in the caller's unit of work (a session, or
the driver's connection for the two statements of every new server)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from provider_service.provisioning.models import ProvisionRequest, ProvisionState
from webrana_common.db import raw

# The two statements of every new server run alone on the driver's connection
# (webrana_common.db.raw): each is atomic by itself, and through the ORM's bulk insert path
# they cost several times the CPU.
_CLAIM_NEW = (
    "INSERT INTO provision_requests (id, idempotency_key, provider, request_fingerprint,"  # noqa: S608
    " lookup_tag, region, size, image, hostname, state, attempts, lease_expires_at,"
    " recovered_by_tag, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, now() + $11::interval, false,"
    " now(), now())"
    " ON CONFLICT (idempotency_key) DO NOTHING"
    f" RETURNING {raw.columns(ProvisionRequest)}"
)


async def claim_new(
    connection: asyncpg.Connection, values: dict[str, Any], lease_seconds: float
) -> ProvisionRequest | None:
    """Insert the row for a new key; None when the key exists (a concurrent insert of the same
    key waits for ours to commit, then finds it)."""
    row = await connection.fetchrow(
        _CLAIM_NEW,
        uuid.uuid4(),
        values["idempotency_key"],
        values["provider"],
        values["request_fingerprint"],
        values["lookup_tag"],
        values["region"],
        values["size"],
        values["image"],
        values["hostname"],
        str(ProvisionState.CREATING),
        timedelta(seconds=lease_seconds),
    )
    return raw.load(ProvisionRequest, row)


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


_MARK_CREATED = (
    f"UPDATE provision_requests SET state = '{ProvisionState.CREATED}',"  # noqa: S608
    " provider_instance_id = $2, create_action_id = $3, recovered_by_tag = $4,"
    " lease_expires_at = NULL, last_error_code = NULL, last_error_detail = NULL,"
    " updated_at = now() WHERE id = $1"
)


async def mark_created(
    connection: asyncpg.Connection,
    request_id: uuid.UUID,
    *,
    instance_id: str,
    action_id: str | None,
    recovered_by_tag: bool,
) -> None:
    await connection.execute(_MARK_CREATED, request_id, instance_id, action_id, recovered_by_tag)


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
