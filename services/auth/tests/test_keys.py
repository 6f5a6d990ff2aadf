from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_helpers import assert_problem
from jose import jwt
from pydantic import SecretStr

from auth_service.app import create_app
from auth_service.keys import (
    KeyRing,
    key_from_pem,
    load_keyring,
    rotate_keys_dir,
    split_pems,
)
from webrana_common.auth.jwt import JWKSVerifier, TokenInvalid
from webrana_common.testing.client import running_app


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


async def test_jwks_serves_the_current_public_key_and_tokens_name_it(
    client: httpx.AsyncClient, make_user: Any, login: Any, signing_pem: str
) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response.headers["cache-control"]
    [key] = response.json()["keys"]
    assert key["kid"] == key_from_pem(signing_pem).kid
    assert {key["kty"], key["alg"], key["use"]} == {"RSA", "RS256", "sig"}
    assert "d" not in key and "p" not in key  # nothing private
    pair = await login(await make_user())
    assert jwt.get_unverified_header(pair["access_token"])["kid"] == key["kid"]


async def test_other_services_verify_tokens_with_the_published_jwks(
    client: httpx.AsyncClient, make_user: Any, login: Any, settings: Any
) -> None:
    """What every other service does: JWKSVerifier over HTTP against /.well-known/jwks.json."""
    user = await make_user(role="admin")
    pair = await login(user)
    verifier = JWKSVerifier(
        "http://testserver/.well-known/jwks.json",
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        http=client,
    )
    claims = await verifier.verify(pair["access_token"])
    assert (claims.sub, claims.role) == (str(user.id), "admin")


async def test_rotation_keeps_old_tokens_valid_until_they_expire(
    make_settings: Any, make_user: Any, signing_pem: str, other_pem: str
) -> None:
    """The README procedure: the new key signs, the old one stays published until every token
    it signed has expired, then goes."""
    user = await make_user()
    old_pem, new_pem = signing_pem, other_pem
    old_kid, new_kid = key_from_pem(old_pem).kid, key_from_pem(new_pem).kid
    before = make_settings(jwt_private_key=SecretStr(old_pem))
    async with running_app(create_app(before)) as client:
        old_token = (
            await client.post(
                "/api/v1/auth/login", json={"email": user.email, "password": user.password}
            )
        ).json()["access_token"]

    rotated = make_settings(
        jwt_private_key=SecretStr(new_pem), jwt_previous_keys=SecretStr(old_pem)
    )
    async with running_app(create_app(rotated)) as client:
        jwks = (await client.get("/.well-known/jwks.json")).json()
        assert [k["kid"] for k in jwks["keys"]] == [new_kid, old_kid]
        assert (await _me(client, old_token)).status_code == 200
        new_token = (
            await client.post(
                "/api/v1/auth/login", json={"email": user.email, "password": user.password}
            )
        ).json()["access_token"]
        assert jwt.get_unverified_header(new_token)["kid"] == new_kid

    # Once the old key is dropped (after the access-token lifetime), its tokens are refused.
    after = make_settings(jwt_private_key=SecretStr(new_pem))
    async with running_app(create_app(after)) as client:
        assert_problem(await _me(client, old_token), 401, "token_invalid")
        assert (await _me(client, new_token)).status_code == 200


async def test_an_expired_token_signed_with_a_previous_key_is_refused(
    make_settings: Any, make_user: Any, signing_pem: str, other_pem: str
) -> None:
    user = await make_user()
    old = KeyRing(key_from_pem(signing_pem))
    settings = make_settings(
        jwt_private_key=SecretStr(other_pem), jwt_previous_keys=SecretStr(signing_pem)
    )
    now = int(time.time())
    expired = old.sign(
        {
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "sub": str(user.id),
            "role": "customer",
            "jti": uuid.uuid4().hex,
            "iat": now - 1000,
            "nbf": now - 1000,
            "exp": now - 60,
        }
    )
    async with running_app(create_app(settings)) as client:
        problem = assert_problem(await _me(client, expired), 401, "token_invalid")
    assert "expired" in problem["detail"]


async def test_development_keys_dir_is_generated_then_rotated(
    tmp_path: Path, make_settings: Any
) -> None:
    directory = tmp_path / "fresh-keys"
    settings = make_settings(jwt_keys_dir=directory)
    first = load_keyring(settings)
    assert (directory / "current.pem").stat().st_mode & 0o777 == 0o600
    assert load_keyring(settings).current.kid == first.current.kid  # stable across restarts

    new_kid = rotate_keys_dir(directory)

    ring = load_keyring(settings)
    assert ring.current.kid == new_kid != first.current.kid
    assert [k.kid for k in ring.previous] == [first.current.kid]
    old_token = first.sign(
        {
            "sub": "x",
            "exp": int(time.time()) + 60,
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
        }
    )
    verifier = JWKSVerifier(
        None, issuer=settings.jwt_issuer, audience=settings.jwt_audience, static_jwks=ring.jwks()
    )
    assert (await verifier.verify(old_token)).sub == "x"


async def test_a_token_signed_by_an_unknown_key_is_refused(
    client: httpx.AsyncClient, make_user: Any, settings: Any, other_pem: str
) -> None:
    user = await make_user()
    stranger = KeyRing(key_from_pem(other_pem))
    forged = stranger.sign(
        {
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "sub": str(user.id),
            "role": "admin",
            "exp": int(time.time()) + 60,
        }
    )
    assert_problem(await _me(client, forged), 401, "token_invalid")


def test_several_pems_fit_one_variable_even_with_escaped_newlines(
    signing_pem: str, other_pem: str
) -> None:
    first, second = signing_pem, other_pem
    escaped = (first + second).replace("\n", "\\n")
    assert [key_from_pem(p).kid for p in split_pems(escaped)] == [
        key_from_pem(first).kid,
        key_from_pem(second).kid,
    ]


def test_previous_keys_may_be_public_only_but_the_current_one_must_be_private(
    signing_pem: str,
) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = signing_pem
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    assert key_from_pem(public_pem).kid == key_from_pem(pem).kid
    with pytest.raises(ValueError, match="private"):
        KeyRing(key_from_pem(public_pem))


async def test_tokens_from_another_issuer_or_audience_are_refused(
    client: httpx.AsyncClient, make_user: Any, settings: Any, signing_pem: str
) -> None:
    user = await make_user()
    ring = KeyRing(key_from_pem(signing_pem))
    base = {"sub": str(user.id), "role": "customer", "exp": int(time.time()) + 60}
    for claims in (
        {**base, "iss": "https://evil", "aud": settings.jwt_audience},
        {**base, "iss": settings.jwt_issuer, "aud": "other-api"},
    ):
        assert_problem(await _me(client, ring.sign(claims)), 401, "token_invalid")
    with pytest.raises(TokenInvalid):
        await JWKSVerifier(None, issuer="x", audience="y", static_jwks=ring.jwks()).verify("e.e.e")
