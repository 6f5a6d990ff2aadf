"""Who is calling: the peer address, or what a trusted proxy in front of us says it saw.

`X-Forwarded-For` (and `-Proto`, `-Host`) are believed only when the peer is in
TRUSTED_PROXIES; otherwise a client could pick its own address and walk around per-IP rate
limits and ADMIN_ALLOWED_CIDRS.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from gateway_service.config import IPNetwork

# Peers are few (the load balancers, or clients when nothing is in front); remembering the
# verdict per address spares an ip_address() parse per request.
_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class ClientAddress:
    ip: str
    # The peer is a trusted proxy, so its X-Forwarded-* headers are believed and extended.
    via_trusted_proxy: bool


class ClientAddressResolver:
    def __init__(self, trusted: list[IPNetwork]) -> None:
        self.trusted = trusted
        self._verdicts: dict[str, bool] = {}

    def is_trusted(self, address: str) -> bool:
        if not self.trusted:
            return False
        verdict = self._verdicts.get(address)
        if verdict is None:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                return False
            verdict = any(ip in network for network in self.trusted)
            if len(self._verdicts) >= _CACHE_LIMIT:
                self._verdicts.clear()
            self._verdicts[address] = verdict
        return verdict

    def resolve(self, peer: str, forwarded_for: bytes | None) -> ClientAddress:
        """The rightmost address not written by one of our proxies; entries left of it were
        written by the client itself and prove nothing."""
        if not self.is_trusted(peer):
            return ClientAddress(peer, False)
        if not forwarded_for:
            return ClientAddress(peer, True)
        hops = [h.strip() for h in forwarded_for.decode("latin-1").split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.is_trusted(hop):
                try:
                    return ClientAddress(str(ipaddress.ip_address(hop)), True)
                except ValueError:
                    # Garbage left of a trusted hop: stop believing the chain.
                    return ClientAddress(peer, True)
        return ClientAddress(hops[0] if hops else peer, True)


def in_networks(address: str, networks: list[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
