"""Reminders on the phone (Web Push): devices, the durable outbox, and the worker that sends it.

Nothing a person wrote ever leaves in a notification. The payload holds the neutral words the person
chose ("You have a new update" unless they chose others) and a plain address to open (`/messages`, never
an item's id). Every notification is a row in `push_outbox` before anything is sent, so nothing is lost
across a restart. Workers claim rows with one conditional UPDATE (`FOR UPDATE SKIP LOCKED` on
PostgreSQL) under a lease, so several workers never send the same row twice; a worker that dies
mid-send leaves its rows to be taken again when the lease ends. Failures are retried with backoff on
429, 5xx and network errors; a device the push service no longer knows (404, 410) is removed.
Quiet hours are checked just before sending: a notification inside them waits for the window to open.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import anyio
import requests
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.i18n import _
from portal.models import (
    Appointment, Document, Message, OutboxState, PushOutbox, PushSettings, PushSubscription, Reminder, User, utcnow,
)
from portal.settings import Settings
from portal.timezones import is_zone

log = logging.getLogger("portal.push")

KINDS = ("appointments", "checkins", "documents", "messages")
# Where tapping a notification leads: a section, never an item (the address may show in the browser).
OPEN = {"appointments": "/appointments", "checkins": "/check-ins/new", "documents": "/documents", "messages": "/messages"}
REMINDER_SPANS = {Reminder.HOUR_BEFORE.value: timedelta(hours=1), Reminder.DAY_BEFORE.value: timedelta(days=1)}
DOCUMENT_WARNINGS = (30, 7)  # days before a paper expires
WARN_AT = time(10, 0)  # local time of a document warning
BATCH = 50
LEASE = timedelta(minutes=5)
SEND_TIMEOUT = 10  # seconds; a push service that hangs longer is tried again later
CONNECT_TIMEOUT = 3.05  # seconds to reach the push service at all
TOPIC = "update"  # the same neutral Topic for every kind: the push service learns nothing of what it is about
MAX_ATTEMPTS = 8
PARALLEL_SENDS = 8
TTL = 24 * 3600
KEEP_DONE = timedelta(days=30)
INTERVAL = 5.0  # seconds between rounds of the background worker


def default_text() -> str:
    return _("You have a new update")


# ----- keys ---------------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def new_vapid_key() -> str:
    """A new VAPID private key: the raw 32 bytes of a P-256 key, base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    return _b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def vapid_key_problem(value: str) -> str:
    """Why `value` is not a usable VAPID private key, or "" when it is."""
    try:
        raw = _unb64url(value.strip())
        if len(raw) != 32:
            return "it must be 32 bytes, base64url"
        ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except (ValueError, TypeError):
        return "it is not a P-256 private key in base64url"
    return ""


@dataclass(frozen=True)
class Vapid:
    """The server's VAPID identity: signs each push so push services know it comes from this portal."""

    private_key: str
    contact: str

    @property
    def public_key(self) -> str:
        """The application server key a browser subscribes with (uncompressed point, base64url)."""
        key = ec.derive_private_key(int.from_bytes(_unb64url(self.private_key), "big"), ec.SECP256R1())
        return _b64url(key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    def signer(self) -> Vapid02:
        return Vapid02.from_raw(self.private_key.encode())


# ----- subscriptions --------------------------------------------------------------------------------


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


_HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")
_LOOPBACK = re.compile(r"^(127\.0\.0\.1|localhost):[0-9]{1,5}$")


@dataclass(frozen=True)
class PushHosts:
    """Where reminders may be sent: `https://` + a listed push service (the name, or a name under it) on
    its default port, and nothing else in the address's authority: no user info, no port (not even an
    empty one), no backslash, no percent-encoding, no IP address. The address is read by the parser that
    `requests` sends with too, and both readings must agree, so the host checked is the host connected to.
    `loopback` (development and tests only) also lets `http(s)://127.0.0.1:PORT` and `localhost:PORT` through."""

    names: tuple[str, ...]
    loopback: bool = False

    @classmethod
    def of(cls, settings: Settings) -> PushHosts:
        return cls(tuple(name.lower() for name in settings.push_hosts), settings.push_loopback and not settings.production)

    def refuse(self, endpoint: str) -> bool:
        """True when reminders must never be sent to `endpoint`."""
        if not endpoint or len(endpoint) > 1000 or not endpoint.isascii() or "\\" in endpoint:
            return True
        if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in endpoint):
            return True
        try:
            ours, theirs = urlsplit(endpoint), parse_url(endpoint)
        except (ValueError, LocationParseError):
            return True
        if self.loopback and ours.scheme in ("http", "https") and _LOOPBACK.match(ours.netloc):
            return theirs.scheme != ours.scheme or f"{theirs.host}:{theirs.port}" != ours.netloc
        host = ours.netloc.lower()
        if not endpoint.startswith("https://") or not _HOST_NAME.match(host) or _is_address(host):
            return True
        if not any(host == name or host.endswith("." + name) for name in self.names):
            return True
        return theirs.scheme != "https" or (theirs.host or "").lower() != host or theirs.port is not None or theirs.auth is not None


def _is_address(host: str) -> bool:
    """An IP address written as a name ("127.0.0.1", or all-digit labels a resolver may read as one)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.rsplit(".", 1)[-1].isdigit()
    return True


def subscription_problem(endpoint: str, p256dh: str, auth: str, hosts: PushHosts) -> str:
    """Why a subscription a browser sent cannot be used, or "" when it can. The endpoint must be a listed
    push service over https (so the server never posts to an address of the sender's choosing)."""
    if hosts.refuse(endpoint):
        return "endpoint"
    try:
        point = _unb64url(p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        if len(point) != 65:
            return "p256dh"
    except (ValueError, TypeError):
        return "p256dh"
    try:
        if len(_unb64url(auth)) != 16:
            return "auth"
    except (ValueError, TypeError):
        return "auth"
    return ""


async def subscribe(db: AsyncSession, user_id: int, endpoint: str, p256dh: str, auth: str, device: str) -> None:
    """Keep this browser's subscription for `user_id`; the same browser again replaces its old row (even
    one another account on this phone had)."""
    key = endpoint_hash(endpoint)
    await db.exec(delete(PushSubscription).where(col(PushSubscription.endpoint_hash) == key))  # type: ignore[call-overload]
    db.add(PushSubscription(user_id=user_id, endpoint=endpoint, endpoint_hash=key, p256dh=p256dh, auth=auth, device=device[:40]))


async def devices(db: AsyncSession, user_id: int) -> list[PushSubscription]:
    return list((await db.exec(
        select(PushSubscription).where(col(PushSubscription.user_id) == user_id).order_by(col(PushSubscription.created_at))
    )).all())


async def remove_device(db: AsyncSession, user_id: int, device_id: str) -> bool:
    result = await db.exec(delete(PushSubscription).where(  # type: ignore[call-overload]
        col(PushSubscription.id) == device_id, col(PushSubscription.user_id) == user_id))
    return bool(result.rowcount)


async def settings_of(db: AsyncSession, user_id: int) -> PushSettings:
    """The person's push settings (the defaults when they never saved any; not stored until they do)."""
    return await db.get(PushSettings, user_id) or PushSettings(user_id=user_id)


# ----- when: quiet hours and check-in days ----------------------------------------------------


def parse_clock(value: str) -> time | None:
    """ "21:00" -> 21:00; anything else -> None."""
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        return None
    return parsed if len(value) == 5 and value[2] == ":" else None


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name if name and is_zone(name) else "UTC")


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A local wall-clock moment, in UTC (a time skipped by the clocks changing lands just after it)."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def quiet_until(prefs: PushSettings, zone_name: str, now: datetime) -> datetime | None:
    """When the quiet hours that `now` falls in end (UTC), or None when `now` is not in quiet hours."""
    start, end = parse_clock(prefs.quiet_from), parse_clock(prefs.quiet_to)
    if start is None or end is None or start == end:
        return None
    zone = _zone(zone_name)
    here = now.astimezone(zone)
    clock = here.time().replace(tzinfo=None)
    if start < end:
        return _at(here.date(), end, zone) if start <= clock < end else None
    if clock >= start:
        return _at(here.date() + timedelta(days=1), end, zone)
    if clock < end:
        return _at(here.date(), end, zone)
    return None


def next_checkin(prefs: PushSettings, zone_name: str, after: datetime) -> datetime | None:
    """The next check-in reminder after `after` (UTC), or None when they are off."""
    clock = parse_clock(prefs.checkin_time)
    days = {int(day) for day in prefs.checkin_days if day.isdigit() and int(day) < 7}
    if not prefs.checkins or clock is None or not days:
        return None
    zone = _zone(zone_name)
    today = after.astimezone(zone).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        if day.weekday() in days and (moment := _at(day, clock, zone)) > after:
            return moment
    return None


def appointment_remind_at(appointment: Appointment, now: datetime) -> datetime | None:
    """When the appointment's reminder is due, or None (no reminder, or its moment has passed)."""
    span = REMINDER_SPANS.get(appointment.reminder)
    if span is None:
        return None
    due = appointment.starts_at - span
    return due if due > now else None


def _document_points(expires_on: date, zone_name: str) -> list[tuple[int, datetime]]:
    zone = _zone(zone_name)
    return [(days, _at(expires_on - timedelta(days=days), WARN_AT, zone)) for days in DOCUMENT_WARNINGS]


def document_warn_at(expires_on: date | None, zone_name: str, now: datetime) -> datetime | None:
    """The next "expires soon" moment of a paper (30, then 7 days before, at 10:00 local), or None."""
    if expires_on is None:
        return None
    return next((moment for _days, moment in _document_points(expires_on, zone_name) if moment > now), None)


# ----- queueing -------------------------------------------------------------------------------------


def _insert(db: AsyncSession) -> Callable[..., Any]:
    return postgresql_insert if db.bind.dialect.name == "postgresql" else sqlite_insert  # type: ignore[union-attr]


async def queue(db: AsyncSession, user_id: int, kind: str, key: str, ref: str | None = None,
                now: datetime | None = None, prefs: PushSettings | None = None) -> int:
    """One notification to every device of `user_id`, unless they switched this kind off. Queuing the
    same `key` again adds nothing. Returns how many devices it was queued for."""
    prefs = prefs or await settings_of(db, user_id)
    if not getattr(prefs, kind):
        return 0
    ids = (await db.exec(select(PushSubscription.id).where(col(PushSubscription.user_id) == user_id))).all()
    if not ids:
        return 0
    rows = [{"user_id": user_id, "subscription_id": device, "kind": kind, "ref": ref, "key": key[:120],
             "state": OutboxState.WAITING.value, "next_at": now or utcnow(), "attempts": 0, "created_at": utcnow()}
            for device in ids]
    statement = _insert(db)(PushOutbox).values(rows).on_conflict_do_nothing(index_elements=["key", "subscription_id"])
    await db.exec(statement)  # type: ignore[call-overload]
    return len(ids)


async def queue_message(db: AsyncSession, recipient_id: int, message_id: int) -> None:
    await queue(db, recipient_id, "messages", f"message:{message_id}", ref=str(message_id))


# ----- the reminder scan: what has come due -------------------------------------------------------


async def schedule_due(db: AsyncSession, now: datetime) -> int:
    """Queue appointment reminders, document warnings and check-in reminders that are due at `now`, and
    move each marker on, so each is queued once. The scan acts for each owner on their own items, reads
    only ids and times, and sends none of their words. Returns how many were queued."""
    queued = 0
    appointments = (await db.exec(
        select(Appointment).where(col(Appointment.remind_at) <= now).limit(200).with_for_update(skip_locked=True)
    )).all()
    for appointment in appointments:
        if appointment.starts_at > now and appointment.reminder in REMINDER_SPANS:
            key = f"appointment:{appointment.id}:{appointment.starts_at:%Y%m%dT%H%M}:{appointment.reminder}"
            queued += await queue(db, appointment.owner_id, "appointments", key, ref=appointment.id, now=now)
        appointment.remind_at = None
        db.add(appointment)

    documents = (await db.exec(
        select(Document, User.time_zone).join(User, col(User.id) == Document.owner_id)
        .where(col(Document.warn_at) <= now).limit(200).with_for_update(skip_locked=True, of=Document)  # type: ignore[arg-type]
    )).all()
    for document, zone_name in documents:
        if document.expires_on is not None:
            passed = [(days, moment) for days, moment in _document_points(document.expires_on, zone_name) if moment <= now]
            # A warning whose day has gone by (the portal was down, or the date was typed late) is not sent.
            if passed and now - passed[-1][1] < timedelta(days=1):
                days = passed[-1][0]
                key = f"document:{document.id}:{document.expires_on.isoformat()}:{days}"
                queued += await queue(db, document.owner_id, "documents", key, ref=document.id, now=now)
        document.warn_at = document_warn_at(document.expires_on, zone_name, now)
        db.add(document)

    checkins = (await db.exec(
        select(PushSettings, User.time_zone).join(User, col(User.id) == PushSettings.user_id)
        .where(col(PushSettings.checkin_next_at) <= now).limit(200).with_for_update(skip_locked=True, of=PushSettings)  # type: ignore[arg-type]
    )).all()
    for prefs, zone_name in checkins:
        due = prefs.checkin_next_at
        if due is not None and now - due < timedelta(hours=6):
            key = f"checkin:{prefs.user_id}:{due.astimezone(_zone(zone_name)).date().isoformat()}"
            queued += await queue(db, prefs.user_id, "checkins", key, now=now, prefs=prefs)
        prefs.checkin_next_at = next_checkin(prefs, zone_name, now)
        db.add(prefs)
    return queued


# ----- sending --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the push service said about one notification."""

    sent: bool = False
    gone: bool = False  # 404/410: the device unsubscribed; remove it
    retry_after: float | None = None  # 429/5xx/network: try again (seconds, when the service said)
    status: int = 0  # the push service's answer; 0: no answer (network), -1: failed before anything was sent


def payload(text: str, kind: str) -> bytes:
    """What is encrypted to the phone: the person's chosen words (or the neutral default) and a section to
    open. Never a name, a title, a message, a date or an id."""
    return json.dumps({"text": text or default_text(), "open": OPEN.get(kind, "/")}, separators=(",", ":")).encode()


class _NoRedirects(requests.Session):
    """A session that never follows a redirect: a 3xx from a push service is its answer, and a 307 cannot
    make the sender post again to a host, port or path of someone else's choosing."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


def send(subscription: PushSubscription, data: bytes, vapid: Vapid, hosts: PushHosts, timeout: float = SEND_TIMEOUT) -> Outcome:
    """Encrypt (RFC 8291, aes128gcm) and post one notification, once; never raises. The address is checked
    again first (a row stored before a rule was tightened must not get through)."""
    if hosts.refuse(subscription.endpoint):
        return Outcome(gone=True)  # it can never be sent to: the device is removed like one the service forgot
    info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    try:
        with _NoRedirects() as session:
            webpush(info, data=data.decode(), vapid_private_key=vapid.signer(), vapid_claims={"sub": vapid.contact},
                    ttl=TTL, timeout=(CONNECT_TIMEOUT, timeout), headers={"Topic": TOPIC, "Urgency": "normal"},
                    requests_session=session)
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status in (404, 410):
            return Outcome(gone=True, status=status)
        if status == 429 or status >= 500 or status == 0:
            retry = exc.response.headers.get("retry-after", "") if exc.response is not None else ""
            return Outcome(retry_after=float(retry) if retry.isdigit() else None, status=status)
        return Outcome(status=status)
    except requests.RequestException:
        return Outcome(retry_after=None, status=0)
    except Exception as exc:  # noqa: BLE001 - one broken row (a key or address a library chokes on) must not stop the round
        log.warning("push: subscription %s could not be sent to: %s", subscription.id, type(exc).__name__)
        return Outcome(status=-1)
    return Outcome(sent=True, status=201)


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """30 s, 1 min, 2 min ... up to 6 hours; longer if the push service asked for it."""
    seconds = min(30 * 2 ** max(attempts - 1, 0), 6 * 3600)
    return timedelta(seconds=max(seconds, min(retry_after or 0, 24 * 3600)))


async def _still_wanted(db: AsyncSession, row: PushOutbox, prefs: PushSettings, now: datetime) -> bool:
    """Is this notification still worth sending now? (Read messages, moved or past appointments and
    switched-off kinds are not.)"""
    if not getattr(prefs, row.kind, False):
        return False
    if row.kind == "messages" and row.ref and row.ref.isdigit():
        message = await db.get(Message, int(row.ref))
        return message is not None and message.read_at is None and not message.held
    if row.kind == "appointments" and row.ref:
        appointment = await db.get(Appointment, row.ref)
        return appointment is not None and appointment.starts_at > now and row.key.startswith(
            f"appointment:{appointment.id}:{appointment.starts_at:%Y%m%dT%H%M}:")
    if row.kind == "documents" and row.ref:
        return await db.get(Document, row.ref) is not None
    return True


async def claim(db: AsyncSession, now: datetime, limit: int = BATCH) -> str:
    """Take up to `limit` due rows for this worker (one UPDATE; rows another worker holds are skipped)."""
    token = secrets.token_hex(8)
    free = or_(col(PushOutbox.lease_until).is_(None), col(PushOutbox.lease_until) < now)
    due = (
        select(PushOutbox.id)
        .where(col(PushOutbox.state) == OutboxState.WAITING.value, col(PushOutbox.next_at) <= now, free)
        .order_by(col(PushOutbox.next_at), col(PushOutbox.id)).limit(limit)
        .with_for_update(skip_locked=True)
    )
    await db.exec(update(PushOutbox).where(col(PushOutbox.id).in_(due.scalar_subquery()), free)  # type: ignore[call-overload]
                  .values(claimed_by=token, lease_until=now + LEASE))
    await db.commit()
    return token


async def deliver_due(factory: async_sessionmaker[AsyncSession], vapid: Vapid, hosts: PushHosts, now: datetime,
                      limit: int = BATCH, timeout: float = SEND_TIMEOUT) -> dict[str, int]:
    """Send one batch of due notifications. Returns counts by outcome ("claimed", "sent", ...)."""
    counts = {"claimed": 0, "sent": 0, "waiting": 0, "dropped": 0, "retry": 0, "failed": 0, "gone": 0}
    async with factory() as db:
        token = await claim(db, now, limit)
        rows = (await db.exec(
            select(PushOutbox, PushSubscription, User.time_zone)
            .join(PushSubscription, col(PushSubscription.id) == PushOutbox.subscription_id)
            .join(User, col(User.id) == PushOutbox.user_id)
            .where(col(PushOutbox.claimed_by) == token)
        )).all()
        counts["claimed"] = len(rows)
        to_send: list[tuple[PushOutbox, PushSubscription, bytes]] = []
        prefs_cache: dict[int, PushSettings] = {}
        for row, subscription, zone_name in rows:
            prefs = prefs_cache.get(row.user_id) or await settings_of(db, row.user_id)
            prefs_cache[row.user_id] = prefs
            if (opens := quiet_until(prefs, zone_name, now)) is not None:
                row.next_at = opens
                counts["waiting"] += 1
            elif not await _still_wanted(db, row, prefs, now):
                row.state = OutboxState.DROPPED.value
                counts["dropped"] += 1
            else:
                # Still held under this worker's lease while it is being sent.
                to_send.append((row, subscription, payload(prefs.text, row.kind)))
                continue
            row.claimed_by, row.lease_until = None, None
            db.add(row)
        await db.commit()

        limiter = anyio.Semaphore(PARALLEL_SENDS)
        outcomes: dict[int, Outcome] = {}

        async def one(row: PushOutbox, subscription: PushSubscription, data: bytes) -> None:
            async with limiter:
                outcomes[row.id or 0] = await anyio.to_thread.run_sync(partial(send, subscription, data, vapid, hosts, timeout))

        async with anyio.create_task_group() as group:
            for row, subscription, data in to_send:
                group.start_soon(one, row, subscription, data)

        gone: set[str] = set()
        for row, subscription, _data in to_send:
            outcome = outcomes[row.id or 0]
            row.attempts += 1
            row.claimed_by, row.lease_until = None, None
            if outcome.sent:
                row.state, row.sent_at = OutboxState.SENT.value, now
                subscription.last_sent_at = now
                db.add(subscription)
                counts["sent"] += 1
            elif outcome.gone:
                gone.add(subscription.id)
                counts["gone"] += 1
                continue
            elif outcome.retry_after is not None or outcome.status in (-1, 0, 429) or outcome.status >= 500:
                if row.attempts >= MAX_ATTEMPTS:
                    row.state = OutboxState.FAILED.value
                    counts["failed"] += 1
                else:
                    row.next_at = now + backoff(row.attempts, outcome.retry_after)
                    counts["retry"] += 1
            else:
                row.state = OutboxState.FAILED.value
                counts["failed"] += 1
            db.add(row)
        if gone:
            await db.exec(delete(PushSubscription).where(col(PushSubscription.id).in_(gone)))  # type: ignore[call-overload]
        await db.commit()
        if to_send:
            log.info("push: %s", " ".join(f"{name}={value}" for name, value in counts.items() if value))
    return counts


async def purge(db: AsyncSession, now: datetime) -> None:
    """Forget notifications that are done (sent, dropped or failed) after 30 days."""
    await db.exec(delete(PushOutbox).where(  # type: ignore[call-overload]
        col(PushOutbox.state) != OutboxState.WAITING.value, col(PushOutbox.created_at) < now - KEEP_DONE))


class Worker:
    """The background task of each app process: scan for due reminders, then send until nothing is due."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], vapid: Vapid, hosts: PushHosts,
                 clock: Callable[[], datetime] = utcnow, send_timeout: float = SEND_TIMEOUT) -> None:
        self.factory = factory
        self.vapid = vapid
        self.hosts = hosts
        self.clock = clock
        self.send_timeout = send_timeout

    async def run_once(self, now: datetime | None = None) -> dict[str, int]:
        now = now or self.clock()
        totals: dict[str, int] = {}
        async with self.factory() as db:
            totals["queued"] = await schedule_due(db, now)
            await purge(db, now)
            await db.commit()
        while True:
            counts = await deliver_due(self.factory, self.vapid, self.hosts, now, timeout=self.send_timeout)
            for name, value in counts.items():
                totals[name] = totals.get(name, 0) + value
            if counts["claimed"] == 0:  # fewer than a batch may only mean another worker holds the rest
                return totals

    async def run_forever(self, interval: float = INTERVAL) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001 - the worker must outlive a bad round; ids only are logged
                log.exception("push round failed")
            await asyncio.sleep(interval)
