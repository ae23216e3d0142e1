"""Counters with expiry, in memory or in Redis, the growing-delay throttle built on them, and the signed
device cookies that keep strangers' guesses from slowing an account's owner down (OWASP, "Slow Down Online
Guessing Attacks with Device Cookies").

Nothing here locks a person out for good: a counter's window starts at its first failure and is never
extended by later ones, so every counter forgets itself when its window ends, however often it is hit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis


class Counters(Protocol):
    async def hit(self, key: str, window_seconds: int) -> int: ...
    async def get_float(self, key: str) -> float: ...
    async def put_float(self, key: str, value: float, ttl_seconds: int) -> None: ...
    async def forget(self, key: str) -> None: ...


class MemoryCounters:
    """One process's counters (the embedded default)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._values: dict[str, tuple[float, float]] = {}  # key -> (value, expires at)
        self._clock = clock

    def _live(self, key: str) -> float | None:
        item = self._values.get(key)
        if item is None:
            return None
        if item[1] <= self._clock():
            del self._values[key]
            return None
        return item[0]

    async def hit(self, key: str, window_seconds: int) -> int:
        """Count one more; the window starts with the first hit and later hits do not extend it."""
        item = self._values.get(key) if self._live(key) is not None else None
        value, expires = (item[0] + 1, item[1]) if item else (1.0, self._clock() + window_seconds)
        self._values[key] = (value, expires)
        if len(self._values) > 50_000:  # a flood of distinct keys must not grow memory without end
            self._purge()
        return int(value)

    async def get_float(self, key: str) -> float:
        return self._live(key) or 0.0

    async def put_float(self, key: str, value: float, ttl_seconds: int) -> None:
        self._values[key] = (value, self._clock() + ttl_seconds)

    async def forget(self, key: str) -> None:
        self._values.pop(key, None)

    def _purge(self) -> None:
        now = self._clock()
        for key in [k for k, (_, exp) in self._values.items() if exp <= now]:
            del self._values[key]


class RedisCounters:
    """Counters shared by every worker and machine."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def hit(self, key: str, window_seconds: int) -> int:
        """Count one more; the window starts with the first hit (INCR keeps the expiry SET NX gave it)."""
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, ex=window_seconds, nx=True)
            pipe.incr(name)
            _, value = await pipe.execute()
        return int(value)

    async def get_float(self, key: str) -> float:
        raw = await self._redis.get(self._prefix + key)
        return float(raw) if raw is not None else 0.0

    async def put_float(self, key: str, value: float, ttl_seconds: int) -> None:
        await self._redis.set(self._prefix + key, repr(value), ex=max(1, ttl_seconds))

    async def forget(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


@dataclass(frozen=True)
class Rule:
    """After `free` failures within `window` seconds, each further failure doubles the wait."""

    name: str
    free: int
    window: int
    max_wait: int

    def wait_after(self, failures: int) -> int:
        if failures <= self.free:
            return 0
        return min(self.max_wait, 2 ** (failures - self.free))


# Every limit of the portal, by the name of what it counts. Nobody is locked out for good: after the free
# ones, each failure doubles the wait (2 s, 4 s, 8 s ...) up to `max_wait`.
RULES = (
    # Password and recovery-code tries (docs/decisions.md, "Strangers' guesses never keep the owner out"):
    # a browser holding this account's device cookie has its own count, nobody else's.
    Rule("device", free=5, window=3600, max_wait=900),
    # Browsers without one: per (account, address), and per account only slowed, up to a minute.
    Rule("account_address", free=5, window=3600, max_wait=900),
    Rule("untrusted_account", free=10, window=3600, max_wait=60),
    Rule("address", free=20, window=3600, max_wait=300),
    # The password asked for again by a signed-in person (export, delete, new password, new codes): per session.
    Rule("session_password", free=5, window=3600, max_wait=900),
    # Sign-ups per address an hour.
    Rule("signup_address", free=10, window=3600, max_wait=3600),
    # Connection codes: wrong codes typed by one survivor, and codes shown by one staff member.
    Rule("connect_account", free=5, window=3600, max_wait=900),
    Rule("connect_address", free=20, window=3600, max_wait=900),
    Rule("code_staff", free=20, window=3600, max_wait=900),
    # "Sign in with a passkey" asked for without an account: each ask stores a challenge for 5 minutes.
    Rule("passkey_options_address", free=30, window=3600, max_wait=300),
)


class Throttle:
    """Growing delays after failures, per subject (a device, an account and address, a session ...)."""

    def __init__(self, counters: Counters, rules: tuple[Rule, ...] = RULES,
                 clock: Callable[[], float] = time.time) -> None:
        self._counters = counters
        self._rules = {rule.name: rule for rule in rules}
        self._clock = clock

    async def seconds_to_wait(self, **subjects: str) -> int:
        """How long the caller must wait before trying again (0: go ahead)."""
        now = self._clock()
        waits = [await self._counters.get_float(f"until:{name}:{value}") - now for name, value in subjects.items()]
        return max(0, math.ceil(max(waits, default=0)))

    async def failed(self, **subjects: str) -> None:
        now = self._clock()
        for name, value in subjects.items():
            rule = self._rules[name]
            failures = await self._counters.hit(f"count:{name}:{value}", rule.window)
            wait = rule.wait_after(failures)
            if wait:
                await self._counters.put_float(f"until:{name}:{value}", now + wait, wait)

    async def succeeded(self, **subjects: str) -> None:
        for name, value in subjects.items():
            await self._counters.forget(f"count:{name}:{value}")
            await self._counters.forget(f"until:{name}:{value}")


# ----- device cookies --------------------------------------------------------------------------------

DEVICE_COOKIE_DAYS = 365
_TOKEN_PART = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _device_signature(secret: str, account: str, nonce: str) -> str:
    mac = hmac.new(secret.encode(), f"device\0{account}\0{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def new_device_token(secret: str, account: str) -> str:
    """A device cookie's value for `account` (its username key): a random nonce and an HMAC of the nonce with the
    account under the server's secret. The account itself is not in it."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_device_signature(secret, account, nonce)}"


def device_of(secret: str, account: str, token: str) -> str | None:
    """The device's nonce if `token` is a device cookie this server gave for `account`, else None."""
    nonce, _, signature = token.partition(".")
    if not (_TOKEN_PART.fullmatch(nonce) and _TOKEN_PART.fullmatch(signature)):
        return None
    expected = _device_signature(secret, account, nonce)
    return nonce if hmac.compare_digest(signature.encode(), expected.encode()) else None
