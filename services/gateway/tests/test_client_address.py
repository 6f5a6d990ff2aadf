"""The client address: the peer, or what trusted proxies in front of us say it was."""

from __future__ import annotations

from gateway_service.client_address import ClientAddressResolver
from gateway_service.config import parse_networks

TRUSTED = parse_networks("10.0.0.0/8,127.0.0.1/32")


def test_an_untrusted_peers_forwarded_for_is_ignored() -> None:
    resolver = ClientAddressResolver(TRUSTED)
    address = resolver.resolve("203.0.113.5", b"198.51.100.1")
    assert (address.ip, address.via_trusted_proxy) == ("203.0.113.5", False)


def test_the_rightmost_untrusted_hop_is_the_client() -> None:
    resolver = ClientAddressResolver(TRUSTED)
    address = resolver.resolve("10.0.0.2", b"1.2.3.4, 198.51.100.1, 10.0.0.9")
    assert (address.ip, address.via_trusted_proxy) == ("198.51.100.1", True)


def test_garbage_in_the_chain_stops_belief_at_the_proxy() -> None:
    resolver = ClientAddressResolver(TRUSTED)
    assert resolver.resolve("10.0.0.2", b"1.2.3.4, not-an-ip").ip == "10.0.0.2"


def test_a_chain_of_trusted_hops_yields_the_first() -> None:
    resolver = ClientAddressResolver(TRUSTED)
    assert resolver.resolve("10.0.0.2", b"10.0.0.7, 10.0.0.9").ip == "10.0.0.7"


def test_no_trusted_proxies_means_the_peer_always() -> None:
    resolver = ClientAddressResolver([])
    assert resolver.resolve("127.0.0.1", b"1.2.3.4").ip == "127.0.0.1"
