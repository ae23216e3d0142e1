"""The database engine, the request-scoped session, and migrations.

The request's session (the `db` dependency) commits when a handler returns and rolls back when it
raises. A handler commits earlier itself only when what follows needs the data stored (a session
that refers to a new user, ending sessions after a deactivation).

On SQLite the data stays on this machine's disk, so it is kept private there: the data folder is
0700 and the database with its `-wal` and `-shm` files 0600 (SQLite gives the two the database's own
mode). Deleted rows are overwritten (`secure_delete`), and a request that deletes a person's words
(`forget_on_disk`) has the write-ahead log checkpointed and emptied once it commits, so no copy of
them waits in the log.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Table, event, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.config import private_folder
from portal.reads import READER, Reader
from portal.sqlite_loop import Connection as LoopConnection, connector

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def async_url(url: str) -> str:
    """The same database, addressed through its async driver (aiosqlite or asyncpg)."""
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}
    name = driver.get(parsed.drivername, parsed.drivername)
    return parsed.set(drivername=name).render_as_string(hide_password=False)


def make_engine(url: str) -> AsyncEngine:
    # hide_parameters: a database error must never carry a username or a hash into the logs.
    url = async_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            _private_database(Path(database))
            # Queries run on the event loop's thread, not in a thread per connection (portal/sqlite_loop.py).
            # A connection is a file handle: keep enough for every request at once (a new one runs the
            # pragmas below), so the pool never opens and closes them under load.
            engine = create_async_engine(url, async_creator=connector(database), pool_size=20, max_overflow=20,
                                         hide_parameters=True)
        else:
            engine = create_async_engine(url, connect_args={"timeout": 5}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True)


def _private_database(database: Path) -> None:
    """The database's folder 0700, and the database file 0600 before SQLite first opens it (its log and
    shared-memory files are then made with the same mode); files an older version left are narrowed too."""
    private_folder(database.parent)
    os.close(os.open(database, os.O_CREAT | os.O_RDWR, 0o600))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"), Path(f"{database}-journal")):
        if path.exists():
            path.chmod(0o600)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers run beside one writer; FULL makes a commit survive power loss;
    # the busy timeout makes a second writer wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # What is deleted is overwritten with zeros, in the file and in the log, not only unlinked.
    cursor.execute("PRAGMA secure_delete=ON")
    # No busy wait inside SQLite on the loop's connections (a lock is waited for asynchronously).
    cursor.execute("PRAGMA busy_timeout=0" if isinstance(dbapi_connection.driver_connection, LoopConnection) else
                   "PRAGMA busy_timeout=5000")
    cursor.close()


def insert_at_commit(db: AsyncSession, table: Table, row: dict[str, Any]) -> None:
    """A row to insert when this session next commits, in the same transaction, by one Core statement per table:
    no object in the session and no unit of work (for a row written on a page that reads, like a look in Who has
    looked), after a read has begun the session's transaction: rolled back with it, never inserted."""
    db.info.setdefault(_AT_COMMIT, {}).setdefault(table, []).append(row)


_AT_COMMIT = "insert_at_commit"


@event.listens_for(Session, "before_commit")
def _insert_pending(session: Session) -> None:
    pending = session.info.pop(_AT_COMMIT, None)
    if pending:
        connection = session.connection()
        for table, rows in pending.items():
            connection.execute(insert(table), rows)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:  # a rollback of the whole transaction, whether or not it had written
        session.info.pop(_AT_COMMIT, None)


def session_factory(engine: AsyncEngine, reader: Reader | None = None) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine`; with a reader (SQLite), their reads that only show run straight on SQLite
    (portal.reads)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False,
                              info={READER: reader} if reader is not None else None)


def forget_on_disk(db: AsyncSession) -> None:
    """This request deletes a person's words: once it commits, leave no copy of them in SQLite's log."""
    db.info["forget_on_disk"] = True


async def checkpoint(db: AsyncSession) -> None:
    """SQLite: copy the log into the database and empty it (TRUNCATE). Best effort: a reader still holding
    an old snapshot keeps the log for now, and the next checkpoint (SQLite's own, or the next deletion)
    empties it."""
    if db.bind.dialect.name == "sqlite":  # type: ignore[union-attr]
        connection = await db.connection()
        await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await db.commit()


async def _write_alone(db: AsyncSession) -> None:
    """A request that read and only has rows to insert at commit (a look in Who has looked, on a page that only
    shows): on SQLite, those rows straight in one transaction of their own, with none of SQLAlchemy's session, pool
    and unit of work around them (portal.reads), committed before the answer goes, as the session would have."""
    reader: Reader | None = db.info.get(READER)
    pending = db.info.get(_AT_COMMIT)
    if reader is None or not pending or db.in_transaction() or db.new or db.dirty or db.deleted:
        return
    if await reader.insert(pending):
        db.info.pop(_AT_COMMIT, None)


def _touched(db: AsyncSession) -> bool:
    """Whether the session has anything to commit or close: a transaction begun, objects to write, or rows left
    to insert at commit. A page whose reads all ran straight on SQLite (portal.reads) leaves it untouched, and
    SQLAlchemy's commit and close of an untouched session still cost two greenlet switches and a transaction
    begun and ended for nothing (about a tenth of the check-ins page)."""
    return bool(db.in_transaction() or db.new or db.dirty or db.deleted or db.info.get(_AT_COMMIT))


def session_provider(factory: async_sessionmaker[AsyncSession]):
    async def provide_db() -> AsyncIterator[AsyncSession]:
        db = factory()
        try:
            try:
                yield db
                await _write_alone(db)
                if _touched(db):
                    await db.commit()
            except BaseException:
                await db.rollback()
                raise
            if db.info.pop("forget_on_disk", False):
                await checkpoint(db)
        finally:
            # Closed here, not by `async with`: that hands the close to a task of its own (to shield it), a turn of
            # the event loop more on every request.
            if _touched(db) or db.identity_map:
                await db.close()

    return provide_db


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser treats % as interpolation.
    cfg.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    # Date-prefixed names keep the folder in the order the schema grew.
    cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(slug)s")
    cfg.attributes["configure_logger"] = False
    return cfg


def migrate(url: str) -> None:
    """Bring the database to the newest schema. Runs outside any event loop."""
    database = make_url(url).database
    if url.startswith("sqlite") and database and database != ":memory:":
        _private_database(Path(database))
    command.upgrade(alembic_config(url), "head")


def insert_for(db: AsyncSession) -> Callable[..., Any]:
    """This database's own INSERT (PostgreSQL's or SQLite's), which has ON CONFLICT ... DO NOTHING."""
    return postgresql_insert if db.bind.dialect.name == "postgresql" else sqlite_insert  # type: ignore[union-attr]
