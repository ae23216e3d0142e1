"""Password hashing (argon2id) and the password rules.

Parameters: 19 MiB, 2 passes, 1 lane — the OWASP/ASVS minimum, about 20 ms per hash on a 2-core
server (the library default costs ~150 ms and 64 MiB). A cheap phone waits on the network, not on
this, and the semaphore bounds memory: at most `MAX_CONCURRENT_HASHES` hashes hold their memory
at once. When the parameters change, the next successful sign-in rehashes (see docs/decisions.md).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import anyio
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from portal.i18n import _

MIN_LENGTH = 8
MAX_LENGTH = 256
MAX_CONCURRENT_HASHES = 4
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


class Hasher:
    """argon2id with chosen parameters; CPU work runs in a worker thread, bounded in number."""

    def __init__(self, memory_kib: int = 19456, passes: int = 2) -> None:
        self._ph = PasswordHasher(time_cost=passes, memory_cost=memory_kib, parallelism=1, type=Type.ID)
        self._limit = anyio.CapacityLimiter(MAX_CONCURRENT_HASHES)
        # A fixed hash to verify against when a username is unknown: the answer then takes as
        # long as for a real account, so timing does not tell whether a username exists.
        self._dummy = self._ph.hash("waypoint-timing-equaliser")

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._ph.hash, password, limiter=self._limit)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        return await anyio.to_thread.run_sync(self._verify, stored_hash, password, limiter=self._limit)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._ph.verify(stored_hash or self._dummy, password) and bool(stored_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._ph.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


@cache
def common_passwords() -> frozenset[str]:
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, username: str = "") -> str | None:
    """Why this password is refused, in plain words, or None when it is fine."""
    if not password:
        return _("Enter a password.")
    if len(password) < MIN_LENGTH:
        return _("Use at least 8 characters.")
    if len(password) > MAX_LENGTH:
        return _("Use 256 characters or fewer.")
    lowered = password.lower()
    if lowered in common_passwords():
        return _("This password is very common, so it is easy to guess. Try a few words you will remember.")
    if username and lowered == username.lower():
        return _("Your password cannot be the same as your username.")
    return None

