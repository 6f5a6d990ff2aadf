"""Simulated servers: a provider-neutral lifecycle that each stand-in renders in its own words.

Time is lazy: a change of state is scheduled as a step at a wall-clock time and applied when
the server is next looked at, so nothing runs in the background and a stand-in has no tasks to
cancel. Jobs (DigitalOcean actions, Linode events) are time windows over those steps.
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

ServerId = int | str


class State(StrEnum):
    PROVISIONING = "provisioning"
    BOOTING = "booting"
    RUNNING = "running"
    REBOOTING = "rebooting"
    SHUTTING_DOWN = "shutting_down"
    OFF = "off"
    REBUILDING = "rebuilding"
    FAILED = "failed"  # creation failed; each provider shows it its own way


@dataclass
class Step:
    at: float
    state: State


@dataclass
class Job:
    """Work on a server between `started_at` and `completes_at` (epoch seconds)."""

    id: int
    server_id: ServerId
    kind: str
    started_at: float
    completes_at: float
    failed: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    def status(self, now: float) -> str:
        if now < self.completes_at:
            return "running"
        return "failed" if self.failed else "completed"

    def percent(self, now: float) -> int:
        span = self.completes_at - self.started_at
        if span <= 0 or now >= self.completes_at:
            return 100
        return max(0, min(99, int(100 * (now - self.started_at) / span)))


@dataclass
class Machine:
    id: ServerId
    name: str
    region: str
    size: str
    image: Any
    created_at: float
    ipv4_public: str
    ipv4_private: str | None = None
    ipv6: str | None = None
    tags: list[str] = field(default_factory=list)
    user_data: str | None = None
    ssh_keys: list[Any] = field(default_factory=list)
    root_password: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    state: State = State.PROVISIONING
    updated_at: float = 0.0
    job_ids: list[int] = field(default_factory=list)
    _steps: deque[Step] = field(default_factory=deque, repr=False)

    def refresh(self, now: float) -> None:
        while self._steps and self._steps[0].at <= now:
            step = self._steps.popleft()
            self.state, self.updated_at = step.state, step.at

    def busy(self, now: float) -> bool:
        self.refresh(now)
        return bool(self._steps)

    def schedule(self, now: float, steps: Iterable[tuple[float, State]]) -> float:
        """Replace what was pending with `steps` (delay from now, state); returns the end."""
        self._steps.clear()
        end = now
        for delay, state in steps:
            end = now + delay
            self._steps.append(Step(end, state))
        self.refresh(now)
        self.updated_at = now
        return end

    @property
    def is_up(self) -> bool:
        return self.state is State.RUNNING

    def provision(self, now: float, boot_delay: float, *, fail: bool, boot: bool = True) -> float:
        if fail:
            return self.schedule(now, [(boot_delay, State.FAILED)])
        if not boot:
            return self.schedule(now, [(boot_delay, State.OFF)])
        return self.schedule(now, [(boot_delay / 2, State.BOOTING), (boot_delay, State.RUNNING)])

    def reboot(self, now: float, delay: float) -> float:
        if self.state is State.OFF:
            return self.power_on(now, delay)
        return self.schedule(now, [(0, State.REBOOTING), (delay, State.RUNNING)])

    def power_on(self, now: float, delay: float) -> float:
        if self.state is State.RUNNING:
            return now
        return self.schedule(now, [(0, State.BOOTING), (delay, State.RUNNING)])

    def shutdown(self, now: float, delay: float) -> float:
        """Graceful: the OS is asked to stop."""
        if self.state is State.OFF:
            return now
        return self.schedule(now, [(0, State.SHUTTING_DOWN), (delay, State.OFF)])

    def power_off(self, now: float, delay: float) -> float:
        """Hard: the power is cut, which takes a moment to be reported."""
        if self.state is State.OFF:
            return now
        return self.schedule(now, [(delay / 2, State.OFF)])

    def rebuild(self, now: float, boot_delay: float, *, boot: bool = True) -> float:
        final = State.RUNNING if boot else State.OFF
        return self.schedule(
            now, [(0, State.REBUILDING), (boot_delay / 2, State.BOOTING), (boot_delay, final)]
        )


# RFC 2544's benchmarking range: like the documentation ranges, nobody's real server. Public
# addresses spill over into it once those are used up: a stand-in's two documentation /24s hold
# ~500, fewer than the servers one `make bench` run asks of it.
OVERFLOW_V4 = "198.18.0.0/15"


class _Sequence:
    """Addresses of `networks` in order, each handed out once until it is released; the lowest
    released one comes back first. Hosts are generated as they are needed, not listed."""

    def __init__(self, networks: Iterable[str], *, skip: int = 0, gateways: bool = True) -> None:
        hosts = (
            str(ip)
            for net in networks
            for ip in ipaddress.ip_network(net).hosts()
            if gateways or not str(ip).endswith(".1")  # .1 is each /24's gateway
        )
        self._fresh = enumerate(itertools.islice(hosts, skip, None))
        self._position: dict[str, int] = {}
        self._released: list[tuple[int, str]] = []  # a heap
        self._free: set[str] = set()  # what it holds

    def take(self) -> str:
        if self._released:
            _, address = heapq.heappop(self._released)
            self._free.discard(address)
        else:
            position, address = next(self._fresh, (None, ""))
            if position is None:
                raise RuntimeError("the sandbox ran out of addresses; reset it")
            self._position[address] = position
        return address

    def release(self, address: str) -> bool:
        position = self._position.get(address)
        if position is None or address in self._free:
            return position is not None
        self._free.add(address)
        heapq.heappush(self._released, (position, address))
        return True


class AddressPool:
    """Sequential addresses from documentation ranges (TEST-NET-1/2/3 and 2001:db8::/32, then
    `OVERFLOW_V4`), so nothing a stand-in hands out is anyone's real server."""

    def __init__(self, public: list[str], private: str, ipv6_prefix: str) -> None:
        self._public = _Sequence([*public, OVERFLOW_V4], gateways=False)
        self._private = _Sequence([private], skip=2)
        self._ipv6_prefix = ipv6_prefix
        self._counter = itertools.count(2)

    def public_v4(self) -> str:
        return self._public.take()

    def private_v4(self) -> str:
        return self._private.take()

    def ipv6(self) -> str:
        return f"{self._ipv6_prefix}{next(self._counter):x}"

    def release(self, *addresses: str | None) -> None:
        for address in addresses:
            if address and not self._public.release(address):
                self._private.release(address)


def gateway_of(address: str) -> str:
    return str(ipaddress.ip_network(f"{address}/24", strict=False).network_address + 1)


class CloudState:
    """Everything a stand-in has created, plus the mail it would have sent."""

    def __init__(
        self,
        new_server_id: Callable[[], ServerId],
        addresses: Callable[[], AddressPool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._new_server_id = new_server_id
        self._addresses = addresses
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.machines: dict[ServerId, Machine] = {}
        self.jobs: dict[int, Job] = {}
        self.emails: list[dict[str, Any]] = []
        self.addresses = self._addresses()
        self._job_ids = itertools.count(1_900_000_001)

    def now(self) -> float:
        return self.clock()

    def new_id(self) -> ServerId:
        return self._new_server_id()

    def add(self, machine: Machine) -> Machine:
        self.machines[machine.id] = machine
        return machine

    def get(self, server_id: ServerId) -> Machine | None:
        machine = self.machines.get(server_id)
        if machine is not None:
            machine.refresh(self.now())
        return machine

    def all(self) -> list[Machine]:
        now = self.now()
        for machine in self.machines.values():
            machine.refresh(now)
        return list(self.machines.values())

    def remove(self, machine: Machine) -> None:
        self.machines.pop(machine.id, None)
        self.addresses.release(machine.ipv4_public, machine.ipv4_private)

    def add_job(self, machine: Machine, kind: str, start: float, end: float, **detail: Any) -> Job:
        failed = bool(detail.pop("failed", False))
        job = Job(next(self._job_ids), machine.id, kind, start, end, failed, detail)
        self.jobs[job.id] = job
        machine.job_ids.append(job.id)
        return job

    def jobs_of(self, machine_id: ServerId) -> list[Job]:
        return [job for job in self.jobs.values() if job.server_id == machine_id]

    def send_email(self, server: Machine, subject: str, **details: Any) -> None:
        """Record mail the provider would send to the account owner (it is not sent)."""
        self.emails.append(
            {
                "at": iso_utc(self.now()),
                "server_id": server.id,
                "server_name": server.name,
                "subject": subject,
                **details,
            }
        )


def iso_utc(epoch: float, *, offset: str = "Z", naive: bool = False) -> str:
    """`2020-07-21T18:37:44Z` (DigitalOcean), `+00:00` (Vultr) or no offset (Linode)."""
    text = datetime.fromtimestamp(epoch, UTC).replace(microsecond=0, tzinfo=None).isoformat()
    return text if naive else text + offset
