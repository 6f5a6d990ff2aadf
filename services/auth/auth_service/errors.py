"""The auth service's domain errors: each a precise, stable problem `code` for clients."""

from __future__ import annotations

from webrana_common.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)


class EmailAlreadyRegistered(Conflict):
    code = "email_already_registered"
    title = "Email already registered"


class WeakPassword(ValidationFailed):
    """`code` is one of password_too_short, password_too_long, password_contains_email,
    password_too_common."""

    title = "Password does not meet the policy"


class PasswordUnchanged(ValidationFailed):
    code = "password_unchanged"
    title = "New password equals the current one"


class CurrentPasswordIncorrect(BadRequest):
    code = "current_password_incorrect"
    title = "Current password is incorrect"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    title = "Invalid email or password"


class LoginLocked(TooManyRequests):
    code = "login_locked"
    title = "Too many failed logins for this account"


class LoginRateLimited(TooManyRequests):
    code = "login_rate_limited"
    title = "Too many failed logins from this address"


class AccountSuspended(Forbidden):
    code = "account_suspended"
    title = "Account suspended"


class RefreshTokenInvalid(Unauthorized):
    code = "refresh_token_invalid"
    title = "Refresh token invalid"


class RefreshTokenExpired(Unauthorized):
    code = "refresh_token_expired"
    title = "Refresh token expired"


class RefreshTokenReused(Unauthorized):
    code = "refresh_token_reused"
    title = "Refresh token already used"


class SessionRevoked(Unauthorized):
    code = "session_revoked"
    title = "Session revoked"


class SessionNotFound(NotFound):
    code = "session_not_found"
    title = "Session not found"


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "User not found"


class OneTimeTokenInvalid(BadRequest):
    """`code` is `<purpose>_token_invalid`: never issued, or issued for something else."""

    title = "Token invalid"


class OneTimeTokenExpired(Gone):
    title = "Token expired"


class OneTimeTokenUsed(Gone):
    title = "Token already used"


class AdminSelfChange(Conflict):
    code = "admin_self_change"
    title = "Admins cannot suspend or demote themselves"


class UserAlreadySuspended(Conflict):
    code = "user_already_suspended"
    title = "User already suspended"


class UserNotSuspended(Conflict):
    code = "user_not_suspended"
    title = "User is not suspended"
