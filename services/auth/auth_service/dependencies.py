"""Request dependencies shared by the routers: settings, keys, hashing, Redis, the caller."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from auth_service.client_info import ClientInfo, client_info
from auth_service.config import AuthSettings
from auth_service.errors import AccountSuspended
from auth_service.keys import KeyRing
from auth_service.passwords.hashing import PasswordHashing
from auth_service.users import repository as users
from auth_service.users.models import User, UserRole
from webrana_common.auth.dependencies import CurrentUser, Principal
from webrana_common.db.session import SessionDep
from webrana_common.errors import Forbidden, Unauthorized


async def _settings(conn: HTTPConnection) -> AuthSettings:
    return conn.app.state.settings


async def _keys(conn: HTTPConnection) -> KeyRing:
    return conn.app.state.keys


async def _hashing(conn: HTTPConnection) -> PasswordHashing:
    return conn.app.state.password_hashing


async def _redis(conn: HTTPConnection) -> Redis:
    return conn.app.state.redis


async def _client(conn: HTTPConnection) -> ClientInfo:
    return client_info(conn, conn.app.state.trusted_proxies)


SettingsDep = Annotated[AuthSettings, Depends(_settings)]
KeysDep = Annotated[KeyRing, Depends(_keys)]
HashingDep = Annotated[PasswordHashing, Depends(_hashing)]
RedisDep = Annotated[Redis, Depends(_redis)]
ClientDep = Annotated[ClientInfo, Depends(_client)]


async def _active_user(principal: CurrentUser, session: SessionDep) -> User:
    """The token's user, read fresh: a suspension bites at once on auth's own routes instead
    of when the access token expires."""
    user = await users.get(session, principal.user_id)
    if user is None:
        raise Unauthorized("The account of this token no longer exists", code="token_invalid")
    if user.is_suspended:
        raise AccountSuspended("This account is suspended")
    return user


ActiveUser = Annotated[User, Depends(_active_user)]


async def _admin(principal: CurrentUser, user: ActiveUser) -> User:
    # Both the token and the database must say admin: a demoted admin's token that has not
    # expired yet no longer opens these routes.
    if not principal.is_admin or user.role != UserRole.ADMIN:
        raise Forbidden("This action requires the admin role", code="admin_required")
    return user


AdminDep = Annotated[User, Depends(_admin)]


def current_session_id(principal: Principal) -> uuid.UUID | None:
    raw = principal.claims.get("sid")
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None
