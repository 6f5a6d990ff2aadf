"""Who is on the other end of a request: address (through trusted proxies only) and device."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from user_agents import parse as parse_user_agent

from auth_service.config import IPNetwork

MAX_USER_AGENT = 512


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None
    user_agent: str | None

    @property
    def device(self) -> str | None:
        """ "Chrome 120 on Windows 10"; the raw header when the parser does not know it."""
        if not self.user_agent:
            return None
        parsed = parse_user_agent(self.user_agent)
        if parsed.browser.family == "Other" and parsed.os.family == "Other":
            return self.user_agent[:200]
        browser = f"{parsed.browser.family} {parsed.browser.version_string}".strip()
        system = f"{parsed.os.family} {parsed.os.version_string}".strip()
        return f"{browser} on {system}"[:200]


def _is_trusted(address: str, trusted: list[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_ip(conn: HTTPConnection, trusted: list[IPNetwork]) -> str | None:
    """The rightmost address not added by one of our proxies. Entries to its left were written
    by the client itself and prove nothing."""
    peer = conn.client.host if conn.client else None
    if peer is None:
        return None
    forwarded = conn.headers.get("x-forwarded-for", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()] + [peer]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return None  # garbage from a trusted hop's left: stop believing the chain
    return hops[0]


def client_info(conn: HTTPConnection, trusted: list[IPNetwork]) -> ClientInfo:
    agent = conn.headers.get("user-agent")
    return ClientInfo(
        ip=client_ip(conn, trusted), user_agent=agent[:MAX_USER_AGENT] if agent else None
    )
