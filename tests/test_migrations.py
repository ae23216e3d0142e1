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


def test_a_deployment_in_use_keeps_the_help_lines_it_showed_and_a_new_one_chooses(tmp_path):
    """Before the organisation's country, everyone saw the United States' lines: an upgraded deployment keeps
    them (country US); a new, empty one has none chosen until its first admin chooses."""
    used, new = f"sqlite:///{tmp_path / 'used.db'}", f"sqlite:///{tmp_path / 'new.db'}"

    async def country(url: str) -> list[tuple[str]]:
        engine = make_engine(url)
        async with engine.connect() as conn:
            rows = [tuple(row) for row in (await conn.execute(text("SELECT country FROM organisation"))).all()]
        await engine.dispose()
        return rows

    async def a_person(url: str) -> None:
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO app_user (username, username_key, role, password_hash, active, "
                                    "created_at, exit_url, time_zone, idle_minutes, cover_when_hidden, app_name, "
                                    "language) VALUES ('river', 'river', 'survivor', '', 1, '2026-01-01 00:00:00', "
                                    "'', '', 0, 1, 'waypoint', '')"))
        await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(command.upgrade, alembic_config(used), "0015").result()
        run(a_person(used))
        pool.submit(migrate, used).result()
        pool.submit(migrate, new).result()
    assert run(country(used)) == [("US",)]
    assert run(country(new)) == []


def test_a_staff_member_made_before_home_seen_at_has_never_seen_home_and_the_step_goes_back(tmp_path):
    """0017 adds app_user.home_seen_at: an account made before it has none (their next Home shows the last 14
    days), and going down to 0016 removes it again."""
    url = f"sqlite:///{tmp_path / 'before.db'}"

    async def columns() -> list[str]:
        engine = make_engine(url)
        async with engine.connect() as conn:
            found = [row[1] for row in (await conn.execute(text("PRAGMA table_info(app_user)"))).all()]
        await engine.dispose()
        return found

    async def staff_member() -> None:
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO app_user (username, username_key, role, password_hash, active, "
                                    "created_at, exit_url, time_zone, idle_minutes, cover_when_hidden, app_name, "
                                    "language) VALUES ('Ana', 'ana', 'caseworker', '', 1, '2026-01-01 00:00:00', "
                                    "'', '', 0, 1, 'waypoint', '')"))
        await engine.dispose()

    async def seen() -> list[tuple[object]]:
        engine = make_engine(url)
        async with engine.connect() as conn:
            rows = [tuple(row) for row in (await conn.execute(text("SELECT home_seen_at FROM app_user"))).all()]
        await engine.dispose()
        return rows

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(command.upgrade, alembic_config(url), "0016").result()
        assert "home_seen_at" not in run(columns())
        run(staff_member())
        pool.submit(migrate, url).result()
        assert run(seen()) == [(None,)]
        pool.submit(command.downgrade, alembic_config(url), "0016").result()
        assert "home_seen_at" not in run(columns())
        pool.submit(migrate, url).result()
    assert run(seen()) == [(None,)]
