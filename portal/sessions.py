"""Server-side sessions: who is signed in on this browser.

Why not Litestar's stock session middleware: it keeps a session id the client chose, across
sign-in (session fixation), and it writes a record for every anonymous visitor. Here an id is only
ever made by the server, at sign-in, and a new one replaces the old; an unknown id is ignored and
its cookie removed; anonymous visitors get nothing. The store keeps the SHA-256 of the cookie, so
a copy of the store cannot be replayed as cookies.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from litestar.datastructures import Cookie
from redis.asyncio import Redis
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.models import WebSession
from portal.config import Config

TOUCH_EVERY = timedelta(seconds=60)  # last-seen is written at most once a minute per session
# How long "Confirm it's you" (the password again, or a passkey) lets this browser add a way in.
CONFIRMED_FOR = timedelta(minutes=5)
LONGEST_CHOSEN_IDLE = timedelta(minutes=60)  # a person may choose 5 to 60 minutes in Settings


def _now() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


@dataclass
class SessionRecord:
    id: str
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    device: str
    # When the person last confirmed it was them (password or passkey again) on this browser; None: never.
    confirmed_at: datetime | None = None
    # How long the session had been idle when this request found it (set by `find`, not stored).
    idle_for: timedelta = timedelta(0)

    def alive(self, now: datetime, idle: timedelta) -> bool:
        return now < self.expires_at and now - self.last_seen_at < idle


class SessionStore(Protocol):
    async def save(self, record: SessionRecord) -> None: ...
    async def get(self, session_id: str) -> SessionRecord | None: ...
    async def touch(self, record: SessionRecord, now: datetime) -> None: ...
    async def delete(self, session_id: str) -> None: ...
    async def confirm(self, session_id: str, now: datetime) -> None: ...
    async def delete_for_user(self, user_id: int) -> None: ...
    async def list_for_user(self, user_id: int) -> list[SessionRecord]: ...
    async def purge(self, now: datetime, idle: timedelta) -> None: ...


class DatabaseSessionStore:
    """Sessions in the portal's database (the embedded default; survives a restart)."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory

    async def save(self, record: SessionRecord) -> None:
        async with self._factory() as db:
            db.add(WebSession(**record.__dict__))
            await db.commit()

    async def get(self, session_id: str) -> SessionRecord | None:
        async with self._factory() as db:
            row = await db.get(WebSession, session_id)
            return _record(row) if row else None

    async def touch(self, record: SessionRecord, now: datetime) -> None:
        async with self._factory() as db:
            await db.exec(update(WebSession).where(col(WebSession.id) == record.id).values(last_seen_at=now))
            await db.commit()

    async def delete(self, session_id: str) -> None:
        async with self._factory() as db:
            await db.exec(delete(WebSession).where(col(WebSession.id) == session_id))
            await db.commit()

    async def confirm(self, session_id: str, now: datetime) -> None:
        async with self._factory() as db:
            await db.exec(update(WebSession).where(col(WebSession.id) == session_id).values(confirmed_at=now))
            await db.commit()

    async def delete_for_user(self, user_id: int) -> None:
        async with self._factory() as db:
            await db.exec(delete(WebSession).where(col(WebSession.user_id) == user_id))
            await db.commit()

    async def list_for_user(self, user_id: int) -> list[SessionRecord]:
        async with self._factory() as db:
            rows = await db.exec(select(WebSession).where(col(WebSession.user_id) == user_id))
            return [_record(row) for row in rows]

    async def purge(self, now: datetime, idle: timedelta) -> None:
        """Forget sessions that can no longer be used (no sign-in times kept longer than needed)."""
        async with self._factory() as db:
            await db.exec(
                delete(WebSession).where(
                    (col(WebSession.expires_at) <= now) | (col(WebSession.last_seen_at) <= now - idle)
                )
            )
            await db.commit()


# A session row's columns, for reading it together with other things (the viewer's own row) in one statement.
SESSION_COLUMNS: tuple[Any, ...] = (WebSession.id, WebSession.user_id, WebSession.created_at, WebSession.last_seen_at,
                   WebSession.expires_at, WebSession.device, WebSession.confirmed_at)


def session_record(row: Any) -> SessionRecord:
    """A session read as `SESSION_COLUMNS` (a Row, or a WebSession)."""
    return SessionRecord(
        id=row.id, user_id=row.user_id, created_at=row.created_at, last_seen_at=row.last_seen_at,
        expires_at=row.expires_at, device=row.device, confirmed_at=row.confirmed_at,
    )


def _record(row: WebSession) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        device=row.device,
        confirmed_at=row.confirmed_at,
    )


class RedisSessionStore:
    """Sessions in Redis, shared by every worker and machine; each key expires with its session."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    def _user_key(self, user_id: int) -> str:
        return f"{self._prefix}user-sessions:{user_id}"

    async def save(self, record: SessionRecord) -> None:
        ttl = max(1, int((record.expires_at - _now()).total_seconds()))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(record.id), _dump(record), ex=ttl)
            pipe.sadd(self._user_key(record.user_id), record.id)
            # The set lives as long as its longest session: NX gives a new set its first expiry,
            # GT only ever extends it (GT alone never sets one on a key without expiry).
            pipe.expire(self._user_key(record.user_id), ttl, nx=True)
            pipe.expire(self._user_key(record.user_id), ttl, gt=True)
            await pipe.execute()

    async def get(self, session_id: str) -> SessionRecord | None:
        raw = await self._redis.get(self._key(session_id))
        return _load(raw) if raw else None

    async def touch(self, record: SessionRecord, now: datetime) -> None:
        record.last_seen_at = now
        # xx: never bring back a session deleted meanwhile (sign out everywhere, deactivation).
        await self._redis.set(self._key(record.id), _dump(record), xx=True, keepttl=True)

    async def confirm(self, session_id: str, now: datetime) -> None:
        record = await self.get(session_id)
        if record is not None:
            record.confirmed_at = now
            await self._redis.set(self._key(session_id), _dump(record), xx=True, keepttl=True)

    async def delete(self, session_id: str) -> None:
        raw = await self._redis.getdel(self._key(session_id))
        if raw:
            await self._redis.srem(self._user_key(_load(raw).user_id), session_id)

    async def delete_for_user(self, user_id: int) -> None:
        ids = await self._redis.smembers(self._user_key(user_id))
        keys = [self._key(i.decode() if isinstance(i, bytes) else i) for i in ids]
        await self._redis.delete(self._user_key(user_id), *keys)

    async def purge(self, now: datetime, idle: timedelta) -> None:
        """Nothing to do: every key expires with its session."""

    async def list_for_user(self, user_id: int) -> list[SessionRecord]:
        ids = await self._redis.smembers(self._user_key(user_id))
        records = []
        for raw_id in ids:
            record = await self.get(raw_id.decode() if isinstance(raw_id, bytes) else raw_id)
            if record:
                records.append(record)
        return records


def _dump(record: SessionRecord) -> str:
    data = dict(record.__dict__)
    del data["idle_for"]  # worked out per request, never stored
    for key in ("created_at", "last_seen_at", "expires_at", "confirmed_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return json.dumps(data)


def _load(raw: bytes | str) -> SessionRecord:
    data = json.loads(raw)
    for key in ("created_at", "last_seen_at", "expires_at", "confirmed_at"):
        data[key] = datetime.fromisoformat(data[key]) if data.get(key) else None
    return SessionRecord(**data)


class Sessions:
    """Starting, finding and ending sessions, and the cookie that carries them."""

    def __init__(self, store: SessionStore, settings: Config) -> None:
        self.store = store
        # The organisation's idle limit, for people who did not choose their own (checked with the user,
        # in portal.web); the store keeps a session up to the longest limit a person may choose.
        self.idle = timedelta(minutes=settings.session_idle_minutes)
        self.longest_idle = max(self.idle, LONGEST_CHOSEN_IDLE)
        self.absolute = timedelta(hours=settings.session_absolute_hours)
        self.secure = settings.production
        # __Host-: the browser only accepts it over HTTPS, from this exact host, for path "/".
        self.cookie_name = "__Host-wp_session" if settings.production else "wp_session"

    async def start(self, user_id: int, device: str, old_token: str | None) -> str:
        """A brand-new session for `user_id`; the old one on this browser (if any) is ended."""
        now = _now()
        if old_token:
            await self.store.delete(hash_token(old_token))
        await self.store.purge(now, self.longest_idle)
        token = new_token()
        await self.store.save(
            SessionRecord(
                id=hash_token(token),
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + self.absolute,
                device=device[:40],
            )
        )
        return token

    def session_id(self, token: str) -> str | None:
        """The stored id of the session this cookie value names (None for a value no session could have)."""
        return hash_token(token) if token and len(token) <= 100 else None

    async def check(self, record: SessionRecord, *, touch: bool = True) -> SessionRecord | None:
        """`record` if it is still alive (not idle too long, not too old; a dead one is deleted). `touch=False`: the
        request does not count as activity (the idle clock keeps running)."""
        now = _now()
        if not record.alive(now, self.longest_idle):
            await self.store.delete(record.id)
            return None
        record.idle_for = now - record.last_seen_at
        if touch and now - record.last_seen_at >= TOUCH_EVERY:
            await self.store.touch(record, now)
        return record

    async def end(self, token: str | None) -> None:
        if token:
            await self.store.delete(hash_token(token))

    async def end_all(self, user_id: int) -> None:
        await self.store.delete_for_user(user_id)

    async def confirm(self, session_id: str) -> None:
        """The person proved again it is them, on this browser: for `CONFIRMED_FOR` it may add a way in."""
        await self.store.confirm(session_id, _now())

    async def confirmed(self, session_id: str) -> bool:
        """Whether this session confirmed it was the person within the last `CONFIRMED_FOR`."""
        record = await self.store.get(session_id)
        if record is None or record.confirmed_at is None:
            return False
        return timedelta(0) <= _now() - record.confirmed_at < CONFIRMED_FOR

    def cookie(self, token: str) -> Cookie:
        # No max_age: the cookie dies with the browser session; the server enforces the limits.
        return Cookie(
            key=self.cookie_name, value=token, path="/", httponly=True, secure=self.secure, samesite="strict"
        )

    def cleared_cookie(self) -> Cookie:
        return Cookie(
            key=self.cookie_name, value="", path="/", httponly=True, secure=self.secure, samesite="strict",
            max_age=0, expires=0,
        )


def device_label(user_agent: str) -> str:
    """A coarse, non-identifying label for the list of active sessions."""
    ua = user_agent.lower()
    kind = "phone" if ("mobile" in ua or "iphone" in ua or "android" in ua) else "computer"
    if "iphone" in ua or "ipad" in ua:
        system = "iPhone" if "iphone" in ua else "iPad"
        return system
    for marker, name in (("android", "Android"), ("windows", "Windows"), ("mac os", "Mac"), ("linux", "Linux"),
                         ("cros", "Chromebook")):
        if marker in ua:
            return f"{name} {kind}"
    return "Unknown device"
