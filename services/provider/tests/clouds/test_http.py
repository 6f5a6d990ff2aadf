"""How long each provider says to wait after a 429."""

from __future__ import annotations

import email.utils
import time

import httpx

from provider_service.clouds import digitalocean, linode, vultr
from provider_service.clouds.http import retry_after_seconds


def _429(**headers: str) -> httpx.Response:
    return httpx.Response(429, headers=headers)


def test_retry_after_as_seconds_or_an_http_date() -> None:
    assert retry_after_seconds(_429(**{"Retry-After": "7"})) == 7
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (retry_after_seconds(_429(**{"Retry-After": later})) or 0) <= 30
    assert retry_after_seconds(_429(**{"Retry-After": "soon"})) is None
    assert retry_after_seconds(_429()) is None


def test_digitalocean_hourly_limit_waits_for_its_reset() -> None:
    reset = str(int(time.time()) + 40)
    wait = digitalocean.rate_limit_wait(
        _429(**{"ratelimit-remaining": "0", "ratelimit-reset": reset})
    )
    assert wait is not None and 38 <= wait <= 40
    # A burst limit says Retry-After, which wins.
    burst = _429(**{"retry-after": "2", "ratelimit-remaining": "0", "ratelimit-reset": reset})
    assert digitalocean.rate_limit_wait(burst) == 2
    assert digitalocean.rate_limit_wait(_429(**{"ratelimit-remaining": "12"})) is None


def test_linode_waits_for_its_reset_without_retry_after() -> None:
    reset = str(int(time.time()) + 20)
    wait = linode.rate_limit_wait(
        _429(**{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    )
    assert wait is not None and 18 <= wait <= 20


def test_vultr_only_says_retry_after() -> None:
    assert vultr.rate_limit_wait(_429(**{"Retry-After": "3"})) == 3
    assert vultr.rate_limit_wait(_429()) is None


def test_error_bodies_in_each_providers_shape() -> None:
    do = httpx.Response(422, json={"id": "unprocessable_entity", "message": "Bad size."})
    assert digitalocean.parse_error(do).message == "Bad size."
    vu = httpx.Response(400, json={"error": "Invalid plan chosen.", "status": 400})
    assert vultr.parse_error(vu).message == "Invalid plan chosen."
    li = httpx.Response(
        400, json={"errors": [{"reason": "Too short", "field": "label"}, {"reason": "Busy"}]}
    )
    said = linode.parse_error(li)
    assert said.message == "label: Too short; Busy"
    assert said.errors == [
        {"field": "label", "reason": "Too short"},
        {"field": None, "reason": "Busy"},
    ]
    assert vultr.parse_error(httpx.Response(502, text="<html>bad gateway</html>")).message == (
        "<html>bad gateway</html>"
    )
