"""Settings for reminders on the phone: turn them on for this device, list and remove devices, choose what
is sent and the words the lock screen shows, the check-in reminder's days and time, and quiet hours.

Turning reminders on needs JavaScript (the browser's Push API): the page's script asks the browser for a
subscription, then sends it with an ordinary form post, which the server checks (`push.subscription_problem`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import i18n, life_areas, push, reminder_times
from portal.settings_page import day_labels, kind_labels, section_page
from portal.i18n import _
from portal.models import PushSettings, Role, User, utcnow
from portal.sessions import device_label
from portal.forms import form_value, text_problem
from portal.viewer import current_viewer, survivor_or_mentor
from portal.web import services_of

TEXT_MAX = 60








@post("/settings/devices", guards=[survivor_or_mentor], name="add_device")
async def add_device(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """Keep this browser's push subscription (sent by the page's script after the person said yes), once this
    browser confirmed it is the person in the last 5 minutes: else "Confirm it's you" first, nothing kept."""
    viewer = current_viewer(request)
    if not await services_of(request).sessions.confirmed(viewer.session_id):
        return Redirect("/settings/confirm?next=device", status_code=303)
    form = await request.form()
    endpoint, p256dh, auth = (form_value(form, name, 2000).strip() for name in ("endpoint", "p256dh", "auth"))
    if push.subscription_problem(endpoint, p256dh, auth, services_of(request).push_hosts):
        return Redirect("/settings/reminders?done=device-refused", status_code=303)
    await push.subscribe(db, viewer.user_id, endpoint, p256dh, auth,
                         device_label(request.headers.get("user-agent", "")))
    user = await db.get(User, viewer.user_id)
    if user is not None and not user.language:
        # Reminders go out without a page: they speak the language this person reads now, unless they chose one.
        user.language = i18n.current()
        db.add(user)
    return Redirect("/settings/reminders?done=device-added", status_code=303)


@post("/settings/devices/{device_id:str}/remove", guards=[survivor_or_mentor], name="remove_device")
async def remove_device(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                        device_id: FromPath[str]) -> Response[Any]:
    if not await push.remove_device(db, current_viewer(request).user_id, device_id[:32]):
        raise NotFoundException()  # not this person's device, or gone already
    return Redirect("/settings/reminders?done=device-removed", status_code=303)


@post("/settings/reminders", guards=[survivor_or_mentor], name="save_reminders")
async def save_reminders(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    viewer = current_viewer(request)
    form = await request.form()
    prefs = await db.get(PushSettings, viewer.user_id) or PushSettings(user_id=viewer.user_id)
    chosen = set(form.getall("kinds", []))
    errors: dict[str, str] = {}
    was_on = prefs.life_areas
    for kind in kind_labels(viewer.role):
        setattr(prefs, kind, kind in chosen)
    text = form_value(form, "text", TEXT_MAX * 4).strip()
    if problem := text_problem(text, TEXT_MAX):
        errors["text"] = problem
    prefs.text = text[:TEXT_MAX]
    if viewer.role == Role.SURVIVOR:
        days = sorted({day for day in form.getall("days", []) if isinstance(day, str) and day in day_labels()})
        prefs.checkin_days = "".join(days)
        clock = form_value(form, "checkin_time", 10).strip()
        if reminder_times.parse_clock(clock) is None:
            errors["checkin_time"] = _("Enter a time like 18:00.")
        else:
            prefs.checkin_time = clock
        if prefs.checkins and not days and "checkin_time" not in errors:
            errors["days"] = _("Choose at least 1 day, or turn check-in reminders off.")
    quiet = {name: form_value(form, name, 10).strip() for name in ("quiet_from", "quiet_to")}
    for name, value in quiet.items():
        if value and reminder_times.parse_clock(value) is None:
            errors[name] = _("Enter a time like 21:00, or leave it empty.")
    if bool(quiet["quiet_from"]) != bool(quiet["quiet_to"]) and not errors.keys() & quiet.keys():
        errors["quiet_to" if quiet["quiet_from"] else "quiet_from"] = _("Enter both times, or leave both empty.")
    prefs.quiet_from, prefs.quiet_to = quiet["quiet_from"], quiet["quiet_to"]
    if errors:
        # The page shows what was typed from `prefs`; the stored row must not take it with it when the session
        # flushes (refused values saved, or too long for a column: a 500 on PostgreSQL).
        if prefs in db:
            db.expunge(prefs)
        return await section_page(request, db, "reminders", status_code=400, push_errors=errors, push_values=prefs)
    user = await db.get(User, viewer.user_id)
    prefs.checkin_next_at = reminder_times.next_checkin(prefs, user.time_zone if user else "UTC", utcnow())
    # The monthly life-areas reminder: a month after the latest rating, at the check-in reminder's time (with no
    # rating yet, a month after it was turned on, kept while it stays on); cleared when it is off.
    latest = await life_areas.latest_rated_at(db, viewer) if prefs.life_areas else None
    if not prefs.life_areas:
        prefs.life_areas_next_at = None
    elif latest is not None or not was_on or prefs.life_areas_next_at is None:
        now = utcnow()
        prefs.life_areas_next_at = reminder_times.next_life_areas(prefs, user.time_zone if user else "UTC",
                                                                  latest or now, now)
    db.add(prefs)
    return Redirect("/settings/reminders?done=reminders", status_code=303)




routes = [add_device, remove_device, save_reminders]
