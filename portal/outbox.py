"""The durable outbox of notifications, and the worker that sends it.

Every notification is a row in `push_outbox` before anything is sent, so nothing is lost across a
restart. Workers claim rows with one conditional UPDATE (`FOR UPDATE SKIP LOCKED` on PostgreSQL) under
a lease, so several workers never send the same row twice; a worker that dies mid-send leaves its rows
to be taken again when the lease ends. Failures are retried with backoff on 429, 5xx and network errors;
a device the push service no longer knows (404, 410) is removed. Quiet hours are checked just before
sending: a notification inside them waits for the window to open.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import anyio
from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.db import insert_for
from portal.keys import Vapid
from portal.models import (
    AccessRequest, Appointment, Document, Message, OutboxState, PushOutbox, PushSettings, PushSubscription, User,
    utcnow,
)
from portal.push import SEND_TIMEOUT, Outcome, PushHosts, payload, send
from portal.reminder_times import (
    REMINDER_SPANS, document_points, document_warn_at, next_checkin, next_life_areas, quiet_until, settings_of,
    zone_of,
)

log = logging.getLogger("portal.push")

BATCH = 50
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
PARALLEL_SENDS = 8
KEEP_DONE = timedelta(days=30)
INTERVAL = 5.0  # seconds between rounds of the background worker


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
    statement = insert_for(db)(PushOutbox).values(rows).on_conflict_do_nothing(
        index_elements=["key", "subscription_id"])
    await db.exec(statement)
    return len(ids)


async def queue_message(db: AsyncSession, recipient_id: int, message_id: int) -> None:
    await queue(db, recipient_id, "messages", f"message:{message_id}", ref=str(message_id))


async def queue_request(db: AsyncSession, survivor_id: int, request_id: str) -> None:
    """A caseworker or mentor asked to see something: the survivor's phones hear only their neutral words."""
    await queue(db, survivor_id, "requests", f"request:{request_id}", ref=request_id)


async def schedule_due(db: AsyncSession, now: datetime) -> int:
    """Queue appointment reminders, document warnings, check-in reminders and the monthly life-areas reminder
    that are due at `now`, and
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
        .where(col(Document.warn_at) <= now).limit(200).with_for_update(skip_locked=True, of=Document)
    )).all()
    for document, zone_name in documents:
        if document.expires_on is not None:
            passed = [(days, moment) for days, moment in document_points(document.expires_on, zone_name)
                      if moment <= now]
            # A warning whose day has gone by (the portal was down, or the date was typed late) is not sent.
            if passed and now - passed[-1][1] < timedelta(days=1):
                days = passed[-1][0]
                key = f"document:{document.id}:{document.expires_on.isoformat()}:{days}"
                queued += await queue(db, document.owner_id, "documents", key, ref=document.id, now=now)
        document.warn_at = document_warn_at(document.expires_on, zone_name, now)
        db.add(document)

    checkins = (await db.exec(
        select(PushSettings, User.time_zone).join(User, col(User.id) == PushSettings.user_id)
        .where(col(PushSettings.checkin_next_at) <= now).limit(200).with_for_update(skip_locked=True, of=PushSettings)
    )).all()
    for prefs, zone_name in checkins:
        due = prefs.checkin_next_at
        if due is not None and now - due < timedelta(hours=6):
            key = f"checkin:{prefs.user_id}:{due.astimezone(zone_of(zone_name)).date().isoformat()}"
            queued += await queue(db, prefs.user_id, "checkins", key, now=now, prefs=prefs)
        prefs.checkin_next_at = next_checkin(prefs, zone_name, now)
        db.add(prefs)

    # The monthly reminder to rate the life areas again: once per due time, then a month on.
    monthly = (await db.exec(
        select(PushSettings, User.time_zone).join(User, col(User.id) == PushSettings.user_id)
        .where(col(PushSettings.life_areas_next_at) <= now).limit(200)
        .with_for_update(skip_locked=True, of=PushSettings)
    )).all()
    for prefs, zone_name in monthly:
        due = prefs.life_areas_next_at
        if due is not None and now - due < timedelta(days=1):
            key = f"life_areas:{prefs.user_id}:{due.astimezone(zone_of(zone_name)).date().isoformat()}"
            queued += await queue(db, prefs.user_id, "life_areas", key, now=now, prefs=prefs)
        prefs.life_areas_next_at = next_life_areas(prefs, zone_name, now, now)
        db.add(prefs)
    return queued


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
    if row.kind == "requests" and row.ref:
        asked = await db.get(AccessRequest, row.ref)
        return asked is not None and asked.answered_at is None
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
    await db.exec(update(PushOutbox).where(col(PushOutbox.id).in_(due.scalar_subquery()), free)
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
            select(PushOutbox, PushSubscription, User.time_zone, User.language)
            .join(PushSubscription, col(PushSubscription.id) == PushOutbox.subscription_id)
            .join(User, col(User.id) == PushOutbox.user_id)
            .where(col(PushOutbox.claimed_by) == token)
        )).all()
        counts["claimed"] = len(rows)
        to_send: list[tuple[PushOutbox, PushSubscription, bytes]] = []
        prefs_cache: dict[int, PushSettings] = {}
        for row, subscription, zone_name, language in rows:
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
                to_send.append((row, subscription, payload(prefs.text, row.kind, language)))
                continue
            row.claimed_by, row.lease_until = None, None
            db.add(row)
        await db.commit()

        limiter = anyio.Semaphore(PARALLEL_SENDS)
        outcomes: dict[int, Outcome] = {}

        async def one(row: PushOutbox, subscription: PushSubscription, data: bytes) -> None:
            async with limiter:
                outcomes[row.id or 0] = await anyio.to_thread.run_sync(partial(send, subscription, data, vapid, hosts,
                                                                               timeout))

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
            await db.exec(delete(PushSubscription).where(col(PushSubscription.id).in_(gone)))
        await db.commit()
        if to_send:
            log.info("push: %s", " ".join(f"{name}={value}" for name, value in counts.items() if value))
    return counts


async def purge(db: AsyncSession, now: datetime) -> None:
    """Forget notifications that are done (sent, dropped or failed) after 30 days."""
    await db.exec(delete(PushOutbox).where(
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
            except Exception:  # the worker must outlive a bad round; ids only are logged
                log.exception("push round failed")
            await asyncio.sleep(interval)
