"""Addresses the cloud stand-ins hand out: never anyone's real server, never one address for two
servers, and enough of them for a benchmark that creates well over a thousand servers (the
three documentation /24s hold about 750; the 507th server of a stand-in used to get an HTTP 500).
"""

from __future__ import annotations

import ipaddress

import pytest
from fastapi import FastAPI

from devstack.sandbox.cloud.machines import AddressPool
from tests.sandbox.conftest import provider_of

SAFE = [
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15")
]


def _safe(address: str) -> bool:
    return any(ipaddress.ip_address(address) in net for net in SAFE)


@pytest.mark.parametrize("app", ["do_app", "vultr_app", "linode_app"])
def test_thousands_of_servers_each_get_their_own_safe_public_address(app, request) -> None:
    pool = provider_of(request.getfixturevalue(app)).address_pool()
    taken = [pool.public_v4() for _ in range(3000)]
    assert len(set(taken)) == 3000
    assert all(_safe(a) for a in taken), [a for a in taken if not _safe(a)][:5]
    # The documentation ranges come first, and no address is a /24's gateway.
    assert ipaddress.ip_address(taken[0]) not in SAFE[3]
    assert not any(a.endswith(".1") for a in taken)


def test_a_released_address_comes_back_lowest_first_and_once() -> None:
    pool = AddressPool(["192.0.2.0/24"], "10.0.0.0/24", "2001:db8::")
    first, second, third = (pool.public_v4() for _ in range(3))
    private = pool.private_v4()
    assert private == "10.0.0.3"  # the first two hosts are the cloud's own
    pool.release(third, private)
    pool.release(first, None)
    pool.release(first)  # twice: still handed out once
    assert [pool.public_v4(), pool.public_v4(), pool.public_v4()] == [first, third, "192.0.2.5"]
    assert second == "192.0.2.3" and pool.private_v4() == private


def test_running_out_is_a_clear_error() -> None:
    pool = AddressPool([], "10.0.0.0/29", "2001:db8::")  # 6 hosts, the first 2 kept back
    assert len({pool.private_v4() for _ in range(4)}) == 4
    with pytest.raises(RuntimeError, match="ran out of addresses"):
        pool.private_v4()


async def test_a_stand_in_creates_more_servers_than_the_documentation_ranges_hold(
    vultr_app: FastAPI, vu
) -> None:
    # Vultr's stand-in had 506 public addresses; the 507th create answered 500.
    for n in range(520):
        body = {"region": "sgp", "plan": "vc2-1c-1gb", "os_id": 2284, "label": f"n-{n}"}
        response = await vu.post("/v2/instances", json=body)
        assert response.status_code == 202, (n, response.text)
    addresses = {m.ipv4_public for m in provider_of(vultr_app).state.all()}
    assert len(addresses) == 520
