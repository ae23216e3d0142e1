"""Restore drill: `python -m portal backup` and `restore`, run as a deployment runs them, on the database
the suite runs on (SQLite by default, PostgreSQL with DATABASE_URL, sessions in Redis with REDIS_URL).

Every test here works on a database of its own (the `deployment` fixture): a new SQLite file, or a new
PostgreSQL database made beside the suite's and dropped afterwards. A restore replaces a whole database
and a failed one may leave anything behind; doing that to the suite's shared database would put every
later test at the mercy of this one. A database of its own is still a real one (migrated from empty,
written through HTTP, copied and put back by the real commands), so nothing of the drill is pretended.
Sessions in Redis are shared: the suite's Redis database holds only this test's keys while it runs.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from portal.backup import BackupError, check_backup, replace_database
from portal.db import alembic_config, make_engine, migrate
from portal.config import Config
from tests.conftest import BASE_URL, PASSWORD, REDIS_URL, make_user, post_form, run, sign_in, sign_up, sql
from tests.test_checkins import check_in
from tests.test_documents import big_file, upload
from tests.test_goals import add_step, new_goal

ROOT = Path(__file__).resolve().parent.parent
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


# ----- a deployment of its own ------------------------------------------------------------------


async def _admin(url: str, statement: str) -> None:
    engine = make_engine(url)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(statement))
    await engine.dispose()


def _in_thread(function, *args):  # type: ignore[no-untyped-def]
    """Alembic runs its own event loop: keep it off any loop a browser test left running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def _new_database(settings: Config, tmp_path: Path, name: str) -> str:
    if settings.sqlite:
        (tmp_path / name).mkdir()
        return f"sqlite:///{(tmp_path / name / 'waypoint.db').as_posix()}"
    run(_admin(settings.database_url, f'CREATE DATABASE "{name}"'))
    return make_url(settings.database_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(settings: Config, name: str) -> None:
    if not settings.sqlite:
        run(_admin(settings.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def deployment(settings: Config, tmp_path: Path) -> Iterator[Config]:
    """The suite's settings (keys, Redis, data folder) on a new database, migrated to the newest schema."""
    name = f"waypoint_backup_{uuid.uuid4().hex[:8]}"
    deployed = replace(settings, database_url=_new_database(settings, tmp_path, name))
    try:
        _in_thread(migrate, deployed.database_url)
        yield deployed
    finally:
        _drop_database(settings, name)


def portal(deployed: Config, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`python -m portal ...` with the environment a deployment has, and no terminal."""
    env = {
        **os.environ, "DATABASE_URL": deployed.database_url, "REDIS_URL": deployed.redis_url,
        "PORTAL_DATA_DIR": str(deployed.data_dir), "PORTAL_SECRET_KEY": deployed.secret_key,
        "PORTAL_DOCUMENT_KEY": deployed.document_key, "PORTAL_VAPID_PRIVATE_KEY": deployed.vapid_private_key,
    }
    return subprocess.run([sys.executable, "-m", "portal", *arguments], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300, check=False)


def portal_client(deployed: Config) -> TestClient:
    return TestClient(create_app(deployed), base_url=BASE_URL)


def snapshot(deployed: Config) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, as the database returns it, in a fixed order."""

    async def read() -> dict[str, list[tuple[object, ...]]]:
        engine = make_engine(deployed.database_url)
        async with engine.connect() as conn:
            if deployed.sqlite:
                query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            else:
                query = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            tables = (await conn.execute(text(query))).scalars().all()
            rows = {}
            for table in sorted(tables):
                result = await conn.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608 - names from the catalogue
                values = (tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in result)
                rows[table] = sorted(values, key=repr)
        await engine.dispose()
        return rows

    return run(read())  # type: ignore[no-any-return]


def redis_sessions() -> list[bytes]:
    if not REDIS_URL:
        return []

    async def keys() -> list[bytes]:
        from redis.asyncio import Redis

        redis = Redis.from_url(REDIS_URL)
        found = [key async for key in redis.scan_iter("waypoint:*session*")]
        await redis.aclose()
        return found

    return run(keys())  # type: ignore[no-any-return]


def signed_in(deployed: Config, token: str) -> bool:
    with portal_client(deployed) as browser:
        browser.cookies.set("wp_session", token, domain="testserver.local")
        return browser.get("/home", follow_redirects=False).status_code == 200


def revision(deployed: Config) -> str:
    return str(sql(deployed, "SELECT version_num FROM alembic_version")[0][0])


def backup_file(deployed: Config, path: Path) -> Path:
    made = portal(deployed, "backup", "--to", str(path))
    assert made.returncode == 0, made.stderr
    return path


# ----- the drill --------------------------------------------------------------------------------


def test_restore_drill_brings_back_what_was_backed_up_drops_what_came_after_and_signs_everyone_out(deployment):
    content = big_file(700_001)  # three chunks
    with portal_client(deployment) as client:
        sign_up(client, "river")
        goal = new_goal(client, "Find a course", "education")
        for step in ("Ask at the library", "Fill in the form"):
            assert add_step(client, goal, step).status_code == 303
        checkin = check_in(client, note="A calm morning").split("?")[0]
        uploaded = upload(client, content, name="Passport")
        assert uploaded.status_code == 303, uploaded.text
        document = uploaded.headers["location"]
        old_token = client.cookies["wp_session"]
        before = snapshot(deployment)

        made = portal(deployment, "backup")  # while the portal runs, to the default place
        assert made.returncode == 0, made.stderr
        backups = list((deployment.data_dir / "backups").iterdir())
        assert len(backups) == 1 and str(backups[0]) in made.stdout and "NOT in the backup" in made.stdout
        saved = backups[0]
        assert saved.stat().st_mode & 0o777 == 0o600
        assert (deployment.data_dir / "backups").stat().st_mode & 0o777 == 0o700

        # Life goes on after the backup: a new goal and person, the check-in and the document deleted.
        new_goal(client, "Written after the backup")
        assert post_form(client, f"{checkin}/delete").status_code == 303
        assert post_form(client, f"{document}/delete").status_code == 303
        with portal_client(deployment) as other:
            sign_up(other, "harbour")
        with portal_client(deployment) as phone:
            late_token = sign_in(phone, "river").cookies["wp_session"]
        assert snapshot(deployment) != before
    # The portal is stopped for the restore, as the command asks.

    restored = portal(deployment, "restore", str(saved), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "signed out" in restored.stdout and "NOT in the backup" in restored.stdout

    after = snapshot(deployment)
    assert after.pop("web_session") == []
    assert after == {table: rows for table, rows in before.items() if table != "web_session"}
    assert revision(deployment) == HEAD
    assert redis_sessions() == []
    assert not signed_in(deployment, old_token) and not signed_in(deployment, late_token)

    with portal_client(deployment) as client:
        assert client.get(document, follow_redirects=False).status_code == 303  # signed out
        sign_in(client, "river")
        download = client.get(f"{document}/download")
        assert download.status_code == 200 and download.content == content
        goals = client.get("/goals").text
        assert "Find a course" in goals and "Written after the backup" not in goals
        assert "A calm morning" in client.get(checkin).text
    with portal_client(deployment) as other:
        assert post_form(other, "/sign-in", {"username": "harbour", "password": PASSWORD}).status_code != 303


def test_a_backup_from_an_older_schema_is_upgraded_when_restored(settings, tmp_path):
    """The backup taken before an upgrade, put back after the upgrade went wrong."""
    name = f"waypoint_backup_old_{uuid.uuid4().hex[:8]}"
    deployed = replace(settings, database_url=_new_database(settings, tmp_path, name))
    try:
        script = ScriptDirectory.from_config(alembic_config(deployed.database_url))
        # Two versions back: since then a table was added (passkeys) and columns (safety settings).
        older = script.get_revision(script.get_revision(HEAD).down_revision).down_revision
        _in_thread(migrate, deployed.database_url)
        make_user(deployed, "river")
        _in_thread(command.downgrade, alembic_config(deployed.database_url), older)  # as the older version left it
        saved = backup_file(deployed, tmp_path / "older.backup")
        _in_thread(migrate, deployed.database_url)  # the upgrade
        restored = portal(deployed, "restore", str(saved), "--yes")
        assert restored.returncode == 0, restored.stderr
        assert f"schema {older}" in restored.stdout
        assert revision(deployed) == HEAD
        assert [row[0] for row in sql(deployed, "SELECT username FROM app_user")] == ["river"]
        with portal_client(deployed) as client:
            sign_in(client, "river")
    finally:
        _drop_database(settings, name)


def test_a_backup_restores_onto_a_new_machine(deployment, settings, tmp_path):
    """The disaster: a new, empty database (SQLite: no file at all yet) and the same keys."""
    content = big_file(300_000)
    with portal_client(deployment) as client:
        sign_up(client, "river")
        document = upload(client, content).headers["location"]
    saved = backup_file(deployment, tmp_path / "offsite.backup")
    name = f"waypoint_backup_new_{uuid.uuid4().hex[:8]}"
    new_machine = replace(deployment, database_url=_new_database(settings, tmp_path, name))
    try:
        restored = portal(new_machine, "restore", str(saved), "--yes")
        assert restored.returncode == 0, restored.stderr
        assert snapshot(new_machine) == {**snapshot(deployment), "web_session": []}
        with portal_client(new_machine) as client:
            sign_in(client, "river")
            assert client.get(f"{document}/download").content == content
    finally:
        _drop_database(settings, name)


def test_a_backup_taken_while_the_portal_writes_is_consistent(deployment, tmp_path):
    """Documents are uploaded in a thread while the backup runs; a document is one row and its chunks,
    written in one transaction, so a consistent copy has each one whole or not at all."""
    uploads: list[tuple[float, float, str, bytes]] = []  # sent, answered, address, content
    stop = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with portal_client(deployment) as writer:
                sign_up(writer, "river")
                number = 0
                while not stop.is_set() or len(uploads) < 6:
                    number += 1
                    content = big_file(300_000 + number)
                    sent = time.monotonic()
                    response = upload(writer, content, name=f"Letter {number}")
                    assert response.status_code == 303, response.text
                    uploads.append((sent, time.monotonic(), response.headers["location"], content))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(uploads) < 3 and thread.is_alive():
            time.sleep(0.05)
        started = time.monotonic()
        made = portal(deployment, "backup", "--to", str(tmp_path / "busy.backup"))
        finished = time.monotonic()
    finally:
        stop.set()
        thread.join(timeout=120)
    assert not failures, failures
    assert made.returncode == 0, made.stderr
    assert any(sent < finished and answered > started for sent, answered, _, _ in uploads)  # written meanwhile
    saved = tmp_path / "busy.backup"
    if deployment.sqlite:
        with sqlite3.connect(f"{saved.resolve().as_uri()}?mode=ro", uri=True) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one self-contained file
        copy.close()

    restored = portal(deployment, "restore", str(saved), "--yes")
    assert restored.returncode == 0, restored.stderr
    with portal_client(deployment) as client:
        sign_in(client, "river")
        kept = 0
        for sent, answered, address, content in uploads:
            download = client.get(f"{address}/download")
            if answered < started:
                assert download.status_code == 200, address
            if sent > finished:
                assert download.status_code == 404, address
            if download.status_code == 200:
                assert download.content == content, address
                kept += 1
            else:
                assert download.status_code == 404, address
        assert kept >= 3 and kept < len(uploads)


# ----- refusals: a clear message, exit code 1, nothing changed -----------------------------------


@pytest.fixture
def running(deployment) -> Iterator[tuple[Config, TestClient]]:
    """A deployment with a survivor signed in, and some data to lose."""
    with portal_client(deployment) as client:
        sign_up(client, "river")
        new_goal(client, "Find a course")
        yield deployment, client


def refused(deployed: Config, client: TestClient, *arguments: str) -> str:
    """Run a command that must be refused; what it said. Checks that nothing changed."""
    before, sessions = snapshot(deployed), redis_sessions()
    answer = portal(deployed, *arguments)
    assert answer.returncode == 1, (answer.stdout, answer.stderr)
    assert answer.stdout == ""
    assert snapshot(deployed) == before and sorted(redis_sessions()) == sorted(sessions)
    assert client.get("/home", follow_redirects=False).status_code == 200  # still signed in
    return answer.stderr


def test_restore_refuses_a_file_that_is_not_a_backup(running, tmp_path):
    deployed, client = running
    stranger = tmp_path / "notes.txt"
    stranger.write_text("Shopping: bread, milk\n" * 100)
    said = refused(deployed, client, "restore", str(stranger), "--yes")
    expected = "is not a SQLite database" if deployed.sqlite else "is not a pg_dump backup in custom format"
    assert said.startswith("Nothing restored.") and expected in said


def test_restore_refuses_a_database_that_is_not_waypoints(running, tmp_path):
    deployed, client = running
    if deployed.sqlite:
        other = tmp_path / "other.sqlite3"
        with sqlite3.connect(other) as connection:
            connection.execute("CREATE TABLE recipe (name TEXT)")
        connection.close()
    else:
        name = f"waypoint_backup_other_{uuid.uuid4().hex[:8]}"
        url = _new_database(deployed, tmp_path, name)
        try:
            run(_admin(url, "CREATE TABLE recipe (name TEXT)"))
            other = backup_file(replace(deployed, database_url=url), tmp_path / "other.dump")
        finally:
            _drop_database(deployed, name)
    said = refused(deployed, client, "restore", str(other), "--yes")
    assert "is not a Waypoint database" in said


@pytest.mark.parametrize("damage", ["cut off", "overwritten"])
def test_restore_refuses_a_damaged_backup(running, tmp_path, damage):
    deployed, client = running
    assert upload(client, big_file(700_001)).status_code == 303
    saved = backup_file(deployed, tmp_path / "whole.backup")
    data = bytearray(saved.read_bytes())
    if damage == "cut off":  # as a full disk or an interrupted copy leaves it
        del data[len(data) * 3 // 4:]
    else:  # a stretch in the second half (past a PostgreSQL archive's table of contents) changed
        data[len(data) // 2:len(data) // 2 + 8192] = b"\xa5" * 8192
    broken = tmp_path / "broken.backup"
    broken.write_bytes(bytes(data))
    said = refused(deployed, client, "restore", str(broken), "--yes")
    assert said.startswith(f"Nothing restored. {broken} is damaged"), said


def test_restore_refuses_a_missing_file(running, tmp_path):
    deployed, client = running
    said = refused(deployed, client, "restore", str(tmp_path / "nowhere.backup"), "--yes")
    assert said == f"Nothing restored. There is no file at {tmp_path / 'nowhere.backup'}.\n"


def test_restore_without_yes_and_no_terminal_asks_for_yes(running, tmp_path):
    deployed, client = running
    saved = backup_file(deployed, tmp_path / "whole.backup")
    said = refused(deployed, client, "restore", str(saved))
    assert "add --yes" in said and "Nothing restored." in said


def test_a_restore_that_fails_part_way_changes_nothing(running, tmp_path):
    """The backup is cut off after the check (as if the disk holding it failed meanwhile), so the load
    breaks off in the middle. PostgreSQL: the archive is only committed once pg_restore has read all of it;
    SQLite: the backup API copies every page in one write transaction, rolled back when a page cannot be read."""
    deployed, client = running
    assert upload(client, big_file(700_001)).status_code == 303
    saved = backup_file(deployed, tmp_path / "whole.backup")
    check_backup(deployed, saved)
    with saved.open("r+b") as fh:
        fh.truncate(saved.stat().st_size * 3 // 4)
    before = snapshot(deployed)
    with pytest.raises(BackupError, match="SQLite could not write" if deployed.sqlite else "PostgreSQL could not restore"):
        replace_database(deployed, saved)
    assert snapshot(deployed) == before
    assert client.get("/home", follow_redirects=False).status_code == 200


def test_a_backup_never_overwrites_a_file(running, tmp_path):
    deployed, client = running
    existing = tmp_path / "precious.txt"
    existing.write_bytes(b"keep me")
    said = refused(deployed, client, "backup", "--to", str(existing))
    assert said.startswith("No backup made.") and "already exists" in said
    assert existing.read_bytes() == b"keep me"
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".precious")] == []
