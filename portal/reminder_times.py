"""When reminders are due: the kinds a person can ask for, quiet hours, check-in days, an
appointment's reminder and a paper's expiry warnings, each in the person's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from portal.models import (
    utcnow,
    Appointment, PushSettings, Reminder,
)
from portal.timezones import is_zone


KINDS = ("appointments", "checkins", "documents", "messages", "life_areas")


REMINDER_SPANS = {Reminder.HOUR_BEFORE.value: timedelta(hours=1), Reminder.DAY_BEFORE.value: timedelta(days=1)}
DOCUMENT_WARNINGS = (30, 7)  # days before a paper expires
WARN_AT = time(10, 0)  # local time of a document warning


async def settings_of(db: AsyncSession, user_id: int) -> PushSettings:
    """The person's push settings (the defaults when they never saved any; not stored until they do)."""
    return await db.get(PushSettings, user_id) or PushSettings(user_id=user_id)


def parse_clock(value: str) -> time | None:
    """ "21:00" -> 21:00; anything else -> None."""
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        return None
    return parsed if len(value) == 5 and value[2] == ":" else None


def zone_of(name: str) -> ZoneInfo:
    return ZoneInfo(name if name and is_zone(name) else "UTC")


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A local wall-clock moment, in UTC (a time skipped by the clocks changing lands just after it)."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def quiet_until(prefs: PushSettings, zone_name: str, now: datetime) -> datetime | None:
    """When the quiet hours that `now` falls in end (UTC), or None when `now` is not in quiet hours."""
    start, end = parse_clock(prefs.quiet_from), parse_clock(prefs.quiet_to)
    if start is None or end is None or start == end:
        return None
    zone = zone_of(zone_name)
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
    zone = zone_of(zone_name)
    today = after.astimezone(zone).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        if day.weekday() in days and (moment := _at(day, clock, zone)) > after:
            return moment
    return None


def _month_after(day: date) -> date:
    """The same day a month later (the 31st becomes the month's last day)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    last = (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)) - timedelta(days=1)
    return date(year, month, min(day.day, last.day))


def next_life_areas(prefs: PushSettings, zone_name: str, since: datetime, now: datetime) -> datetime | None:
    """The monthly reminder to rate the life areas again: a month after `since` (the latest rating, or when it
    was turned on), at the check-in reminder's local time; when that has passed, the next time that time comes
    round. None when it is off."""
    if not prefs.life_areas:
        return None
    clock = parse_clock(prefs.checkin_time) or time(18, 0)
    zone = zone_of(zone_name)
    due = _at(_month_after(since.astimezone(zone).date()), clock, zone)
    if due > now:
        return due
    today = now.astimezone(zone).date()
    return next(moment for offset in range(3) if (moment := _at(today + timedelta(days=offset), clock, zone)) > now)


def appointment_remind_at(appointment: Appointment, now: datetime) -> datetime | None:
    """When the appointment's reminder is due, or None (no reminder, or its moment has passed)."""
    span = REMINDER_SPANS.get(appointment.reminder)
    if span is None:
        return None
    due = appointment.starts_at - span
    return due if due > now else None


def document_points(expires_on: date, zone_name: str) -> list[tuple[int, datetime]]:
    zone = zone_of(zone_name)
    return [(days, _at(expires_on - timedelta(days=days), WARN_AT, zone)) for days in DOCUMENT_WARNINGS]


def document_warn_at(expires_on: date | None, zone_name: str, now: datetime) -> datetime | None:
    """The next "expires soon" moment of a paper (30, then 7 days before, at 10:00 local), or None."""
    if expires_on is None:
        return None
    return next((moment for _days, moment in document_points(expires_on, zone_name) if moment > now), None)


async def zone_changed(db: AsyncSession, user_id: int, zone: str) -> None:
    """The check-in reminder keeps its local time in the new zone."""
    prefs = await db.get(PushSettings, user_id)
    if prefs is not None:
        prefs.checkin_next_at = next_checkin(prefs, zone, utcnow())
        if prefs.life_areas and prefs.life_areas_next_at is not None:
            # The monthly life-areas reminder keeps its day and comes at the check-in time of the new zone.
            clock = parse_clock(prefs.checkin_time) or time(18, 0)
            there = zone_of(zone)
            prefs.life_areas_next_at = max(_at(prefs.life_areas_next_at.astimezone(there).date(), clock, there),
                                           utcnow())
        db.add(prefs)
