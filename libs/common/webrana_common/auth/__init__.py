from webrana_common.auth.api_keys import InternalCaller, parse_api_keys, require_internal
from webrana_common.auth.dependencies import CurrentUser, Principal, get_principal, require_admin
from webrana_common.auth.jwt import JWKSVerifier, TokenInvalid

__all__ = [
    "CurrentUser",
    "InternalCaller",
    "JWKSVerifier",
    "Principal",
    "TokenInvalid",
    "get_principal",
    "parse_api_keys",
    "require_admin",
    "require_internal",
]
