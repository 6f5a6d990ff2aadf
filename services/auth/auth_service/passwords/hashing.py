"""Argon2id hashing, run off the event loop (one verify costs tens of milliseconds)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from auth_service.config import AuthSettings


class PasswordHashing:
    def __init__(self, *, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        # Verified against when the account does not exist, so an unknown email costs the same
        # time as a wrong password (no enumeration by timing). Same parameters as real hashes.
        self._dummy_hash = self._hasher.hash("not a real password, only spends time")

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> PasswordHashing:
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_cost_kib=settings.argon2_memory_cost_kib,
            parallelism=settings.argon2_parallelism,
        )

    @property
    def parameters(self) -> dict[str, int]:
        return {
            "time_cost": self._hasher.time_cost,
            "memory_cost_kib": self._hasher.memory_cost,
            "parallelism": self._hasher.parallelism,
        }

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True only for a real hash that matches; always spends one full verification."""
        target = stored_hash or self._dummy_hash
        try:
            matched = await asyncio.to_thread(self._hasher.verify, target, password)
        except (VerificationError, InvalidHashError):
            matched = False
        return matched and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)
