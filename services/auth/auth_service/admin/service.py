"""What admins do to users. Every change writes an audit entry in the same transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.audit import service as audit
from auth_service.audit.models import AuditAction
from auth_service.client_info import ClientInfo
from auth_service.errors import (
    AdminSelfChange,
    UserAlreadySuspended,
    UserNotFound,
    UserNotSuspended,
)
from auth_service.sessions import service as sessions
from auth_service.sessions.models import RevokeReason
from auth_service.users import repository as users
from auth_service.users.models import User, UserRole, UserStatus
from webrana_common.db.base import utcnow
from webrana_common.errors import Forbidden


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await users.get(session, user_id)
    if user is None:
        raise UserNotFound(f"No user {user_id}")
    return user


async def _target(session: AsyncSession, actor: User, user_id: uuid.UUID) -> User:
    """Locks the actor's row with the target's and re-checks the actor: two admins demoting or
    suspending each other at the same moment must not leave the fleet without an admin."""
    if user_id == actor.id:
        raise AdminSelfChange("Ask another admin to change your own account")
    locked = await users.lock_many(session, [actor.id, user_id])
    if actor.role != UserRole.ADMIN or actor.is_suspended:
        raise Forbidden("This action requires the admin role", code="admin_required")
    user = locked.get(user_id)
    if user is None:
        raise UserNotFound(f"No user {user_id}")
    return user


async def suspend(
    session: AsyncSession, actor: User, user_id: uuid.UUID, reason: str, client: ClientInfo
) -> User:
    user = await _target(session, actor, user_id)
    if user.is_suspended:
        raise UserAlreadySuspended("This user is already suspended")
    before = user.snapshot()
    user.status = UserStatus.SUSPENDED
    user.suspended_at = utcnow()
    user.suspended_reason = reason
    # Refresh and login are refused from now on; open sessions end with them.
    revoked = await sessions.revoke_all(session, user.id, RevokeReason.SUSPENDED)
    await audit.record(
        session,
        AuditAction.USER_SUSPENDED,
        actor_id=actor.id,
        target_user_id=user.id,
        before=before,
        after={**user.snapshot(), "sessions_revoked": revoked},
        ip=client.ip,
    )
    await session.flush()  # the answer shows updated_at
    return user


async def unsuspend(
    session: AsyncSession, actor: User, user_id: uuid.UUID, client: ClientInfo
) -> User:
    user = await _target(session, actor, user_id)
    if not user.is_suspended:
        raise UserNotSuspended("This user is not suspended")
    before = user.snapshot()
    user.status = UserStatus.ACTIVE
    user.suspended_at = None
    user.suspended_reason = None
    await audit.record(
        session,
        AuditAction.USER_UNSUSPENDED,
        actor_id=actor.id,
        target_user_id=user.id,
        before=before,
        after=user.snapshot(),
        ip=client.ip,
    )
    await session.flush()
    return user


async def change_role(
    session: AsyncSession, actor: User, user_id: uuid.UUID, role: UserRole, client: ClientInfo
) -> User:
    """Takes effect at the user's next refresh (the role is read fresh then); auth's own admin
    routes check the database and honour it at once."""
    user = await _target(session, actor, user_id)
    if user.role == role:
        return user
    before = user.snapshot()
    user.role = role
    await audit.record(
        session,
        AuditAction.USER_ROLE_CHANGED,
        actor_id=actor.id,
        target_user_id=user.id,
        before=before,
        after=user.snapshot(),
        ip=client.ip,
    )
    await session.flush()
    return user
