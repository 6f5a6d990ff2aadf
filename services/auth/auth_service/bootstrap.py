"""Creating the first admin, for `webrana create-admin` and operators (no admin exists yet to
call the admin API)."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError

from auth_service.audit import service as audit
from auth_service.audit.models import AuditAction
from auth_service.config import AuthSettings
from auth_service.passwords.hashing import PasswordHashing
from auth_service.passwords.policy import check_password
from auth_service.users import repository as users
from auth_service.users.fields import clean_name, normalize_email
from auth_service.users.models import User, UserRole, UserStatus
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database


async def create_admin(database_url: str, email: str, password: str, full_name: str) -> str:
    """The admin's user id. An existing account with that email is promoted (and verified) but
    keeps its password and is not unsuspended: the command must not silently take over or
    reinstate an account. A new account gets `password`, which must pass the policy."""
    email = normalize_email(email)
    full_name = clean_name(full_name)
    database = Database(database_url, pool_size=1)
    try:
        for _ in range(2):  # a concurrent registration of the same address: promote it instead
            try:
                return await _create_or_promote(database, email, password, full_name)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not create or promote {email}")
    finally:
        await database.dispose()


def _hashing() -> PasswordHashing:
    # Only ARGON2_* matter here. The rest of the environment may be a production one without
    # its secrets (a one-off command), so it is not validated as a whole.
    return PasswordHashing.from_settings(AuthSettings(environment="development"))


async def _create_or_promote(database: Database, email: str, password: str, full_name: str) -> str:
    async with database.session() as session:
        user = await users.get_by_email(session, email)
        if user is not None:
            before = user.snapshot()
            user.role = UserRole.ADMIN
            user.email_verified_at = user.email_verified_at or utcnow()
        else:
            check_password(password, email)
            before = None
            user = User(
                id=uuid.uuid4(),
                email=email,
                password_hash=await _hashing().hash(password),
                full_name=full_name,
                role=UserRole.ADMIN,
                status=UserStatus.ACTIVE,
                email_verified_at=utcnow(),
                password_changed_at=utcnow(),
            )
            session.add(user)
        if before is None or before != user.snapshot():
            await audit.record(
                session,
                AuditAction.ADMIN_BOOTSTRAPPED,
                actor_id=None,
                target_user_id=user.id,
                before=before,
                after=user.snapshot(),
            )
        return str(user.id)
