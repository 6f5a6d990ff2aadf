"""Every status each official spec lists maps onto ours; only unknown words become ERROR."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provider_service.clouds import digitalocean, linode, vultr
from provider_service.clouds.base import InstanceStatus

SPECS = Path(__file__).resolve().parents[5] / "shared" / "refs" / "providers"
if not SPECS.is_dir():  # the repository's own copy
    SPECS = Path(__file__).resolve().parents[4] / "devstack" / "sandbox" / "cloud" / "specs"


def _spec(name: str) -> dict[str, Any]:
    return json.loads((SPECS / f"{name}.openapi.json").read_text())


def test_every_digitalocean_status_is_mapped() -> None:
    enum = _spec("digitalocean")["components"]["schemas"]["droplet"]["properties"]["status"]["enum"]
    assert set(enum) == set(digitalocean.STATUSES)


def test_every_linode_status_is_mapped() -> None:
    path = _spec("linode")["paths"]["/{apiVersion}/linode/instances/{linodeId}"]
    schema = path["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]["status"]["enum"]) == set(linode.STATUSES)


def _droplet(status: str, **extra: Any) -> dict[str, Any]:
    networks = {"v4": [{"ip_address": "203.0.113.5", "type": "public"}], "v6": []}
    return {"id": 1, "status": status, "networks": networks, **extra}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("new", InstanceStatus.PROVISIONING),
        ("active", InstanceStatus.ACTIVE),
        ("off", InstanceStatus.OFF),
        ("archive", InstanceStatus.TERMINATED),
        ("melting", InstanceStatus.ERROR),
    ],
)
def test_digitalocean_statuses(status: str, expected: InstanceStatus) -> None:
    assert digitalocean._instance(_droplet(status)).status == expected


def test_an_active_droplet_without_its_address_is_still_provisioning() -> None:
    droplet = _droplet("active") | {"networks": {"v4": [], "v6": []}, "locked": True}
    instance = digitalocean._instance(droplet)
    assert (instance.status, instance.busy) == (InstanceStatus.PROVISIONING, True)


@pytest.mark.parametrize(
    ("status", "power", "server", "expected", "busy"),
    [
        ("pending", "running", "none", InstanceStatus.PROVISIONING, True),
        ("active", "running", "installingbooting", InstanceStatus.PROVISIONING, True),
        ("active", "running", "ok", InstanceStatus.ACTIVE, False),
        ("active", "running", "locked", InstanceStatus.ACTIVE, True),
        ("active", "stopped", "ok", InstanceStatus.OFF, False),
        ("resizing", "running", "ok", InstanceStatus.ACTIVE, True),
        ("suspended", "stopped", "ok", InstanceStatus.SUSPENDED, False),
        ("halted", "stopped", "ok", InstanceStatus.ERROR, False),
    ],
)
def test_vultr_needs_three_fields(
    status: str, power: str, server: str, expected: InstanceStatus, busy: bool
) -> None:
    raw = {
        "id": "cb676a46-66fd-4dfb-b839-443f2e6c0b60",
        "status": status,
        "power_status": power,
        "server_status": server,
        "main_ip": "192.0.2.10",
    }
    instance = vultr._instance(raw)
    assert (instance.status, instance.busy) == (expected, busy)
    assert instance.provider_status == f"{status}/{power}/{server}"


def test_vultr_unassigned_address_is_no_address() -> None:
    raw = {"id": "x", "status": "active", "power_status": "running", "server_status": "ok",
           "main_ip": "0.0.0.0", "v6_networks": [{"main_ip": "2001:db8::5"}]}  # fmt: skip
    instance = vultr._instance(raw)
    assert (instance.status, instance.ipv4, instance.ipv6) == (
        InstanceStatus.PROVISIONING,
        None,
        "2001:db8::5",
    )


def test_linode_addresses_are_split_by_rfc1918() -> None:
    raw = {"id": 7, "status": "running", "ipv4": ["192.168.130.4", "203.0.113.9"],
           "ipv6": "2001:db8:11::2/128", "created": "2024-06-01T10:00:00"}  # fmt: skip
    instance = linode._instance(raw)
    assert (instance.ipv4, instance.private_ipv4, instance.ipv6) == (
        "203.0.113.9",
        "192.168.130.4",
        "2001:db8:11::2",
    )
    assert instance.created_at is not None and instance.created_at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    ("hostname", "label"),
    [
        ("budi-web-01", "budi-web-01-"),
        ("01.example.com", "vps-01.example.com-"),
        ("a", "a-"),
        ("x" * 63, "x" * 57 + "-"),
    ],
)
def test_linode_labels_fit_linodes_rules(hostname: str, label: str) -> None:
    made = linode.linode_label(hostname, "wbr-order-1")
    assert made.startswith(label) and 3 <= len(made) <= 64
    assert not any(twice in made for twice in ("--", "__", ".."))
    assert made == linode.linode_label(hostname, "wbr-order-1")
    assert made != linode.linode_label(hostname, "wbr-order-2")
