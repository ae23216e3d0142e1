"""Backups and restores of the portal's database (`python -m portal backup` and `restore`).

SQLite is copied with its online backup API: a consistent copy while the portal runs, with what
sits in the write-ahead log included, written as one self-contained file. PostgreSQL is written by
`pg_dump` in its custom format and put back in one transaction (`pg_restore` reads it, `psql` loads it
into an emptied schema). A restore checks the backup before it replaces anything, brings it to the
newest schema afterwards, and signs everyone out: sessions kept in a copy of the past must not come
back to life.

Documents stay encrypted inside a backup, under the document key, which is never part of it. A
backup found without the key cannot be read; a backup kept without the key cannot be used.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from redis.asyncio import Redis
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from portal.db import alembic_config, make_engine, migrate
from portal.models import WebSession
from portal.config import Config

# The prefix app.py gives every Redis key; sessions are `session:…` and `user-sessions:…` under it.
REDIS_PREFIX = "waypoint:"
SESSION_KEY_PATTERNS = (f"{REDIS_PREFIX}session:*", f"{REDIS_PREFIX}user-sessions:*")
SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"  # pg_dump's custom format


class BackupError(Exception):
    """A backup or restore was refused or failed; the message is for the person at the terminal."""


# ----- backup ---------------------------------------------------------------------------------


def default_backup_path(settings: Config, now: datetime | None = None) -> Path:
    """`backups/waypoint-YYYYmmdd-HHMMSS.sqlite3` (or `.dump` for PostgreSQL) in the data folder."""
    stamp = (now or datetime.now(UTC).astimezone()).strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if settings.sqlite else "dump"
    return Path(settings.data_dir) / "backups" / f"waypoint-{stamp}.{suffix}"


def backup(settings: Config, target: Path | None = None) -> Path:
    """Copy the configured database into one new file (mode 600) and return where it is."""
    if target is None:
        target = default_backup_path(settings)
        _private_folder(target.parent)
    elif not target.parent.exists():
        _private_folder(target.parent)
    if target.exists():
        raise BackupError(f"{target} already exists. Choose a new name; a backup never overwrites a file.")
    if settings.sqlite:
        _write_new_file(target, lambda partial: _backup_sqlite(_sqlite_path(settings), partial))
    else:
        _write_new_file(target, lambda partial: _backup_postgres(settings.database_url, partial))
    return target


def _backup_sqlite(database: Path, partial: Path) -> None:
    if not database.is_file():
        raise BackupError(f"There is no database at {database} to back up.")
    # The copy would otherwise be in write-ahead-log mode like its source, and need a second file.
    _copy_sqlite(database, partial, "DELETE", f"SQLite could not copy {database}")


def _copy_sqlite(source: Path, target: Path, journal_mode: str, failure: str) -> None:
    """Copy every page of `source` (opened read-only) into `target` with SQLite's backup API, in one
    write transaction: anyone reading `target` meanwhile sees it before or after."""
    reading = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    writing = sqlite3.connect(target, timeout=30)
    try:
        reading.backup(writing)
        writing.execute(f"PRAGMA journal_mode={journal_mode}")
    except sqlite3.Error as exc:
        raise BackupError(f"{failure}: {exc}") from exc
    finally:
        writing.close()
        reading.close()


def _backup_postgres(url: str, partial: Path) -> None:
    address, env = libpq_address(url)
    _run_tool("pg_dump", ["--format=custom", "--no-owner", f"--file={partial}", f"--dbname={address}"], env)


def _write_new_file(target: Path, write: Callable[[Path], None]) -> None:
    """Write through a private temporary file beside `target`, then link it into place: a failed or
    cut-off backup leaves nothing behind, and a file that appeared meanwhile is never replaced."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")  # mode 600
    os.close(fd)
    partial = Path(name)
    try:
        write(partial)
        os.link(partial, target)
    except FileExistsError as exc:
        raise BackupError(f"{target} already exists. Choose a new name; a backup never overwrites a file.") from exc
    finally:
        partial.unlink(missing_ok=True)


def _private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)


# ----- restore --------------------------------------------------------------------------------


def check_backup(settings: Config, source: Path) -> str:
    """The schema revision a backup holds, after checking it is a whole Waypoint database this
    version of the portal can upgrade. Raises BackupError otherwise; nothing is changed."""
    if not source.is_file():
        raise BackupError(f"There is no file at {source}.")
    revision = _sqlite_revision(source) if settings.sqlite else _postgres_revision(source)
    try:
        ScriptDirectory.from_config(alembic_config(settings.database_url)).get_revision(revision)
    except CommandError as exc:
        raise BackupError(
            f"{source} comes from a newer version of Waypoint (schema {revision}). Upgrade Waypoint, then restore."
        ) from exc
    return revision


def restore(settings: Config, source: Path) -> str:
    """Check the backup at `source`, then put it in place (`replace_database`). Returns its schema revision."""
    revision = check_backup(settings, source)
    replace_database(settings, source)
    return revision


def replace_database(settings: Config, source: Path) -> None:
    """Replace the configured database with a backup that passed `check_backup`, upgrade it to the
    newest schema and sign everyone out."""
    if settings.sqlite:
        _restore_sqlite(source, _sqlite_path(settings))
    else:
        _restore_postgres(source, settings.database_url)
    migrate(settings.database_url)
    asyncio.run(sign_everyone_out(settings))


def _sqlite_revision(source: Path) -> str:
    with source.open("rb") as fh:
        if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{source} is not a SQLite database.")
    connection = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        try:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as exc:  # too damaged to check
            problems = [str(exc)]
        if problems != ["ok"]:
            raise BackupError(f"{source} is damaged: {'; '.join(problems[:3])}")
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a Waypoint database ({exc}).") from exc
    finally:
        connection.close()
    if len(rows) != 1:
        raise BackupError(f"{source} is not a Waypoint database (it records no schema version).")
    return str(rows[0][0])


def _postgres_revision(source: Path) -> str:
    """Read the alembic_version row out of the archive, after reading the whole archive once (a damaged
    one is refused before anything is changed)."""
    with source.open("rb") as fh:
        if fh.read(len(PG_DUMP_HEADER)) != PG_DUMP_HEADER:
            raise BackupError(f"{source} is not a pg_dump backup in custom format.")
    _run_tool("pg_restore", [f"--file={os.devnull}", str(source)], {}, failure=f"{source} is damaged")
    output = _run_tool("pg_restore", ["--data-only", "--table=alembic_version", "--file=-", str(source)], {},
                       failure=f"{source} is damaged")
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("COPY ") and "alembic_version" in line]
    rows = []
    if starts:
        for line in lines[starts[0] + 1:]:
            if line == "\\.":
                break
            rows.append(line.strip())
    if len(rows) != 1:
        raise BackupError(f"{source} is not a Waypoint database (it records no schema version).")
    return rows[0]


def _restore_sqlite(source: Path, database: Path) -> None:
    if database.exists() and database.samefile(source):
        raise BackupError(f"{source} is the database itself.")
    database.parent.mkdir(parents=True, exist_ok=True)
    _copy_sqlite(source, database, "WAL", f"SQLite could not write {database} (stop the portal, then restore)")


def _restore_postgres(source: Path, url: str) -> None:
    """Empty the schema and load the archive (pg_restore writes it as SQL, psql runs it) in one
    transaction, committed only once pg_restore has read the whole archive. Emptying first takes the
    tables a newer version added too, so an older backup can then be upgraded; a failure anywhere
    leaves the database as it was."""
    address, env = libpq_address(url)
    psql, pg_restore = _program("psql"), _program("pg_restore")
    with tempfile.TemporaryFile() as said:
        loader = subprocess.Popen(  # noqa: S603 - our own psql, a fixed argument list
            [psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", f"--dbname={address}"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=said, env={**os.environ, **env},
        )
        reader = subprocess.Popen([pg_restore, "--no-owner", "--file=-", str(source)],  # noqa: S603 - our own tool
                                  stdout=subprocess.PIPE, stderr=said)
        if loader.stdin is None or reader.stdout is None:  # both were asked for as pipes
            raise RuntimeError("psql or pg_restore started without its pipe")
        try:
            loader.stdin.write(b"SET client_min_messages = warning;\nBEGIN;\n"
                               b"DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n")
            shutil.copyfileobj(reader.stdout, loader.stdin)
            if reader.wait() == 0:
                loader.stdin.write(b"COMMIT;\n")
        except BrokenPipeError:  # psql stopped at an error, and rolled back
            reader.kill()
        finally:
            reader.stdout.close()
            with suppress(BrokenPipeError):
                loader.stdin.close()  # without COMMIT, psql ends and the transaction is rolled back
        if (reader.wait(), loader.wait()) != (0, 0):
            said.seek(0)
            raise BackupError(f"PostgreSQL could not restore {source}: {said.read().decode(errors='replace').strip()}")


async def sign_everyone_out(settings: Config) -> None:
    """End every session, in the database and in Redis: a restored copy must not revive old ones."""
    engine = make_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(delete(WebSession))
    finally:
        await engine.dispose()
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        try:
            for pattern in SESSION_KEY_PATTERNS:
                keys = [key async for key in redis.scan_iter(pattern, count=500)]
                for start in range(0, len(keys), 500):
                    await redis.delete(*keys[start:start + 500])
        finally:
            await redis.aclose()


# ----- shared ---------------------------------------------------------------------------------


def libpq_address(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL pg_dump and pg_restore understand, for an SQLAlchemy-style DATABASE_URL (no
    `+driver`; asyncpg's `ssl=` becomes `sslmode=`), and the environment that carries the password:
    a password in an argument would be visible to every user of the machine."""
    parsed = make_url(url)
    query = dict(parsed.query)
    if "ssl" in query and "sslmode" not in query:
        query["sslmode"] = query.pop("ssl")
    address = parsed.set(drivername="postgresql", password=None, query=query)
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    return address.render_as_string(hide_password=False), env


def where(settings: Config) -> str:
    """The configured database in words, without any password."""
    if settings.sqlite:
        return f"the SQLite database {_sqlite_path(settings)}"
    parsed = make_url(settings.database_url)
    return f"the PostgreSQL database {parsed.database} on {parsed.host or 'localhost'}"


def key_reminder(settings: Config) -> str:
    return (
        "Documents are encrypted with the document key: PORTAL_DOCUMENT_KEY, or in development the file "
        f"{Path(settings.data_dir) / 'document_key'}. The key is NOT in the backup. Keep a copy of it safely, "
        "apart from the backup: without it the documents cannot be opened, and anyone holding both can read them."
    )


def human_size(size: int) -> str:
    """`812 bytes`, `1.2 MB`: decimal units, as file managers show them."""
    if size < 1000:
        return f"{size} bytes"
    amount = size / 1000
    for unit in ("KB", "MB"):
        if amount < 1000:
            return f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{amount:.1f} GB"


def _sqlite_path(settings: Config) -> Path:
    return Path(make_url(settings.database_url).database or "")


def _program(tool: str) -> str:
    program = shutil.which(tool)
    if program is None:
        raise BackupError(f"{tool} is not installed. Install the PostgreSQL client tools (Debian: postgresql-client).")
    return program


def _run_tool(tool: str, arguments: list[str], env: dict[str, str], failure: str = "") -> str:
    """Run a PostgreSQL client tool; its standard output, or BackupError with what it said."""
    result = subprocess.run(  # noqa: S603 - a PostgreSQL client tool with arguments we build
        [_program(tool), *arguments], env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        said = result.stderr.strip() or f"exit code {result.returncode}"
        raise BackupError(f"{failure or tool + ' failed'}: {said}")
    return result.stdout
