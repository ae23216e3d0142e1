"""`python -m bench pages`: each page's own time, in the process, with no server, client or network around it.

The portal is made as uvicorn makes it (`app:create_app`, its start-up run), the bench survivor and caseworker sign
in through it, and then each page is asked for directly through the ASGI interface, one request after another:
what is left is what the portal itself spends on a page (the viewer, the handler's statements, the template, the
middleware), which is what a change to the portal changes. Load figures (`python -m bench`) add the server, the
network and many requests at once on top of it.

Each page is asked `--requests` times in each of `--rounds` rounds; the fastest round is the figure (the machine's
neighbours only ever add time) and the median is shown beside it. Then the longest pause a full garbage
collection makes, after the pages have been asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.common import machine, prepare
from bench.seed import CASEWORKER, MAIN, PASSWORD, seed

Receive = Callable[[], Awaitable[dict[str, Any]]]
TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def _started(app: Any) -> None:
    """Run the app's start-up (lifespan) as uvicorn would, and leave it running."""
    into: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await into.put({"type": "lifespan.startup"})
    asyncio.get_running_loop().create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, into.get, out.put))
    answer = await out.get()
    if answer["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the portal did not start: {answer}")


async def _cookies(app: Any, username: str) -> str:
    """Sign in through the portal's own sign-in page; the Cookie header of that browser."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as browser:
        form = await browser.get("/sign-in")
        token = TOKEN.search(form.text)
        if token is None:
            raise RuntimeError("the sign-in page has no form token")
        signed = await browser.post("/sign-in", data={"username": username, "password": PASSWORD,
                                                      "_csrf_token": token.group(1)})
        if signed.status_code != 303:
            raise RuntimeError(f"sign-in as {username} answered {signed.status_code}")
        return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


async def _ask(app: Any, cookie: str, path: str) -> None:
    """One GET straight through the ASGI interface; anything but 200 stops the run."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"localhost"), (b"cookie", cookie.encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "state": {}}
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    if status != [200]:
        raise RuntimeError(f"{path} answered {status}")


async def _measure(args: argparse.Namespace, settings: Any, connection_id: str) -> None:
    from app import create_app

    app = create_app(settings)
    await _started(app)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line for each sign-in request says nothing here
    survivor, caseworker = await _cookies(app, MAIN), await _cookies(app, CASEWORKER)
    pages = [("survivor home", survivor, "/home"), ("goals", survivor, "/goals"),
             ("appointments", survivor, "/appointments"), ("check-ins", survivor, "/check-ins"),
             ("documents", survivor, "/documents"), ("sharing", survivor, "/sharing"),
             ("settings", survivor, "/settings"), ("a signed-in page that reads nothing (/healthz)", survivor,
                                                   "/healthz"),
             ("caseworker's shared goals", caseworker, f"/people/{connection_id}/goals")]
    print(f"\n{'page':<48} {'fastest ms':>11} {'median ms':>10}")
    for name, cookie, path in pages:
        for _ in range(max(args.requests // 5, 1)):
            await _ask(app, cookie, path)  # templates compiled, statements built, caches warm
        rounds = []
        for _ in range(args.rounds):
            began = time.perf_counter()
            for _ in range(args.requests):
                await _ask(app, cookie, path)
            rounds.append((time.perf_counter() - began) / args.requests * 1000)
        print(f"{name:<48} {min(rounds):>11.2f} {statistics.median(rounds):>10.2f}")
    began = time.perf_counter()
    gc.collect()
    print(f"\na full garbage collection now: {(time.perf_counter() - began) * 1000:.1f} ms "
          f"({len(gc.get_objects()):,} objects looked at, {gc.get_freeze_count():,} set aside at start)")


def main_pages(args: argparse.Namespace) -> int:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="waypoint-bench-") as tmp:
        folder = Path(tmp)
        run = prepare(folder, "", "", 1)
        seeded = seed(run.settings, args.survivors, args.items)
        print(f"SQLite; {args.survivors:,} survivors (+1 with {args.items:,} of each kind); "
              f"{args.rounds} rounds of {args.requests} requests a page, one at a time, in the process")
        asyncio.run(_measure(args, run.settings, seeded.connection_id))
    return 0
