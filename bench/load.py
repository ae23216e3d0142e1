"""Drive a server with many signed-in browsers at once and measure: requests per second and the
50th, 95th and 99th percentile latency. Every run is bounded in time and in count."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.client import Answer, Browser, Closed

Request = Callable[[Browser], Awaitable[Answer]]


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered request
    seconds: float = 0.0
    wrong: dict[str, int] = field(default_factory=dict)  # an unexpected status or a dropped connection, counted
    received: int = 0  # bytes on the wire
    answered: int | None = None  # measured elsewhere (wrk): the count, and `fixed` percentiles instead of latencies
    fixed: dict[int, float] = field(default_factory=dict)  # ms by percentile

    @property
    def count(self) -> int:
        return len(self.latencies) if self.answered is None else self.answered

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        if self.answered is not None:
            return self.fixed.get(p, float("nan"))
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    def row(self) -> str:
        wrong = ", ".join(f"{k}: {v}" for k, v in sorted(self.wrong.items())) or "none"
        return (f"{self.name:<34} {self.rate:>8.0f} {self.percentile(50):>8.1f} {self.percentile(95):>8.1f} "
                f"{self.percentile(99):>8.1f} {self.count:>8}   wrong: {wrong}")


HEADER = f"{'page':<34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'count':>8}"
NUMBER = "BENCHNUMBER"  # in a Page's form: replaced by a running number (survives urlencode unchanged)


@dataclass
class Page:
    """One page to drive, described once for either client (this module's or bench/wrk.py): the browsers
    whose sessions go with it (one connection each), extra headers, and for a POST its form."""

    name: str
    path: str
    sessions: list[Browser]
    headers: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None  # a POST, with the session's CSRF token added
    ok: tuple[int, ...] = (200,)
    limit: int = 1_000_000


async def drive_page(page: Page, *, seconds: float) -> Result:
    """Drive `page` with this module's client: each of its browsers on its own connection."""
    number = 0

    async def request(browser: Browser) -> Answer:
        nonlocal number
        if page.form is None:
            return await browser.get(page.path, page.headers or None)
        number += 1
        return await browser.post(page.path, {k: v.replace(NUMBER, str(number)) for k, v in page.form.items()})

    return await drive(page.name, page.sessions, request, seconds=seconds, limit=page.limit, ok=page.ok)


async def drive(name: str, browsers: list[Browser], request: Request, *, seconds: float, limit: int,
                ok: tuple[int, ...] = (200,)) -> Result:
    """Each browser sends `request` again and again until `seconds` pass or `limit` requests are sent in all."""
    result = Result(name)
    sent = 0
    deadline = time.monotonic() + seconds

    async def one(browser: Browser) -> None:
        nonlocal sent
        while time.monotonic() < deadline and sent < limit:
            sent += 1
            started = time.perf_counter()
            try:
                answer = await request(browser)
            except Closed as exc:
                result.wrong[f"dropped ({exc})"] = result.wrong.get(f"dropped ({exc})", 0) + 1
                continue
            result.latencies.append(time.perf_counter() - started)
            result.received += answer.wire
            if answer.status not in ok:
                result.wrong[str(answer.status)] = result.wrong.get(str(answer.status), 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(one(browser) for browser in browsers))
    result.seconds = time.perf_counter() - began
    return result


ASSET = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="(/[^"]+)"[^>]*>')


@dataclass
class Weight:
    page: str
    first: int  # bytes on the wire, first visit: the page and every script, style sheet, icon and manifest it names
    repeat: int  # bytes on the wire when the browser has kept what it may keep
    script: int  # of `first`, JavaScript
    assets: int


async def weigh(browser: Browser, path: str) -> Weight:
    """What a phone downloads for one page, compressed as a browser asks (br, gzip), fetched as a browser would."""
    page = await browser.get(path)
    if page.status != 200:
        raise RuntimeError(f"{path} answered {page.status}")
    html = page.text
    first = repeat = page.wire
    script = 0
    assets = 0
    for tag_path in dict.fromkeys(m.group(1) for m in ASSET.finditer(html) if "apple-touch-icon" not in m.group(0)):
        answer = await browser.get(tag_path, {"Accept": "*/*"})
        assets += 1
        first += answer.wire
        if tag_path.split("?", 1)[0].endswith(".js"):
            script += answer.wire
        cache = answer.headers.get("cache-control", "")
        if "no-store" in cache or "max-age" not in cache or "max-age=0" in cache:
            repeat += answer.wire
    return Weight(path, first, repeat, script, assets)
