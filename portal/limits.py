"""Counters with expiry, in memory or in Redis, and the growing-delay throttle built on them.

Nothing here locks a person out for good: every counter forgets itself after its window.
"""

from __future__ import annotations

import math
import time
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

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, float]] = {}  # key -> (value, expires at)

    def _live(self, key: str) -> float | None:
        item = self._values.get(key)
        if item is None:
            return None
        if item[1] <= time.monotonic():
            del self._values[key]
            return None
        return item[0]

    async def hit(self, key: str, window_seconds: int) -> int:
        value = (self._live(key) or 0) + 1
        self._values[key] = (value, time.monotonic() + window_seconds)
        if len(self._values) > 50_000:  # a flood of distinct keys must not grow memory without end
            self._purge()
        return int(value)

    async def get_float(self, key: str) -> float:
        return self._live(key) or 0.0

    async def put_float(self, key: str, value: float, ttl_seconds: int) -> None:
        self._values[key] = (value, time.monotonic() + ttl_seconds)

    async def forget(self, key: str) -> None:
        self._values.pop(key, None)

    def _purge(self) -> None:
        now = time.monotonic()
        for key in [k for k, (_, exp) in self._values.items() if exp <= now]:
            del self._values[key]


class RedisCounters:
    """Counters shared by every worker and machine."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def hit(self, key: str, window_seconds: int) -> int:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds)
            value, _ = await pipe.execute()
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


class Throttle:
    """Growing delays after failures, per account and per address."""

    def __init__(self, counters: Counters, rules: tuple[Rule, ...]) -> None:
        self._counters = counters
        self._rules = {rule.name: rule for rule in rules}

    async def seconds_to_wait(self, **subjects: str) -> int:
        """How long the caller must wait before trying again (0: go ahead)."""
        now = time.time()
        waits = [await self._counters.get_float(f"until:{name}:{value}") - now for name, value in subjects.items()]
        return max(0, math.ceil(max(waits, default=0)))

    async def failed(self, **subjects: str) -> None:
        now = time.time()
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
