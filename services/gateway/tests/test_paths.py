"""`/internal/**` is never reachable through the gateway, whatever the spelling. Each request
is written byte for byte (HTTP clients would tidy the path first); afterwards no service may
have seen an /internal path."""

from __future__ import annotations

import pytest
from conftest import RunningGateway
from gateway_raw_http import raw_request
from gateway_upstreams import Upstream

from gateway_service.paths import PathRejected, is_internal, normalize_path

# Spellings that decode or resolve to /internal/...: not found, as if it did not exist.
RESOLVES_TO_INTERNAL = [
    b"/internal/users/1",
    b"/INTERNAL/users/1",
    b"/Internal/users/1",
    b"/iNtErNaL/users/1",
    b"/%69nternal/users/1",
    b"/%69%6E%74%65%72%6E%61%6C/users/1",
    b"/%49NTERNAL/users/1",
    b"//internal/users/1",
    b"///internal//users/1",
    b"/./internal/users/1",
    b"/api/v1/../../internal/users/1",
    b"/api/v1/auth/../../../internal/users/1",
    b"/api/v1/auth/%2e%2e/%2e%2e/%2e%2e/internal/users/1",
    b"/api/v1/auth/.%2e/.%2E/%2e./internal/users/1",
    b"/api/v1/catalog/./../../.././internal/users/1",
    b"/%EF%BD%89nternal/users/1",  # fullwidth i, NFKC-folds to "internal"
    b"/internal",
    b"/internal/",
]

# Spellings that could be read two ways: refused outright.
AMBIGUOUS = [
    b"/api/v1/auth/..%2f..%2f..%2finternal/users/1",
    b"/api/v1/auth%2F..%2F..%2F..%2Finternal/users/1",
    b"/%2finternal/users/1",
    b"/internal./users/1",
    b"/internal.../users/1",
    b"/internal%2e/users/1",
    b"/internal%20/users/1",
    b"/api/v1/auth/..%5c..%5c..%5cinternal/users/1",
    b"/api/v1/auth/%5cinternal/users/1",
    b"/api/v1/auth/%00/../../../internal/users/1",
    b"/api/v1/auth/%252e%252e/%252e%252e/internal/users/1",
    b"/%2569nternal/users/1",
    b"/api/v1/auth/..;/..;/..;/internal/users/1",
    b"/internal;jsessionid=1/users/1",
    b"/../internal/users/1",
    b"/api/../../internal/users/1",
    b"/api/v1/auth/%0d%0aX-Injected:%201/../../../internal",
    b"/api/v1/auth/%ff/../../../internal",
]


@pytest.mark.parametrize("target", RESOLVES_TO_INTERNAL, ids=lambda t: t.decode("latin-1"))
async def test_internal_spellings_are_not_found(
    gateway: RunningGateway, upstreams: dict[str, Upstream], target: bytes
) -> None:
    response = await raw_request(gateway.url, target)
    assert response.status == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
    assert not any(s.requests for s in upstreams.values())


@pytest.mark.parametrize("target", AMBIGUOUS, ids=lambda t: t.decode("latin-1"))
async def test_ambiguous_spellings_are_refused(
    gateway: RunningGateway, upstreams: dict[str, Upstream], target: bytes
) -> None:
    response = await raw_request(gateway.url, target)
    assert response.status == 400
    assert response.json()["code"] == "path_invalid"
    assert not any(s.requests for s in upstreams.values())


@pytest.mark.parametrize("method", [b"GET", b"POST", b"DELETE", b"OPTIONS"])
async def test_every_method_is_refused_on_internal_paths(
    gateway: RunningGateway, upstreams: dict[str, Upstream], method: bytes
) -> None:
    response = await raw_request(gateway.url, b"/%69nternal/users/1", method=method)
    assert response.status == 404
    assert not any(s.requests for s in upstreams.values())


async def test_absolute_form_targets_are_judged_by_their_path(
    gateway: RunningGateway, upstreams: dict[str, Upstream]
) -> None:
    response = await raw_request(gateway.url, b"http://upstream.internal/internal/users/1")
    assert response.status in (400, 404)
    assert not any(s.requests for s in upstreams.values())


async def test_a_backslash_in_the_raw_path_never_reaches_a_service(
    gateway: RunningGateway, upstreams: dict[str, Upstream]
) -> None:
    response = await raw_request(gateway.url, b"/api/v1/auth/..\\..\\..\\internal/users/1")
    assert response.status == 400
    assert not any(s.requests for s in upstreams.values())


async def test_odd_spellings_of_routed_paths_are_forwarded_normalised(
    gateway: RunningGateway, upstreams: dict[str, Upstream]
) -> None:
    response = await raw_request(gateway.url, b"/api/v1//catalog/./%70lans/x/../y?q=1")
    assert response.status == 200
    seen = upstreams["catalog"].requests[-1]
    assert seen.raw_path == "/api/v1/catalog/plans/y"
    assert seen.query == "q=1"


async def test_encoded_characters_that_need_it_stay_encoded(
    gateway: RunningGateway, upstreams: dict[str, Upstream]
) -> None:
    response = await raw_request(gateway.url, b"/api/v1/catalog/images/ubuntu%2024.04%3F")
    assert response.status == 200
    seen = upstreams["catalog"].requests[-1]
    assert seen.raw_path == "/api/v1/catalog/images/ubuntu%2024.04%3F"
    assert seen.path == "/api/v1/catalog/images/ubuntu 24.04?"


def test_normalisation_resolves_dot_segments_and_collapses_slashes() -> None:
    assert normalize_path(b"/a//b/./c/../d") == ("/a/b/d", b"/a/b/d")
    assert normalize_path(b"/a/b/..") == ("/a/", b"/a/")
    assert normalize_path(b"/a/b/") == ("/a/b/", b"/a/b/")
    assert normalize_path(b"/") == ("/", b"/")
    assert normalize_path(b"/.well-known/jwks.json")[0] == "/.well-known/jwks.json"


@pytest.mark.parametrize("raw", [b"", b"internal", b"*", b"/a\\b", b"/a%2Fb", b"/..", b"/a./b"])
def test_normalisation_refuses_what_it_cannot_read_one_way(raw: bytes) -> None:
    with pytest.raises(PathRejected):
        normalize_path(raw)


def test_internal_is_recognised_in_any_case_or_lookalike() -> None:
    assert is_internal("/internal")
    assert is_internal("/INTERNAL/x")
    assert is_internal("/\uff49nternal/x")
    assert not is_internal("/api/v1/internal-notes")
    assert not is_internal("/internals")
