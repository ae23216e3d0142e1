"""`python -m bench`: seed, start the portal as deployed, drive it over loopback, print the figures.

    python -m bench                          # SQLite, 1 worker, 100 survivors, 10 items each kind
    python -m bench --client wrk             # the same pages driven by wrk (apt-get install wrk)
    python -m bench --workers 2 --database postgresql://root@127.0.0.1:5432/waypoint_bench --redis redis://127.0.0.1:6379/9
    python -m bench growth                   # 100 then 100,000 survivors; 10 then 10,000 items: flat?
    python -m bench soak --minutes 10        # reads, writes and uploads with a worker killed mid-way
    python -m bench pages                    # each page's own time in the process: no server, no network

The database named is emptied first. Only loopback is ever driven; every loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import load, server, wrk
from bench.client import Browser
from bench.common import browsers_for, close, machine, prepare
from bench.seed import CASEWORKER, MAIN, Seeded, seed

HELLO, HOME, SHARED = "bare Litestar hello", "survivor home  /home", "caseworker's shared list"
# Every list the bench survivor has items in (the seed: goals, appointments, check-ins, documents).
LISTS = {f"list  {path}": path for path in ("/goals", "/appointments", "/check-ins", "/documents")}
STATIC, DOWNLOAD = "static file (the style sheet)", "5 MB document download"
# Issue 20: the share of the bare page's throughput each must reach.
BARS = {HOME: 0.05, **dict.fromkeys(LISTS, 0.05), SHARED: 0.05, STATIC: 0.40}


@dataclass
class Client:
    """Which load client drives the pages: this package's own (bench/client.py), or wrk (bench/wrk.py)."""

    program: str  # the wrk program; "" for the Python client
    folder: Path

    def describe(self, concurrency: int) -> str:
        if self.program:
            return (f"{wrk.version(self.program)}, -t {wrk.THREADS}, -c {concurrency} "
                    f"(one signed-in session per connection, used in turn)")
        return f"python (bench/client.py: {concurrency} browsers, one connection and one session each)"

    async def drive(self, url: str, page: load.Page, seconds: float) -> load.Result:
        if self.program:
            return wrk.drive(self.program, url, page, seconds=seconds, folder=self.folder)
        return await load.drive_page(page, seconds=seconds)


async def hello_figures(url: str, concurrency: int, seconds: float, client: Client) -> load.Result:
    port = int(url.rsplit(":", 1)[1])
    browsers = [Browser("127.0.0.1", port) for _ in range(concurrency)]
    try:
        await client.drive(url, load.Page("warm-up", "/", browsers, limit=2000), 1)
        return await client.drive(url, load.Page(HELLO, "/", browsers), seconds)
    finally:
        close(browsers)


def stylesheet(html: str) -> str:
    """The style sheet's URL as the page links it, whatever the static files' URL scheme is."""
    for match in load.ASSET.finditer(html):
        if match.group(1).split("?", 1)[0].endswith(".css"):
            return match.group(1)
    raise RuntimeError("the home page links no style sheet")


async def portal_figures(url: str, seeded: Seeded, concurrency: int, seconds: float,
                         client: Client) -> list[load.Result]:
    survivors = await browsers_for(url, MAIN, concurrency)
    staff = await browsers_for(url, CASEWORKER, concurrency)
    downloads = survivors[: min(concurrency, 10)]
    shared = f"/people/{seeded.connection_id}/goals"
    download = f"/documents/{seeded.document_id}/download"
    check = await survivors[0].get(download, {"Accept-Encoding": "identity"})
    if hashlib.sha256(check.body).digest() != hashlib.sha256(seeded.document_bytes).digest():
        raise RuntimeError("the downloaded document is not the one seeded")
    css = stylesheet((await survivors[0].get("/home")).text)
    print(f"static file measured: {css}")
    checkin = {"feeling": "4", "safe": "yes", "note": f"bench note {load.NUMBER}"}
    pages = [
        load.Page(HOME, "/home", survivors),
        *(load.Page(name, path, survivors) for name, path in LISTS.items()),
        load.Page(SHARED, shared, staff),
        load.Page("check-in save (POST)", "/check-ins", survivors, form=checkin, ok=(303,)),
        load.Page(STATIC, css, survivors, {"Accept": "text/css,*/*;q=0.1"}),
        load.Page(DOWNLOAD, download, downloads, {"Accept-Encoding": "identity"}, limit=500),
    ]
    try:
        await client.drive(url, load.Page("warm-up", "/home", survivors, limit=2000), 1)
        return [await client.drive(url, page, seconds) for page in pages]
    finally:
        close(survivors + staff)


async def weights(url: str, seeded: Seeded) -> list[load.Weight]:
    port = int(url.rsplit(":", 1)[1])
    stranger = Browser("127.0.0.1", port)
    found = [await load.weigh(stranger, "/sign-in")]
    survivor, = await browsers_for(url, MAIN, 1)
    for path in ("/home", "/goals", "/check-ins", "/documents", "/settings", "/sharing"):
        survivor.token = ""
        found.append(await load.weigh(survivor, path))
    caseworker, = await browsers_for(url, CASEWORKER, 1)
    found.append(await load.weigh(caseworker, f"/people/{seeded.connection_id}/goals"))
    close([stranger, survivor, caseworker])
    return found


def main_run(args: argparse.Namespace) -> int:
    program = ""
    if args.client == "wrk":
        program = wrk.find() or ""
        if not program:
            print(wrk.INSTALL, file=sys.stderr)
            return 2
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="waypoint-bench-") as tmp:
        folder = Path(tmp)
        client = Client(program, folder)
        run = prepare(folder, args.database, args.redis, args.workers)
        where = "PostgreSQL" if run.settings.database_url.startswith("postgres") else "SQLite"
        print(f"database: {where}; sessions: {'Redis' if args.redis else 'database'}; workers: {args.workers}; "
              f"{args.concurrency} browsers at once; {args.seconds:g} s per page")
        began = time.monotonic()
        seeded = seed(run.settings, args.survivors, args.items)
        print(f"seeded {args.survivors:,} survivors (+1 with {args.items:,} of each kind, a 5 MB document) "
              f"in {time.monotonic() - began:.1f} s")

        bare = server.start("bench.bare:create_app", {}, folder / "bare.log", workers=args.workers)
        try:
            bare.wait_until_up()
            hello = asyncio.run(hello_figures(bare.url, args.concurrency, args.seconds, client))
        finally:
            bare.stop()
        portal = server.start("app:create_app", run.env, folder / "portal.log", workers=args.workers)
        try:
            portal.wait_until_up()
            # Weighed first: Settings lists the browsers signed in, and the load signs in many.
            pages = asyncio.run(weights(portal.url, seeded))
            results = asyncio.run(portal_figures(portal.url, seeded, args.concurrency, args.seconds, client))
            memory = portal.peak_memory_mib()
        finally:
            portal.stop()

    print(f"\nclient: {client.describe(args.concurrency)}")
    print(load.HEADER)
    for result in [hello, *results]:
        print(result.row())
    print(f"\nthroughput as a share of the bare hello's ({hello.rate:,.0f} req/s) in this run:")
    for result in results:
        bar = BARS.get(result.name)
        share = result.rate / hello.rate if hello.rate else 0.0
        print(f"  {result.name:<34} {share:>7.1%} of bare" + (f"  (bar: at least {bar:.0%})" if bar else ""))
    named = {result.name: result for result in results}
    home, download = named[HOME], named[DOWNLOAD]
    print(f"survivor home p95 {home.percentile(95):.1f} ms (bar: at most 50 ms with 50 at once on SQLite; "
          f"QUALITY.md's bar for its share of bare: at least 25%)")
    if download.seconds:
        print(f"downloads: {download.received / download.seconds / 1e6:.0f} MB/s "
              f"through {min(args.concurrency, 10)} browsers")
    print(f"\n{'page (br/gzip, headers included)':<34} {'first KB':>9} {'repeat KB':>10} {'JS KB':>7} {'files':>6}")
    for page in pages:
        print(f"{page.page[:34]:<34} {page.first / 1024:>9.1f} {page.repeat / 1024:>10.1f} {page.script / 1024:>7.1f} "
              f"{page.assets + 1:>6}")
    print("bars: at most 60 KB first visit, 15 KB of it JavaScript")
    print("\nserver peak memory (VmHWM): " + ", ".join(f"{mib:.0f} MiB" for mib in memory.values())
          + "  (master first when several workers)")
    bad = sum(sum(r.wrong.values()) for r in [hello, *results])
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", choices=("run", "growth", "soak", "pages"), default="run")
    parser.add_argument("--database", default="", help="a postgresql:// URL (emptied!); default: a new SQLite file")
    parser.add_argument("--redis", default="", help="a redis:// URL for sessions and limits; default: none")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--survivors", type=int, default=100)
    parser.add_argument("--items", type=int, default=10,
                        help="goals, appointments, check-ins and documents of one survivor")
    parser.add_argument("--concurrency", type=int, default=50, help="browsers at once")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long each page is driven")
    parser.add_argument("--client", choices=("python", "wrk"), default="python",
                        help="run: the load client, this package's own or wrk (apt-get install wrk)")
    parser.add_argument("--minutes", type=float, default=10.0, help="soak: how long")
    parser.add_argument("--rounds", type=int, default=10, help="pages: rounds per page (the fastest is the figure)")
    parser.add_argument("--requests", type=int, default=100, help="pages: requests per round")
    parser.add_argument("--large-survivors", type=int, default=100_000, help="growth: survivors in the large database")
    parser.add_argument("--large-items", type=int, default=10_000,
                        help="growth: items of each kind for the one measured")
    parser.add_argument("--base-items", type=int, default=25, help="growth: items of each kind in the base database")
    args = parser.parse_args(argv)
    if args.mode == "growth":
        from bench.growth import main_growth

        return main_growth(args)
    if args.mode == "pages":
        from bench.pages import main_pages

        return main_pages(args)
    if args.mode == "soak":
        from bench.soak import main_soak

        return main_soak(args)
    return main_run(args)


if __name__ == "__main__":
    sys.exit(main())
