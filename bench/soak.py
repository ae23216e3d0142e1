"""`python -m bench soak`: a bounded run of reads, writes and uploads against several workers, with one
worker killed (SIGKILL, as a crash would) half-way and started again by the server's supervisor.

Every write is marked with a text of its own. At the end the database is asked for each mark the
server acknowledged (303): an acknowledged write that is missing is a lost write. Server errors (5xx)
are counted, and so are connections the killed worker dropped (the browser learns nothing then, so
those writes may or may not have happened: neither lost nor acknowledged). Each worker's resident
memory is read every two seconds; the figure that matters is the growth of the worker that lived
through the whole run, from the end of the warm-up (the first fifth) to the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from bench import server
from bench.client import Answer, Browser, Closed
from bench.common import machine, prepare
from bench.seed import MAIN, PASSWORD, seed
from portal.db import make_engine

PDF = b"%PDF-1.7\n" + b"soak " * 4000  # 20 KB: a small letter, as phones upload them
TIMES = "\N{MULTIPLICATION SIGN}"  # before a count ("GET /home 200" so many times), not the letter x


@dataclass
class Report:
    seconds: float = 0.0
    answers: Counter[str] = field(default_factory=Counter)  # "GET /home 200", "POST /goals 303", ...
    dropped: int = 0
    resent: int = 0  # sent again on a new connection after the server closed a kept-alive one unanswered
    acknowledged: dict[str, list[str]] = field(default_factory=lambda: {"goal": [], "checkin": [], "document": []})
    missing: dict[str, list[str]] = field(default_factory=dict)
    killed: int = 0  # the worker's pid
    restarted: bool = False
    memory: dict[int, list[tuple[float, float]]] = field(default_factory=dict)  # pid: [(second, MiB)]

    @property
    def requests(self) -> int:
        return sum(self.answers.values())

    @property
    def server_errors(self) -> int:
        return sum(n for answer, n in self.answers.items() if answer.rsplit(" ", 1)[1].startswith("5"))

    @property
    def lost(self) -> int:
        return sum(len(marks) for marks in self.missing.values())

    def survivor_growth(self) -> tuple[float, float]:
        """Resident MiB of the longest-lived worker after the warm-up and at the end."""
        pid = max((p for p in self.memory if p != self.killed), key=lambda p: len(self.memory[p]), default=0)
        samples = self.memory.get(pid, [])
        if len(samples) < 2:
            return (float("nan"), float("nan"))
        after_warm_up = next((mib for second, mib in samples if second >= self.seconds / 5), samples[0][1])
        return (after_warm_up, samples[-1][1])

    def lines(self) -> list[str]:
        start, end = self.survivor_growth()
        growth = (end - start) / start if start else float("nan")
        acknowledged = sum(len(marks) for marks in self.acknowledged.values())
        return [
            f"soak: {self.seconds:.0f} s, {self.requests:,} answers ({self.requests / max(self.seconds, 1):.0f}/s), "
            f"{self.dropped} connections dropped mid-answer, {self.resent} requests sent again after a kept-alive "
            "connection closed unanswered (the killed worker's)",
            "answers: " + ", ".join(f"{answer} {TIMES}{n:,}" for answer, n in sorted(self.answers.items())),
            f"worker {self.killed} killed half-way; started again: {'yes' if self.restarted else 'NO'}",
            f"writes acknowledged: {acknowledged:,} ("
            + ", ".join(f"{kind} {len(marks):,}" for kind, marks in self.acknowledged.items())
            + f"); lost: {self.lost}",
            f"server errors (5xx): {self.server_errors}",
            f"memory of the worker that lived through it: {start:.0f} MiB after warm-up, {end:.0f} MiB at the end "
            f"({growth:+.0%})",
        ]


async def _browse(browser: Browser, report: Report, number: int, deadline: float, limit: int) -> None:
    """One survivor's phone: reads, a goal, a check-in, now and then an upload; until the deadline."""
    step = 0
    while time.monotonic() < deadline and report.requests < limit:
        step += 1
        mark = f"soak {number}-{step}"
        kind, method, path = [
            ("read", "GET", "/home"), ("read", "GET", "/goals"), ("goal", "POST", "/goals"),
            ("read", "GET", "/check-ins"), ("checkin", "POST", "/check-ins"), ("document", "POST", "/documents"),
        ][step % (6 if number % 3 == 0 else 5)]  # every third phone uploads too
        try:
            if kind == "read":
                answer: Answer = await browser.get(path)
            elif kind == "goal":
                answer = await browser.post(path, {"title": mark, "area": "work"})
            elif kind == "checkin":
                answer = await browser.post(path, {"feeling": "4", "safe": "yes", "note": mark})
            else:
                answer = await _upload(browser, mark)
        except Closed:
            report.dropped += 1
            await asyncio.sleep(0.05)  # the supervisor is starting a new worker
            continue
        report.answers[f"{method} {path} {answer.status}"] += 1
        if kind != "read" and answer.status == 303:
            report.acknowledged[kind].append(mark)


async def _upload(browser: Browser, mark: str) -> Answer:
    boundary = "soakboundary7f3a"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{mark}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nother\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="letter.pdf"\r\n'
        f"Content-Type: application/pdf\r\n\r\n".encode() + PDF + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return await browser.post("/documents", body=b"".join(parts),
                              content_type=f"multipart/form-data; boundary={boundary}")


async def _watch_memory(portal: server.Server, report: Report, began: float, deadline: float) -> None:
    while time.monotonic() < deadline:
        for pid, mib in portal.resident_mib().items():
            report.memory.setdefault(pid, []).append((time.monotonic() - began, mib))
        await asyncio.sleep(2)


async def _kill_one_worker(portal: server.Server, report: Report, at: float, workers: int) -> None:
    await asyncio.sleep(at)
    before = portal.workers()
    report.killed = before[0]
    os.kill(report.killed, signal.SIGKILL)
    for _ in range(300):  # at most 30 s for the supervisor to start another
        await asyncio.sleep(0.1)
        now = portal.workers()
        if report.killed not in now and len(now) >= workers:
            report.restarted = True
            return


async def drive(portal: server.Server, workers: int, browsers: int, seconds: float, limit: int = 2_000_000) -> Report:
    report = Report()
    phones = []
    for _ in range(browsers):
        phone = Browser("127.0.0.1", portal.port, compressed=False)
        await phone.sign_in(MAIN, PASSWORD)
        phones.append(phone)
    began = time.monotonic()
    deadline = began + seconds
    try:
        await asyncio.gather(
            _watch_memory(portal, report, began, deadline),
            _kill_one_worker(portal, report, seconds / 2, workers),
            *(_browse(phone, report, n, deadline, limit) for n, phone in enumerate(phones)),
        )
    finally:
        for phone in phones:
            report.resent += phone.connection.resent
            phone.close()
    report.seconds = time.monotonic() - began
    return report


async def find_missing(database_url: str, report: Report) -> None:
    """Ask the database for every acknowledged mark: the ones it does not have were lost."""
    queries = {"goal": "SELECT title FROM goal", "checkin": "SELECT note FROM checkin",
               "document": "SELECT name FROM document"}
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            for kind, query in queries.items():
                stored = {row[0] for row in await conn.execute(text(query))}
                report.missing[kind] = [mark for mark in report.acknowledged[kind] if mark not in stored]
    finally:
        await engine.dispose()


def soak(env: dict[str, str], database_url: str, folder: Path, *,
         workers: int, browsers: int, seconds: float) -> Report:
    """Serve the seeded database at `database_url` with `workers` processes and soak it for `seconds`."""
    portal = server.start("app:create_app", env, folder / "soak.log", workers=workers)
    try:
        portal.wait_until_up()
        portal.wait_for_workers(workers)
        report = asyncio.run(drive(portal, workers, browsers, seconds))
    finally:
        portal.stop()
    asyncio.run(find_missing(database_url, report))
    return report


def main_soak(args: argparse.Namespace) -> int:
    workers = max(args.workers, 2)  # one is killed: the other keeps serving
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="waypoint-soak-") as tmp:
        run = prepare(Path(tmp), args.database, args.redis, workers)
        seed(run.settings, args.survivors, args.items)
        where = "PostgreSQL" if run.settings.database_url.startswith("postgres") else "SQLite"
        print(f"database: {where}; sessions: {'Redis' if args.redis else 'database'}; workers: {workers}; "
              f"{args.concurrency} phones; {args.minutes:g} minutes")
        report = soak(run.env, run.settings.database_url, Path(tmp), workers=workers, browsers=args.concurrency,
                      seconds=args.minutes * 60)
    for line in report.lines():
        print(line)
    return 0 if report.lost == 0 and report.server_errors == 0 and report.restarted else 1
