"""SQLite run on the event loop's thread (portal/sqlite_loop.py): a write that finds the database locked
waits without holding up the loop, goes through once the lock is gone, and gives up with SQLite's own
error after BUSY_SECONDS; another process's lock is waited for the same way; rows, types and errors come
back as through aiosqlite."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from portal import sqlite_loop
from portal.db import make_engine
from tests.conftest import run


def _url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'loop.db'}"


async def _table(engine) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL, at TIMESTAMP)"))


def test_a_locked_write_waits_while_the_loop_runs_on_and_then_goes_through(tmp_path):
    async def scenario() -> tuple[list[str], int]:
        engine = make_engine(_url(tmp_path))
        await _table(engine)
        events: list[str] = []

        async def holder() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO note (body) VALUES ('first')"))
                events.append("locked")
                await asyncio.sleep(0.3)  # holds the write lock across an await, as a slow request may
                events.append("committing")

        async def second_writer() -> None:
            await asyncio.sleep(0.05)
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO note (body) VALUES ('second')"))
            events.append("second written")

        async def ticker() -> None:
            for _ in range(5):
                await asyncio.sleep(0.03)
                events.append("tick")

        await asyncio.gather(holder(), second_writer(), ticker())
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM note"))).scalar_one()
        await engine.dispose()
        return events, count

    events, count = run(scenario())
    assert count == 2
    assert events.index("committing") < events.index("second written"), events
    # The loop kept running while the second writer waited: the ticks came before the lock was let go.
    assert events[: events.index("committing")].count("tick") >= 3, events


def test_another_process_lock_is_waited_for_and_a_lock_held_too_long_gives_sqlites_error(tmp_path, monkeypatch):
    async def scenario(hold: float) -> str:
        engine = make_engine(_url(tmp_path))
        outside = sqlite3.connect(tmp_path / "loop.db", isolation_level=None)
        outside.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        outside.execute("INSERT INTO note (body) VALUES ('outside')")
        loop = asyncio.get_running_loop()
        loop.call_later(hold, outside.execute, "COMMIT")
        try:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO note (body) VALUES ('inside')"))
            return "written"
        except OperationalError as error:
            return str(error.orig)
        finally:
            await asyncio.sleep(hold)  # the COMMIT above has run before its connection closes
            outside.close()
            await engine.dispose()

    async def make() -> None:
        engine = make_engine(_url(tmp_path))
        await _table(engine)
        await engine.dispose()

    run(make())
    assert run(scenario(0.2)) == "written"
    monkeypatch.setattr(sqlite_loop, "BUSY_SECONDS", 0.2)
    began = time.monotonic()
    assert run(scenario(0.6)) == "database is locked"
    assert time.monotonic() - began < 3


def test_rows_types_and_errors_come_back_as_through_aiosqlite(tmp_path):
    async def scenario() -> tuple[list[tuple[object, ...]], str]:
        engine = make_engine(_url(tmp_path))
        await _table(engine)
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO note (id, body, at) VALUES (:i, :b, :a)"),
                               [{"i": n, "b": f"note {n}", "a": datetime(2030, 1, 2, tzinfo=UTC)} for n in range(1, 4)])
        async with engine.connect() as conn:
            rows = [tuple(r) for r in await conn.execute(text("SELECT id, body FROM note ORDER BY id"))]
            try:
                await conn.execute(text("INSERT INTO note (id, body) VALUES (1, 'again')"))
                problem = ""
            except IntegrityError as error:
                problem = type(error.orig).__name__
        await engine.dispose()
        return rows, problem

    rows, problem = run(scenario())
    assert rows == [(1, "note 1"), (2, "note 2"), (3, "note 3")]
    assert problem == "IntegrityError"


@pytest.mark.parametrize("code", [sqlite_loop.SQLITE_BUSY, 261, sqlite_loop.SQLITE_LOCKED])
def test_only_a_lock_is_tried_again(code):
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = code  # type: ignore[attr-defined]
    assert sqlite_loop._locked(locked)
    stale = sqlite3.OperationalError("database is locked")
    stale.sqlite_errorcode = sqlite_loop.SQLITE_BUSY_SNAPSHOT  # type: ignore[attr-defined]
    assert not sqlite_loop._locked(stale)
