"""Reads that only show, run straight on SQLite: SQLAlchemy's statement, compiled once, without its execution layer.

A page's reads are a few small indexed statements that take SQLite 10 to 60 µs each. Through SQLAlchemy's async
engine each cost 120 to 200 µs more: a connection from the pool, a hop into a greenlet and back for the statement,
the cursor and the result, and an execution context built for every call (measured in docs/performance.md). Here a
statement is compiled for SQLite once, with its parameters' order and its columns' converters taken from that
compilation, and run on a plain sqlite3 connection, on the event loop's thread (as every SQLite statement of the
portal is, portal/sqlite_loop.py): the SQL, the values given to SQLite and the values read back are SQLAlchemy's
own, only the machinery around them is gone. Rows come back as named tuples (an attribute per column, as
SQLAlchemy's rows have).

Which connection: the request's own when its session has begun (so a read sees what the request has written, and
pending changes are flushed first, as autoflush would); otherwise a connection of the reader's own, in autocommit
(each statement a snapshot of its own, as SQLite's reads outside a write are anyway). On PostgreSQL, or for a
session made without a reader, the statement runs through SQLAlchemy as before.

A request that only read and has nothing to write but rows kept for its commit (a look in Who has looked) writes
them here too (`Reader.insert`, from portal.db): SQLAlchemy's INSERT, compiled once, committed with the same
`synchronous=FULL` before the answer goes. The commit waits for the disk (an fsync, about 0.3 ms here), so it is
made on a thread of its own (`_Committer`), not on the loop, which meanwhile serves other requests; the rows of the
requests that arrive during one commit go together into the next, one transaction and one wait for the disk for all
of them (group commit). Each request still answers only once its own rows are on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, cast

from sqlalchemy import insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.sqlite_loop import BUSY_SECONDS, Connection as LoopConnection, when_unlocked

READER = "reader"  # the key of a session's reader in its `info`
PREPARED_AT_MOST = 500  # statements kept compiled; the portal's own are some dozens, each a module's constant
COUNTS_AT_MOST = 64  # SQL kept for this many counts of values in a statement's IN lists
GROUP_AT_MOST = 64  # requests' rows committed together in one transaction at most
_REQUIRED = object()  # no value written into the statement: one must be given

# Told of each statement run here, with its values, before it runs (as SQLAlchemy's `before_cursor_execute` tells
# of its own): the tests that count a page's statements and read their plans listen to both.
watchers: list[Callable[[str, tuple[Any, ...]], None]] = []


_Value = tuple[str, int | None, Callable[[Any], Any] | None, Any]  # (key, index in its IN list, converter, fixed)


class _Marker(NamedTuple):
    """Stands for the value at `at` in the IN list `key` while SQLAlchemy writes a statement's SQL."""

    key: str
    at: int


class _Prepared:
    """One statement compiled for SQLite: its SQL, how to make its values, how to read its rows."""

    def __init__(self, statement: Any, dialect: Dialect, column_keys: list[str] | None = None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        self.compiled = compiled
        # A value SQLAlchemy would work out in Python for a row written (a column's default): not done here.
        self.computes = bool(compiled.insert_prefetch or compiled.update_prefetch)
        self.sql: str = compiled.string
        processors = compiled._bind_processors
        # Each positional value: its parameter's key (a value given with that key is taken, as SQLAlchemy takes it),
        # which value of an IN list it is (None: not one), its converter, and the value written into the statement
        # (a part's key, say), already converted.
        self._plain: dict[str, _Value] = {}
        for name in compiled.positiontup or ():
            bind, processor = compiled.binds[name], processors.get(name)
            fixed = _REQUIRED if bind.required else bind.effective_value
            if processor is not None and fixed is not _REQUIRED and not bind.expanding:
                fixed = processor(fixed)
            self._plain[name] = (bind.key, None, processor, fixed)
        self.values = [self._plain[name] for name in compiled.positiontup or ()]
        # An IN list: its SQL is written for the number of values given (as SQLAlchemy does), so it is worked out once
        # for each count. Values written into the SQL itself (literal_execute) or IN lists of tuples: each time.
        self.expanding = [compiled.binds[name] for name in compiled.positiontup or () if compiled.binds[name].expanding]
        self.each_time = bool(compiled.literal_execute_params) or any(
            bind.type._is_tuple_type for bind in compiled.post_compile_params)
        self._counted: dict[tuple[int, ...], tuple[str, list[_Value]]] = {}
        columns = compiled._result_columns
        self.row: Any = namedtuple("Row", [column.keyname for column in columns])  # type: ignore[misc]
        self.converters = [(index, converter) for index, column in enumerate(columns)
                           if (converter := column.type._cached_result_processor(dialect, None)) is not None]

    def parameters(self, given: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        if self.each_time:
            state = self.compiled.construct_expanded_state(dict(given))
            processors = {**self.compiled._bind_processors, **state.processors}
            return state.statement, tuple(processors[key](state.parameters[key]) if key in processors
                                          else state.parameters[key] for key in state.positiontup or ())
        sql, positions = self._for_counts(given) if self.expanding else (self.sql, self.values)
        values = []
        for key, index, processor, fixed in positions:
            value = given.get(key, _REQUIRED)
            if value is _REQUIRED:
                if fixed is _REQUIRED:
                    raise KeyError(f"a value is required for {key!r}")
                values.append(fixed)
            else:
                if index is not None:
                    value = value[index]
                values.append(processor(value) if processor is not None else value)
        return sql, tuple(values)

    def _for_counts(self, given: Mapping[str, Any]) -> tuple[str, list[_Value]]:
        """The SQL and positional values of this statement for the number of values in each of its IN lists."""
        lists = [given.get(bind.key, bind.effective_value) for bind in self.expanding]
        counts = tuple(len(values) for values in lists)
        found = self._counted.get(counts)
        if found is None:
            # SQLAlchemy writes the SQL for markers in place of the values; where each marker lands is its position.
            markers = {bind.key: [_Marker(bind.key, at) for at in range(count)]
                       for bind, count in zip(self.expanding, counts, strict=True)}
            state = self.compiled.construct_expanded_state({**given, **markers})
            processors = {**self.compiled._bind_processors, **state.processors}
            positions: list[_Value] = []
            for name in state.positiontup or ():
                marker = state.parameters[name]
                if not isinstance(marker, _Marker):
                    positions.append(self._plain[name])
                    continue
                processor = processors.get(name)
                bind = next(bind for bind in self.expanding if bind.key == marker.key)
                fixed = _REQUIRED if bind.required else bind.effective_value[marker.at]
                if processor is not None and fixed is not _REQUIRED:
                    fixed = processor(fixed)
                positions.append((marker.key, marker.at, processor, fixed))
            if len(self._counted) >= COUNTS_AT_MOST:
                self._counted.clear()
            found = self._counted[counts] = (state.statement, positions)
        return found

    def rows(self, raw: list[tuple[Any, ...]]) -> list[Any]:
        make, converters = self.row._make, self.converters
        if not converters:
            return [make(row) for row in raw]
        found = []
        for row in raw:
            values = list(row)
            for index, converter in converters:
                values[index] = converter(values[index])
            found.append(make(values))
        return found


Batches = list[tuple[str, list[tuple[Any, ...]]]]  # (an INSERT's SQL, the values of each of its rows)


def _pragmas(connection: sqlite3.Connection, busy_ms: int = 0) -> sqlite3.Connection:
    """The pragmas the engine's connections have (portal.db), for what is written here."""
    for pragma in (f"busy_timeout={busy_ms}", "synchronous=FULL", "foreign_keys=ON", "secure_delete=ON"):
        connection.execute(f"PRAGMA {pragma}")
    return connection


class _Committer:
    """Commits rows handed in by requests on a thread of its own, the rows of every request waiting at that moment in
    one transaction (see the module's note). Started by the first rows; `close` lets it finish what it holds."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._waiting: queue.SimpleQueue[tuple[Batches, asyncio.Future[None]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()
        self.transactions = 0  # begun, committed or not (the tests read it)

    async def commit(self, batches: Batches) -> None:
        """Returns once `batches` are committed; raises what their transaction raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._starting:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="waypoint-commit", daemon=True)
                self._thread.start()
        self._waiting.put((batches, done))
        await done

    def close(self) -> None:
        with self._starting:
            if self._thread is not None:
                self._waiting.put(None)
                self._thread.join()
                self._thread = None

    def _run(self) -> None:
        # A lock held by another connection is waited for by SQLite itself here: it sleeps this thread, not the loop.
        connection = _pragmas(sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None),
                              int(BUSY_SECONDS * 1000))
        try:
            stopping = False
            while not stopping:
                first = self._waiting.get()
                if first is None:
                    break
                group = [first]
                while len(group) < GROUP_AT_MOST:
                    try:
                        following = self._waiting.get_nowait()
                    except queue.Empty:
                        break
                    if following is None:
                        stopping = True
                        break
                    group.append(following)
                errors: list[BaseException | None]
                try:
                    self.transactions += 1
                    _write(connection, [batch for batches, _ in group for batch in batches])
                    errors = [None] * len(group)
                except Exception:
                    # One request's rows may be what failed: each request's alone, so the others' are kept.
                    self.transactions += len(group)
                    errors = [_written_or_error(connection, batches) for batches, _ in group]
                for (_, done), error in zip(group, errors, strict=True):
                    with contextlib.suppress(RuntimeError):  # that request's loop has ended: no one waits any more
                        done.get_loop().call_soon_threadsafe(_settle, done, error)
        finally:
            connection.close()


def _write(connection: sqlite3.Connection, batches: Batches) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        for sql, values in batches:
            connection.executemany(sql, values)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _written_or_error(connection: sqlite3.Connection, batches: Batches) -> BaseException | None:
    try:
        _write(connection, batches)
    except Exception as error:  # handed to the request that waits for it, raised there
        return error
    return None


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.cancelled():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


class Reader:
    """Runs read statements on one SQLite database file, straight on sqlite3 (see the module's note)."""

    def __init__(self, path: str, dialect: Dialect) -> None:
        self.path, self.dialect = path, dialect
        self._prepared: dict[Any, _Prepared] = {}
        self._connections: dict[int, sqlite3.Connection] = {}  # one a thread (tests run loops on several)
        self._committer = _Committer(path)

    @classmethod
    def of(cls, engine: AsyncEngine) -> Reader | None:
        """A reader for the engine's SQLite database file, with its dialect; None for anything else (PostgreSQL, a
        database in memory)."""
        database = engine.url.database
        if engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return None
        return cls(database, engine.dialect)

    def _own(self) -> sqlite3.Connection:
        thread = threading.get_ident()
        connection = self._connections.get(thread)
        if connection is None:
            # Autocommit: no transaction is ever left open; a lock is waited for asynchronously (when_unlocked).
            connection = _pragmas(sqlite3.connect(self.path, timeout=0, isolation_level=None,
                                                  check_same_thread=False))
            self._connections[thread] = connection
        return connection

    def _insert(self, table: Any, keys: tuple[str, ...]) -> _Prepared | None:
        found = self._prepared.get((table, keys))
        if found is None:
            found = _Prepared(insert(table), self.dialect, column_keys=list(keys))
            self._prepared[(table, keys)] = found
        return None if found.computes else found

    async def insert(self, pending: Mapping[Any, list[dict[str, Any]]]) -> bool:
        """Rows to add (table -> rows), committed (`synchronous=FULL`, perhaps in one transaction with other requests'
        rows) before this returns. False, with nothing written, when one of the tables would need SQLAlchemy to work
        out a value."""
        batches = []
        for table, rows in pending.items():
            prepared = self._insert(table, tuple(rows[0]))
            if prepared is None or any(tuple(row) != tuple(rows[0]) for row in rows):
                return False
            batches.append((prepared.sql, [prepared.parameters(row)[1] for row in rows]))
        for watcher in watchers:
            for sql, values in batches:
                for one in values:
                    watcher(sql, one)
        await self._committer.commit(batches)
        return True

    def prepared(self, statement: Any) -> _Prepared:
        found = self._prepared.get(statement)
        if found is None:
            if len(self._prepared) >= PREPARED_AT_MOST:  # statements built per call were handed in: start again
                self._prepared.clear()
            found = self._prepared[statement] = _Prepared(statement, self.dialect)
        return found

    async def rows(self, statement: Any, values: Mapping[str, Any],
                   connection: sqlite3.Connection | None = None) -> list[Any]:
        """The rows of a read statement (built once: a module's constant), on `connection` or the reader's own."""
        prepared = self.prepared(statement)
        sql, parameters = prepared.parameters(values)
        raw = connection if connection is not None else self._own()
        for watcher in watchers:
            watcher(sql, parameters)
        found = await when_unlocked(lambda: raw.execute(sql, parameters).fetchall())
        return prepared.rows(found)

    def close(self) -> None:
        self._committer.close()
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()


async def rows(db: AsyncSession, statement: Any, values: Mapping[str, Any]) -> list[Any]:
    """The rows of a read statement built once (a module's constant), for a request's session: straight on SQLite
    when the session has a reader, through SQLAlchemy otherwise. Reads what the request has written so far."""
    reader: Reader | None = db.info.get(READER)
    if reader is None:
        return list((await (await db.connection()).execute(statement, values)).all())
    if db.new or db.dirty or db.deleted:
        await db.flush()  # what autoflush does before a query through the session
    if not db.in_transaction():
        return await reader.rows(statement, values)
    # The session has begun: read on its own connection, which holds whatever it has written (a reader is made only
    # for a database file, whose connections are always the loop's own: portal.db.make_engine).
    connection = await (await db.connection()).get_raw_connection()
    return await reader.rows(statement, values, cast(LoopConnection, connection.driver_connection).sqlite)
