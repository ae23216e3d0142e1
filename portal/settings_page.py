"""The Settings page: one page drawn in one place, whichever of its forms was sent. The safety settings
(exit place, app name, idle sign-out, cover when hidden) and the time zone are saved here; the forms of
other sections (portal.account, portal.reminders, portal.export) come back here with their errors."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import disguise, push, reminder_times
from portal.i18n import _, ngettext
from portal.models import Role, User
from portal.passkeys import passkeys_of
from portal.recovery_codes import codes_left
from portal.config import is_web_address
from portal.help_lines import country
from portal.timezones import OTHER, canonical, cities, countries, is_zone, local, zone_country
from portal.forms import form_value, whole_number
from portal.viewer import Viewer, current_viewer, signed_in
from portal.web import page, services_of


async def settings_page_with(request: Request[Any, Any, Any], db: AsyncSession, **context: Any) -> Template:
    """The Settings page, with what a form just sent (its values, errors, or a word that it was saved)."""
    viewer = current_viewer(request)
    context.setdefault("values", {"exit_url": viewer.exit_url})
    context.setdefault("errors", {})
    context.setdefault("saved", False)
    context.setdefault("zone_saved", False)
    context.setdefault("zone_error", "")
    context.setdefault("safety_error", "")
    user = await db.get(User, viewer.user_id)
    organisation_idle = services_of(request).config.session_idle_minutes
    context.setdefault("safety", {
        "idle": (user.idle_minutes if user and user.idle_minutes else min(organisation_idle, 60)),
        "idle_choices": {str(n): ngettext("%(num)d minute", "%(num)d minutes", n) % {"num": n} for n in IDLE_CHOICES},
        "cover": viewer.cover_when_hidden, "app_name": viewer.app_name,
        "done": request.query_params.get("done") == "safety",
    })
    reminders_context = await _reminders_context(db, request, viewer)
    account_context = await _account_context(db, request, viewer)
    account_context["account"]["errors"] = context.pop("account_errors", {})
    if reminders_context["push"] is not None:
        reminders_context["push"]["errors"] = context.pop("push_errors", {})
        if "push_values" in context:
            reminders_context["push"]["prefs"] = context.pop("push_values")
        prefs = reminders_context["push"]["prefs"]
        reminders_context["push"]["chosen"] = [kind for kind in reminders_context["push"]["kinds"]
                                               if getattr(prefs, kind)]
    return page(
        request, "home/settings.html", title=_("Settings"),
        default_exit_url=services_of(request).exit_default.url, countries=countries(await country(db)),
        zone_country=zone_country(viewer.time_zone) or (OTHER if viewer.time_zone == "UTC" else ""),
        **reminders_context, **account_context, **context,
    )



@get("/settings", guards=[signed_in], name="settings")
async def settings_page(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await settings_page_with(request, db)


@post("/settings/exit", guards=[signed_in], name="save_exit")
async def save_exit(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    form = await request.form()
    raw = form_value(form, "exit_url", 1000).strip()
    if raw and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", raw):
        raw = "https://" + raw  # "news.example.org" means the web site
    if raw and not is_web_address(raw):
        return await settings_page_with(
            request, db, status_code=400, values={"exit_url": raw},
            errors={"exit_url": _("Enter a web address like https://www.example.com, or leave it empty.")},
        )
    user = await db.get(User, viewer.user_id)
    if user is None:  # removed while signed in
        return await settings_page_with(request, db)
    user.exit_url = raw
    db.add(user)
    await db.commit()
    # The page is rendered with the new value, so its Exit now link leads to the new place at once.
    request.scope["state"]["viewer"] = replace(viewer, exit_url=raw)
    return await settings_page_with(request, db, values={"exit_url": raw}, saved=True)


@get("/settings/time-zone", guards=[signed_in], name="time_zone")
async def time_zone_page(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    """The second step of choosing a time zone: the cities of the country chosen on Settings."""
    viewer = current_viewer(request)
    # Without a country: the country of the zone chosen now (UTC's own "country" for none).
    chosen = request.query_params.get("country", "")[:3] or zone_country(viewer.time_zone) or OTHER
    if chosen not in countries(await country(db)):
        return await settings_page_with(request, db, status_code=400,
                                        zone_error=_("Choose your country from the list."))
    return page(request, "home/time_zone.html", title=_("Settings"), country_name=countries()[chosen],
                cities=cities(chosen), zone=canonical(viewer.time_zone))


@post("/settings/time-zone", guards=[signed_in], name="save_time_zone")
async def save_time_zone(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    zone = form_value(await request.form(), "time_zone", 64)
    if not is_zone(zone):
        return await settings_page_with(request, db, status_code=400, zone_error=_("Choose a time zone from the list."))
    user = await db.get(User, viewer.user_id)
    if user is not None:
        user.time_zone = zone
        db.add(user)
        await reminder_times.zone_changed(db, viewer.user_id, zone)
        await db.commit()
    request.scope["state"]["viewer"] = replace(viewer, time_zone=zone)
    return await settings_page_with(request, db, zone_saved=True)


IDLE_CHOICES = (5, 10, 15, 30, 45, 60)


@post("/settings/safety", guards=[signed_in], name="save_safety")
async def save_safety(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """Idle sign-out, covering the screen when the app is hidden, and the installed app's name."""
    viewer = current_viewer(request)
    form = await request.form()
    idle = form_value(form, "idle_minutes", 4)
    app_name = form_value(form, "app_name", 16)
    if whole_number(idle, 4) not in IDLE_CHOICES or app_name not in disguise.CHOICES:
        return await settings_page_with(request, db, status_code=400, safety_error=_("Choose from the lists."))
    user = await db.get(User, viewer.user_id)
    if user is not None:
        user.idle_minutes = int(idle)
        user.cover_when_hidden = form_value(form, "cover", 4) == "on"
        user.app_name = app_name
        db.add(user)
    # The phone keeps the name for the signed-out pages (portal.disguise).
    return Redirect("/settings?done=safety#safety", status_code=303,
                    cookies=[disguise.name_cookie(app_name, services_of(request).config.production)])


async def _account_context(db: AsyncSession, request: Request[Any, Any, Any], viewer: Viewer) -> dict[str, Any]:
    """What the Settings page shows about signing in: recovery codes, passkeys, the browsers signed in."""
    records = await services_of(request).sessions.store.list_for_user(viewer.user_id)
    records.sort(key=lambda record: record.last_seen_at, reverse=True)
    return {"account": {
        "codes_left": await codes_left(db, viewer.user_id), "local": local, "errors": {},
        "passkeys": await passkeys_of(db, viewer.user_id),
        "confirmed": await services_of(request).sessions.confirmed(viewer.session_id),
        "done": request.query_params.get("done", ""),
        "sessions": [{"ref": record.id[:16], "device": record.device, "last_seen_at": record.last_seen_at,
                      "current": record.id == viewer.session_id} for record in records],
    }}


def kind_labels(role: Role) -> dict[str, str]:
    """What can be pushed, for this kind of person (a mentor only has messages)."""
    labels = {"appointments": _("Appointment reminders"), "checkins": _("Check-in reminders"),
              "documents": _("Documents that expire in 30 and in 7 days"), "messages": _("New messages")}
    return labels if role == Role.SURVIVOR else {"messages": labels["messages"]}


def day_labels() -> dict[str, str]:
    return {"0": _("Monday"), "1": _("Tuesday"), "2": _("Wednesday"), "3": _("Thursday"), "4": _("Friday"),
            "5": _("Saturday"), "6": _("Sunday")}


async def _reminders_context(db: AsyncSession, request: Request[Any, Any, Any], viewer: Viewer) -> dict[str, Any]:
    """What the Settings page shows about reminders (nothing for an admin or a caseworker)."""
    if viewer.role not in (Role.SURVIVOR, Role.MENTOR):
        return {"push": None}
    prefs = await reminder_times.settings_of(db, viewer.user_id)
    return {"push": {
        "prefs": prefs, "devices": await push.devices(db, viewer.user_id), "kinds": kind_labels(viewer.role),
        "days": day_labels(), "key": services_of(request).vapid.public_key, "default_text": push.default_text(),
        "errors": {}, "saved": request.query_params.get("done", ""), "local": local,
    }}


routes = [settings_page, time_zone_page, save_exit, save_time_zone, save_safety]
