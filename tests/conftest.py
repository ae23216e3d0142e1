"""Shared test fixtures: a real database (SQLite by default, PostgreSQL when DATABASE_URL is set),
Redis when REDIS_URL is set, the app behind Litestar's test client, and small builders."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import uvicorn
from litestar.testing import TestClient
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Engine

from app import create_app
from sqlmodel import SQLModel, select

from portal.users import create_user
from portal import reads
from portal.db import make_engine, migrate, session_factory
from portal.models import Role
from portal.passwords import Hasher
from portal.config import Config


def _for_this_worker(database_url: str, redis_url: str) -> tuple[str, str]:
    """Run in parallel (pytest-xdist), each worker has a PostgreSQL database of its own (the one named, with the
    worker's name after it, made beside it) and a Redis database number of its own (the one named, plus the
    worker's number), so no worker empties another's between tests. SQLite is a file per worker already."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker:
        return database_url, redis_url
    if database_url.startswith("postgres"):
        named = make_url(database_url)
        database_url = named.set(database=f"{named.database}_{worker}").render_as_string(hide_password=False)
    if redis_url:
        parts = urlsplit(redis_url)
        number = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))
        redis_url = urlunsplit(parts._replace(path=f"/{number}"))
    return database_url, redis_url


NAMED_DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASE_URL, REDIS_URL = _for_this_worker(NAMED_DATABASE_URL, os.environ.get("REDIS_URL", ""))
if DATABASE_URL:  # what a test's own processes (workers, the command line) are started with
    os.environ["DATABASE_URL"] = DATABASE_URL
if REDIS_URL:
    os.environ["REDIS_URL"] = REDIS_URL
BASE_URL = "http://testserver.local"
PASSWORD = "plum-orchard-lantern"
# Every table of the models, children first: a new table is emptied between tests without anyone listing it.
TABLES = tuple(table.name for table in reversed(SQLModel.metadata.sorted_tables))


def pytest_report_header() -> list[str]:
    return [
        f"database: {'PostgreSQL (DATABASE_URL)' if DATABASE_URL.startswith('postgres') else 'SQLite (temporary file)'}",
        f"sessions and limits: {'Redis (REDIS_URL)' if REDIS_URL else 'database and memory'}",
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: they are the slowest, and HTTP failures should show first."""
    items.sort(key=lambda item: "/browser/" in str(item.path))


def run(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine to completion from test code, even while Playwright's loop is running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _reset_postgres(url: str) -> None:
    if url != NAMED_DATABASE_URL:  # a worker's own database, made once beside the one named
        name = make_url(url).database
        server = make_engine(NAMED_DATABASE_URL)
        async with server.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            if (await conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})).first() is None:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await server.dispose()
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if DATABASE_URL:
        if DATABASE_URL.startswith("postgres"):
            run(_reset_postgres(DATABASE_URL))
        url = DATABASE_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(migrate, url).result()
    return url


async def _empty(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        if url.startswith("postgres"):
            await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                await conn.execute(text(f"DELETE FROM {table}"))
    await engine.dispose()
    if REDIS_URL:
        from redis.asyncio import Redis

        redis = Redis.from_url(REDIS_URL)
        keys = [key async for key in redis.scan_iter("waypoint:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Config:
    run(_empty(database_url))
    return Config.from_env(
        {},
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=REDIS_URL,
        allowed_hosts=("testserver.local", "localhost", "127.0.0.1"),
        # Tests send reminders themselves, with a controlled clock (tests/test_push.py), to a push service
        # of their own on this machine.
        push_worker=False,
        push_loopback=True,
    )


@pytest.fixture
def app(settings: Config):  # type: ignore[no-untyped-def]
    return create_app(settings)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
def other_client(settings: Config) -> Iterator[TestClient]:
    """A second browser. It talks to its own app instance (as a second worker would), because
    each test client runs its own event loop and database connections belong to one loop."""
    with TestClient(create_app(settings), base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
def third_client(settings: Config) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url=BASE_URL) as test_client:
        yield test_client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(settings: Config) -> Iterator[str]:
    """The portal on http://localhost:PORT for one test (loopback only)."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://localhost:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


# ----- builders -------------------------------------------------------------------------------


def deployment_env(settings: Config, *, push_worker: bool = False) -> dict[str, str]:
    """What a deployment sets for each worker: the same database, Redis, data folder and keys."""
    return {
        "DATABASE_URL": settings.database_url, "REDIS_URL": REDIS_URL, "PORTAL_DATA_DIR": str(settings.data_dir),
        "PORTAL_SECRET_KEY": settings.secret_key, "PORTAL_DOCUMENT_KEY": settings.document_key,
        "PORTAL_VAPID_PRIVATE_KEY": settings.vapid_private_key, "PORTAL_PUSH_WORKER": "true" if push_worker else "false",
        "PORTAL_PUSH_LOOPBACK": "true" if settings.push_loopback else "false",
    }



ORGANISATION = "Safe Harbor"


def display_name_for(username: str) -> str:
    """The name a test's staff member is shown by: their username in words ("cw-amira" -> "Cw Amira"), so a page
    that shows the username instead can be told apart."""
    return username.replace("-", " ").replace("_", " ").title()


def make_user(settings: Config, username: str, role: Role = Role.SURVIVOR, password: str = PASSWORD, *,
              organisation: str = ORGANISATION, display_name: str | None = None) -> int:
    """An account; staff and admins belong to the organisation named `organisation` (made when new)."""
    from portal.models import Organisation

    async def build() -> int:
        engine = make_engine(settings.database_url)
        async with session_factory(engine)() as db:
            hasher = Hasher(settings.password_hash_memory_kib, settings.password_hash_passes)
            organisation_id = None
            if role != Role.SURVIVOR:
                found = (await db.exec(select(Organisation).where(Organisation.name == organisation))).first()
                if found is None:
                    found = Organisation(name=organisation)
                    db.add(found)
                    await db.flush()
                organisation_id = found.id
            user = await create_user(db, hasher, username, password, role, organisation_id=organisation_id,
                                     display_name="" if role == Role.SURVIVOR else
                                     display_name_for(username) if display_name is None else display_name)
            await db.commit()
            user_id = user.id
        await engine.dispose()
        return user_id or 0

    return run(build())


def user_id(settings: Config, username: str) -> int:
    async def find() -> int:
        engine = make_engine(settings.database_url)
        async with engine.connect() as conn:
            found = (await conn.execute(text("SELECT id FROM app_user WHERE username = :u"), {"u": username})).scalar_one()
        await engine.dispose()
        return int(found)

    return run(find())


def make_connection(settings: Config, survivor: str, staff: str, parts: tuple[str, ...] = (), *, label: str = "Rivers",
                    ends_at: datetime | None = None, item_ids: tuple[tuple[str, str], ...] = (),
                    include_notes: bool = False) -> str:
    """A live connection from `survivor` to `staff` (usernames), with a share card for each part and for
    each (part, item id), with the survivor's notes when `include_notes`; returns the connection's id."""
    from portal.models import Connection, Grant

    survivor_id, staff_id = user_id(settings, survivor), user_id(settings, staff)

    async def build() -> str:
        engine = make_engine(settings.database_url)
        async with session_factory(engine)() as db:
            connection = Connection(survivor_id=survivor_id, staff_id=staff_id, survivor_label=label)
            db.add(connection)
            await db.flush()
            for part in parts:
                db.add(Grant(connection_id=connection.id, part=part, ends_at=ends_at, include_notes=include_notes))
            for part, item_id in item_ids:
                db.add(Grant(connection_id=connection.id, part=part, item_id=item_id, ends_at=ends_at,
                             include_notes=include_notes))
            await db.commit()
            connection_id = connection.id
        await engine.dispose()
        return connection_id

    return run(build())


@contextmanager
def statements_run() -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement run meanwhile, with its values, in the order run: through SQLAlchemy (every engine of the
    process, the app's own included) and straight on SQLite (portal.reads)."""
    seen: list[tuple[str, Any]] = []

    def through_sqlalchemy(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    def straight(statement: str, parameters: tuple[Any, ...]) -> None:
        seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", through_sqlalchemy)
    reads.watchers.append(straight)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", through_sqlalchemy)
        reads.watchers.remove(straight)


def sql(settings: Config, statement: str, **params: object) -> list:  # type: ignore[type-arg]
    """Run one SQL statement on the test database (to age or mark rows as time or another tab would); its rows."""

    async def go() -> list:  # type: ignore[type-arg]
        engine = make_engine(settings.database_url)
        async with engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            rows = list(result) if result.returns_rows else []
        await engine.dispose()
        return rows

    return run(go())  # type: ignore[no-any-return]


def csrf_token(client: TestClient, path: str = "/safety") -> str:
    """The token a browser would have: every page carries it for htmx requests."""
    match = re.search(r'"X-CSRFToken": "([^"]+)"', client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


# What a browser sends for a file field left empty.
EMPTY_FILE = {"file": ("", b"", "application/octet-stream")}


def takes_files(route: object, method: str) -> bool:
    """Does this route take files? It then checks the CSRF token itself as the multipart body streams in, so a
    test asks it as a browser does: multipart, the token first, with EMPTY_FILE."""
    return any(method in handler.http_methods and handler.opt.get("exclude_from_csrf")
               for handler in getattr(route, "route_handlers", []))


def post_form(client: TestClient, path: str, data: dict[str, str] | None = None, *, token_from: str = "/safety", **kwargs):  # type: ignore[no-untyped-def]
    form = dict(data or {})
    form["_csrf_token"] = csrf_token(client, token_from)
    return client.post(path, data=form, follow_redirects=False, **kwargs)


def sign_in(client: TestClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    response = post_form(client, "/sign-in", {"username": username, "password": password})
    assert response.status_code == 303, response.text
    return response


def sign_up(client: TestClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return post_form(client, "/sign-up", {"username": username, "password": password})


@pytest.fixture
def pair(client, other_client, settings):  # type: ignore[no-untyped-def]
    """A survivor (client) and a caseworker, Ana (other_client), both signed in, not yet connected."""
    sign_up(client, "river")
    make_user(settings, "Ana", Role.CASEWORKER)
    sign_in(other_client, "Ana")
    return client, other_client
