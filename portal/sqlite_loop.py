"""SQLite for the async engine, run on the event loop's own thread.

aiosqlite runs each connection in a thread of its own and hands every call over to it: a cursor, the
statement, the rows and closing the cursor are four round trips between threads for one query, and
those hand-overs cost more than the query itself (measured: most of a page's time went to them, see
docs/performance.md). The portal's queries are small and indexed and take microseconds, so here they
run where they are asked, on the loop, with no thread at all.

The one thing that could hold the loop is a lock: another connection writing. So SQLite's own busy
wait is off (it would sleep the whole loop), and a statement that finds the database locked is
tried again after an asynchronous pause, during which the holder of the lock, in this process or
another, finishes. After `BUSY_SECONDS` the error is raised, as the busy timeout did before.

The objects below offer the small part of aiosqlite's interface that SQLAlchemy's aiosqlite dialect
uses, so the dialect (type handling, SQL, pool) stays SQLAlchemy's own.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

BUSY_SECONDS = 5.0
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
SQLITE_BUSY_SNAPSHOT = 517  # a read snapshot went stale before its write: trying again cannot help

T = TypeVar("T")


def _locked(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", SQLITE_BUSY)
    return code != SQLITE_BUSY_SNAPSHOT and code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)


async def when_unlocked(run: Callable[[], T]) -> T:
    """`run()` now; while the database is locked by another connection, again after a growing pause."""
    deadline = time.monotonic() + BUSY_SECONDS
    pause = 0.001
    while True:
        try:
            return run()
        except sqlite3.OperationalError as error:
            if not _locked(error) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)


class Cursor:
    """An sqlite3 cursor behind aiosqlite's async methods."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        await when_unlocked(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Cursor:
        rows = list(parameters)  # a generator could not be read twice if the first try met a lock
        await when_unlocked(lambda: self._cursor.executemany(sql, rows))
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    def __aiter__(self) -> Cursor:
        return self

    async def __anext__(self) -> Any:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row


class _NewCursor:
    """What aiosqlite's `connection.cursor()` returns: awaited as a context, it gives the cursor."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    async def __aenter__(self) -> Cursor:
        return Cursor(self._connection.cursor())

    async def __aexit__(self, *exc: object) -> None:
        return None


class _RightHere:
    """Stands in for aiosqlite's queue of calls for its thread: SQLAlchemy sets the isolation level
    through it. The call is made at once and its future answered."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to whoever awaits the future, as aiosqlite does
            future.set_exception(error)


class Connection:
    """An sqlite3 connection behind the part of aiosqlite's interface SQLAlchemy uses."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection  # None once closed (SQLAlchemy checks)
        self._tx = _RightHere()

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection itself (portal.reads runs read statements on it directly)."""
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _NewCursor:
        return _NewCursor(self._conn)

    async def commit(self) -> None:
        await when_unlocked(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate)."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def connector(path: str) -> Callable[[], Any]:
    """The `async_creator` for create_async_engine: a new connection to the database file at `path`."""

    async def connect() -> Connection:
        # timeout=0: never sleep the loop on a lock; statements wait asynchronously instead (above).
        # check_same_thread=False: the pool may hand a connection to the loop of another thread (tests).
        return Connection(sqlite3.connect(path, timeout=0, check_same_thread=False))

    return connect
