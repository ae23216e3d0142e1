"""An empty database upgrades to the newest schema, and the models match it (no drift)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from alembic import command
from sqlalchemy import text

from portal.db import alembic_config, make_engine, migrate
from tests.conftest import DATABASE_URL, run


async def _admin(sql: str) -> None:
    engine = make_engine(DATABASE_URL)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(sql))
    await engine.dispose()


def test_empty_database_upgrades_to_head_with_no_drift(tmp_path):
    if DATABASE_URL.startswith("postgres"):
        name = f"waypoint_migration_{uuid.uuid4().hex[:8]}"
        run(_admin(f'CREATE DATABASE "{name}"'))
        url = DATABASE_URL.rsplit("/", 1)[0] + "/" + name
    else:
        name = ""
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    try:
        # Alembic runs its own event loop: keep it off any loop a browser test left running.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(migrate, url).result()
            pool.submit(command.check, alembic_config(url)).result()  # raises when models and migrations differ
            pool.submit(migrate, url).result()  # running it again is harmless
    finally:
        if name:
            run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


def test_sqlite_runs_in_wal_with_full_sync_and_foreign_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'pragmas.db'}"

    async def pragmas() -> tuple[str, int, int, int]:
        engine = make_engine(url)
        async with engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            sync = (await conn.execute(text("PRAGMA synchronous"))).scalar()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
        await engine.dispose()
        return mode, sync, fks, busy  # type: ignore[return-value]

    mode, sync, fks, busy = run(pragmas())
    # busy_timeout 0: a lock is waited for without sleeping the event loop (tests/test_sqlite_loop.py).
    assert mode == "wal" and sync == 2 and fks == 1 and busy == 0
