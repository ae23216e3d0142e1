"""Seed a benchmark database: many survivors with goals, appointments, check-ins and shares, one
survivor with many items of each kind and a 5 MB document, a caseworker and a peer mentor.

Rows go in by bulk INSERT (thousands per statement), not through the pages: 100,000 survivors take
seconds, not hours. Everyone shares one password hash (made once, with the portal's own hasher), and
documents are sealed with the portal's own crypto, so the app reads them exactly as it reads uploads.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from portal.config import Config
from portal.crypto import CHUNK_SIZE, MasterKey, seal_chunk
from portal.db import make_engine, migrate
from portal.models import (
    Appointment,
    CheckIn,
    Connection,
    Document,
    DocumentChunk,
    Goal,
    Grant,
    Role,
    User,
)
from portal.parts import PARTS
from portal.passwords import Hasher
from portal.users import username_key

# Not a secret: every seeded account's password, in a database made for one benchmark run and emptied by the next.
PASSWORD = "bench-orchard-lantern-7"  # noqa: S105
BATCH = 5000
MAIN, CASEWORKER, MENTOR = "bench-main", "bench-caseworker", "bench-mentor"


@dataclass
class Seeded:
    survivors: int
    items: int
    connection_id: str  # the caseworker's connection to the main survivor
    document_id: str  # the main survivor's 5 MB document
    document_bytes: bytes


def _id() -> str:
    return secrets.token_urlsafe(12)


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _user(username: str, role: Role, password_hash: str, now: datetime) -> dict[str, Any]:
    return {"username": username, "username_key": username_key(username), "role": role.value,
            "password_hash": password_hash, "active": True, "created_at": now, "exit_url": "", "time_zone": "UTC",
            "idle_minutes": 0, "cover_when_hidden": True, "app_name": "waypoint"}


def _items(owner: int, count: int, now: datetime) -> dict[type[SQLModel], Iterator[dict[str, Any]]]:
    """`count` goals, appointments and check-ins for one survivor, spread over the past and future."""
    goals = ({"id": _id(), "owner_id": owner, "private": False, "title": f"Goal {n}",
              "why": "Because it matters to me.", "area": "housing", "target_date": None, "status": "active",
              "created_at": now - timedelta(minutes=n), "achieved_at": None, "steps_total": 0, "steps_done": 0}
             for n in range(count))
    appointments = ({"id": _id(), "owner_id": owner, "private": False, "what": f"Appointment {n}",
                     "starts_at": now + timedelta(hours=n - count // 2), "time_zone": "UTC", "place": "Town hall",
                     "with_whom": "", "notes": "", "reminder": "none", "created_at": now, "remind_at": None}
                    for n in range(count))
    checkins = ({"id": _id(), "owner_id": owner, "private": False, "feeling": 1 + n % 5, "safe": "yes", "needs": "",
                 "note": "A steady day.", "created_at": now - timedelta(hours=n)} for n in range(count))
    return {Goal: goals, Appointment: appointments, CheckIn: checkins}


def _table(model: type[SQLModel]) -> Table:
    """The table a model maps (SQLModel sets `__table__` on each class, but declares it to no type checker)."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} maps {table!r}, not a table")
    return table


async def _insert(conn: AsyncConnection, model: type[SQLModel], rows: Iterator[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        await conn.execute(insert(_table(model)), batch)


def _document(master: MasterKey, owner: int, size: int, name: str,
              now: datetime) -> tuple[dict[str, Any], list[dict[str, Any]], bytes]:
    """A PDF of `size` bytes sealed as an upload would be: its row, its chunk rows, and its plaintext."""
    plaintext = b"%PDF-1.7\n" + os.urandom(max(size - 9, 1))
    storage_key = _id()
    key, wrapped = master.new_document_key(storage_key)
    pieces = [plaintext[i:i + CHUNK_SIZE] for i in range(0, len(plaintext), CHUNK_SIZE)]
    chunks = [{"storage_key": storage_key, "position": n,
               "data": seal_chunk(key, storage_key, n, n == len(pieces) - 1, piece)} for n, piece in enumerate(pieces)]
    row = {"id": _id(), "owner_id": owner, "private": False, "name": name, "kind": "other", "expires_on": None,
           "media_type": "application/pdf", "size": len(plaintext), "storage_key": storage_key, "wrapped_key": wrapped,
           "key_id": master.key_id, "chunk_count": len(chunks), "created_at": now, "warn_at": None}
    return row, chunks, plaintext


async def _empty(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        if url.startswith("postgres"):
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def _seed(settings: Config, survivors: int, items: int) -> Seeded:
    now = datetime.now(UTC).replace(microsecond=0)
    password_hash = await Hasher(settings.password_hash_memory_kib, settings.password_hash_passes).hash(PASSWORD)
    master = MasterKey(settings.document_key)
    engine = make_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            people = [_user(MAIN, Role.SURVIVOR, password_hash, now),
                      _user(CASEWORKER, Role.CASEWORKER, password_hash, now),
                      _user(MENTOR, Role.MENTOR, password_hash, now)]
            await conn.execute(insert(_table(User)), people)
            await _insert(conn, User, (_user(f"bench-{n:06d}", Role.SURVIVOR, password_hash, now)
                                       for n in range(survivors)))
            ids: dict[str, int] = dict((await conn.execute(text("SELECT username, id FROM app_user"))).all())
            main, caseworker = ids[MAIN], ids[CASEWORKER]

            # Everyone else: two of each kind, and every tenth shares goals and check-ins with the caseworker.
            others = [ids[f"bench-{n:06d}"] for n in range(survivors)]
            for model in (Goal, Appointment, CheckIn):
                await _insert(conn, model, (row for owner in others for row in _items(owner, 2, now)[model]))
            # Connected one after another, as people are (one instant for all would make every page sort them all).
            connections = [{"id": _id(), "survivor_id": owner, "staff_id": caseworker, "survivor_label": f"Person {n}",
                            "created_at": now - timedelta(minutes=n), "ended_at": None, "paused_at": None}
                           for n, owner in enumerate(others) if n % 10 == 0]
            await _insert(conn, Connection, iter(connections))
            await _insert(conn, Grant, ({"id": _id(), "connection_id": c["id"], "part": part, "item_id": None,
                                         "created_at": now, "ends_at": None, "revoked_at": None}
                                        for c in connections for part in ("goals", "checkins")))

            # The main survivor: `items` of each kind, documents, and every part shared with the caseworker.
            for kind, rows in _items(main, items, now).items():
                await _insert(conn, kind, rows)
            connection: dict[str, Any] = {"id": _id(), "survivor_id": main, "staff_id": caseworker,
                                          "survivor_label": "Main", "created_at": now, "ended_at": None,
                                          "paused_at": None}
            await conn.execute(insert(_table(Connection)), [connection])
            await conn.execute(insert(_table(Grant)), [
                {"id": _id(), "connection_id": connection["id"], "part": part, "item_id": None, "created_at": now,
                 "ends_at": None, "revoked_at": None} for part in (p.key for p in PARTS)])
            big, big_chunks, big_bytes = _document(master, main, 5 * 1024 * 1024, "Passport scan", now)
            small = [_document(master, main, 2048, f"Letter {n}", now - timedelta(minutes=n)) for n in range(items - 1)]
            await _insert(conn, Document, iter([big, *(row for row, _chunks, _plain in small)]))
            await _insert(conn, DocumentChunk,
                          iter([*big_chunks, *(c for _row, chunks, _plain in small for c in chunks)]))
        if settings.database_url.startswith("postgres"):
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return Seeded(survivors, items, connection["id"], big["id"], big_bytes)


async def _empty_redis(url: str) -> None:
    """Forget the sessions and limits a previous run left under the portal's prefix: they name users by id."""
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        keys = [key async for key in redis.scan_iter("waypoint:*", count=1000)]
        for start in range(0, len(keys), 1000):
            await redis.delete(*keys[start:start + 1000])
    finally:
        await redis.aclose()


def seed(settings: Config, survivors: int, items: int) -> Seeded:
    """Empty the database (and the portal's keys in Redis), bring it to the newest schema and fill it.
    Returns what the load needs."""
    asyncio.run(_empty(settings.database_url))
    if settings.redis_url:
        asyncio.run(_empty_redis(settings.redis_url))
    migrate(settings.database_url)
    return asyncio.run(_seed(settings, survivors, items))

