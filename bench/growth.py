"""`python -m bench growth`: do the pages stay flat as the database grows?

Three databases, each seeded afresh and served the same way: the base (100 survivors, 25 items of
each kind for the survivor measured: more than one page of 20, so every list shows a full page and
its page links, as it does with many), many survivors (100,000 by default) and many items (the one
survivor with 10,000 of each kind). Each page is driven for the same time with the same number of
browsers; the table gives each page's median and 95th percentile in each database and the ratio to the
base. The bar is 1.5 times the base at most.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench import load, server
from bench.common import browsers_for, close, machine, prepare
from bench.seed import CASEWORKER, MAIN, Seeded, seed

BAR = 1.5
TIMES = "\N{MULTIPLICATION SIGN}"  # after a ratio ("1.20 times the base"), not the letter x


def pages(seeded: Seeded) -> list[tuple[str, str, str]]:
    """(name, who, path): the survivor's home and lists, and the caseworker's view of a shared list."""
    return [
        ("survivor home", MAIN, "/home"), ("goals", MAIN, "/goals"), ("appointments", MAIN, "/appointments"),
        ("check-ins", MAIN, "/check-ins"), ("documents", MAIN, "/documents"), ("sharing", MAIN, "/sharing"),
        ("who has looked", MAIN, "/sharing/log"),
        ("caseworker: My people", CASEWORKER, "/people"),
        ("caseworker: shared goals", CASEWORKER, f"/people/{seeded.connection_id}/goals"),
    ]


def _get(path: str) -> load.Request:
    """A GET of `path`, the same whichever page the loop has moved on to."""
    return lambda browser: browser.get(path)


async def measure(url: str, seeded: Seeded, concurrency: int, seconds: float) -> dict[str, load.Result]:
    people = {MAIN: await browsers_for(url, MAIN, concurrency),
              CASEWORKER: await browsers_for(url, CASEWORKER, concurrency)}
    found: dict[str, load.Result] = {}
    try:
        for name, who, path in pages(seeded):
            await load.drive("warm-up", people[who], _get(path), seconds=0.5, limit=200)
            found[name] = await load.drive(name, people[who], _get(path), seconds=seconds, limit=100_000)
    finally:
        close([b for browsers in people.values() for b in browsers])
    return found


def main_growth(args: argparse.Namespace) -> int:
    print(f"machine: {machine()}")
    print(f"{args.concurrency} browsers at once, {args.seconds:g} s per page, {args.workers} worker(s)")
    base_items = args.base_items
    sizes = [("base", 100, base_items), ("many survivors", args.large_survivors, base_items),
             ("many items", 100, args.large_items)]
    results: dict[str, dict[str, load.Result]] = {}
    for label, survivors, items in sizes:
        with tempfile.TemporaryDirectory(prefix="waypoint-growth-") as tmp:
            run = prepare(Path(tmp), args.database, args.redis, args.workers)
            began = time.monotonic()
            seeded = seed(run.settings, survivors, items)
            print(f"{label}: {survivors:,} survivors, {items:,} of each kind for the one measured "
                  f"(seeded in {time.monotonic() - began:.0f} s)", flush=True)
            portal = server.start("app:create_app", run.env, Path(tmp) / "portal.log", workers=args.workers)
            try:
                portal.wait_until_up()
                results[label] = asyncio.run(measure(portal.url, seeded, args.concurrency, args.seconds))
            finally:
                portal.stop()

    base = results["base"]
    print()
    print(f"{'page':<26} " + " ".join(f"{label + ' p50/p95 ms':>27}" for label, _s, _i in sizes) + "   ratio (p50)")
    worst = 0.0
    for name in base:
        cells, ratios = [], []
        for label, _s, _i in sizes:
            result = results[label][name]
            cells.append(f"{result.percentile(50):>12.1f} / {result.percentile(95):>8.1f}   ")
            ratios.append(result.percentile(50) / base[name].percentile(50))
        worst = max(worst, *ratios[1:])
        wrong = sum(sum(results[label][name].wrong.values()) for label, _s, _i in sizes)
        print(f"{name:<26} " + " ".join(cells) + "  " + " ".join(f"{r:.2f}{TIMES}" for r in ratios[1:])
              + (f"   ({wrong} wrong answers)" if wrong else ""))
    print(f"\nworst ratio to the base: {worst:.2f}{TIMES} (bar: at most {BAR}{TIMES})")
    bad = sum(sum(r.wrong.values()) for by_page in results.values() for r in by_page.values())
    return 1 if bad or worst > BAR else 0
