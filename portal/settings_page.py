"""Settings: a short page of sections, each a page of its own with its own forms. Safety first (exit place, app
name, idle sign-out, cover when hidden), then Sign-in and security (password, passkeys, recovery codes, where
you are signed in), Reminders, Language and time, Your data (export, delete). The safety settings and the time
zone are saved here; the forms of the other sections (portal.account, portal.reminders, portal.export) come back
to their section with their errors through `section_page`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import disguise, policy, push, reminder_times
from portal.feedback import month_name, rating_label
from portal.i18n import _, ngettext
from portal.models import Role, User
from portal.passkeys import passkeys_of
from portal.recovery_codes import codes_left
from portal.config import is_web_address
from portal.help_lines import country
from portal.timezones import OTHER, canonical, cities, countries, is_zone, local, zone_country
from portal.forms import form_value, whole_number
from portal.viewer import Viewer, current_viewer, signed_in, survivor_only, survivor_or_mentor
from portal.web import page, services_of


@dataclass(frozen=True)
class Section:
    """One section of Settings: its page's address, its name and one line saying what is in it, and who has it."""

    key: str
    title: Callable[[], str]
    about: Callable[[], str]
    roles: tuple[Role, ...] = tuple(Role)

    @property
    def path(self) -> str:
        return f"/settings/{self.key}"


SECTIONS = (
    Section("safety", lambda: _("Safety"),
            lambda: _("Where Exit now takes you, the app's name, and signing out when the phone is left alone.")),
    Section("profile", lambda: _("Your profile"),
            lambda: _("Your name and what you help with, as the people you work with see them."),
            (Role.CASEWORKER, Role.MENTOR)),
    Section("security", lambda: _("Sign-in and security"),
            lambda: _("Your password, passkeys, recovery codes, and where you are signed in.")),
    Section("reminders", lambda: _("Reminders"),
            lambda: _("Notes on this phone, and the quiet words they show."), (Role.SURVIVOR, Role.MENTOR)),
    Section("language", lambda: _("Language and time"),
            lambda: _("The language of these pages, and your time zone.")),
    Section("data", lambda: _("Your data"),
            lambda: _("Take a copy of everything with you, or delete your account."), (Role.SURVIVOR,)),
)
BY_KEY = {section.key: section for section in SECTIONS}


def sections_for(role: Role) -> list[Section]:
    return [section for section in SECTIONS if role in section.roles]


async def section_page(request: Request[Any, Any, Any], db: AsyncSession, key: str, *, status_code: int = 200,
                       **context: Any) -> Template:
    """One section of Settings, with what a form just sent (its values, errors, or a word that it was saved)."""
    viewer = current_viewer(request)
    builders = {"safety": _safety_context, "security": _account_context, "reminders": _reminders_context,
                "language": _language_context, "data": _data_context}
    section = BY_KEY[key]
    defaults = await builders[key](db, request, viewer, context)  # takes what it reads from `context`
    return page(request, f"settings/{key}.html", title=section.title(), status_code=status_code,
                section=section, **(defaults | context))


@get("/settings", guards=[signed_in], name="settings")
async def settings_page(request: Request[Any, Any, Any]) -> Template:
    return page(request, "settings/hub.html", title=_("Settings"),
                sections=sections_for(current_viewer(request).role))


@get("/settings/safety", guards=[signed_in], name="settings_safety")
async def safety_section(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await section_page(request, db, "safety")


@get("/settings/security", guards=[signed_in], name="settings_security")
async def security_section(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await section_page(request, db, "security")


@get("/settings/reminders", guards=[survivor_or_mentor], name="settings_reminders")
async def reminders_section(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await section_page(request, db, "reminders")


@get("/settings/language", guards=[signed_in], name="settings_language")
async def language_section(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await section_page(request, db, "language")


@get("/settings/data", guards=[survivor_only], name="settings_data")
async def data_section(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await section_page(request, db, "data")


@post("/settings/exit", guards=[signed_in], name="save_exit")
async def save_exit(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    form = await request.form()
    raw = form_value(form, "exit_url", 1000).strip()
    if raw and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", raw):
        raw = "https://" + raw  # "news.example.org" means the web site
    if raw and not is_web_address(raw):
        return await section_page(
            request, db, "safety", status_code=400, values={"exit_url": raw},
            errors={"exit_url": _("Enter a web address like https://www.example.com, or leave it empty.")},
        )
    user = await db.get(User, viewer.user_id)
    if user is None:  # removed while signed in
        return await section_page(request, db, "safety")
    user.exit_url = raw
    db.add(user)
    await db.commit()
    # The page is rendered with the new value, so its Exit now link leads to the new place at once.
    request.scope["state"]["viewer"] = replace(viewer, exit_url=raw)
    return await section_page(request, db, "safety", values={"exit_url": raw}, saved=True)


@get("/settings/time-zone", guards=[signed_in], name="time_zone")
async def time_zone_page(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    """The second step of choosing a time zone: the cities of the country chosen on Settings."""
    viewer = current_viewer(request)
    # Without a country: the country of the zone chosen now (UTC's own "country" for none).
    chosen = request.query_params.get("country", "")[:3] or zone_country(viewer.time_zone) or OTHER
    if chosen not in countries(await country(db)):
        return await section_page(request, db, "language", status_code=400,
                                  zone_error=_("Choose your country from the list."))
    return page(request, "settings/time_zone.html", title=_("Time zone"), country_name=countries()[chosen],
                cities=cities(chosen), zone=canonical(viewer.time_zone))


@post("/settings/time-zone", guards=[signed_in], name="save_time_zone")
async def save_time_zone(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    zone = form_value(await request.form(), "time_zone", 64)
    if not is_zone(zone):
        return await section_page(request, db, "language", status_code=400,
                                  zone_error=_("Choose a time zone from the list."))
    user = await db.get(User, viewer.user_id)
    if user is not None:
        user.time_zone = zone
        db.add(user)
        await reminder_times.zone_changed(db, viewer.user_id, zone)
        await db.commit()
    request.scope["state"]["viewer"] = replace(viewer, time_zone=zone)
    return await section_page(request, db, "language", zone_saved=True)


IDLE_CHOICES = (5, 10, 15, 30, 45, 60)


@post("/settings/safety", guards=[signed_in], name="save_safety")
async def save_safety(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """Idle sign-out, covering the screen when the app is hidden, and the installed app's name."""
    viewer = current_viewer(request)
    form = await request.form()
    idle = form_value(form, "idle_minutes", 4)
    app_name = form_value(form, "app_name", 16)
    if whole_number(idle, 4) not in IDLE_CHOICES or app_name not in disguise.CHOICES:
        return await section_page(request, db, "safety", status_code=400, safety_error=_("Choose from the lists."))
    user = await db.get(User, viewer.user_id)
    if user is not None:
        user.idle_minutes = int(idle)
        user.cover_when_hidden = form_value(form, "cover", 4) == "on"
        user.app_name = app_name
        db.add(user)
    # The phone keeps the name for the signed-out pages (portal.disguise).
    return Redirect("/settings/safety?done=safety#staying-safe", status_code=303,
                    cookies=[disguise.name_cookie(app_name, services_of(request).config.production)])


async def _safety_context(db: AsyncSession, request: Request[Any, Any, Any], viewer: Viewer,
                          sent: dict[str, Any]) -> dict[str, Any]:
    """Where Exit now leads, and the settings that keep the app quiet on a phone others may pick up."""
    user = await db.get(User, viewer.user_id)
    organisation_idle = services_of(request).config.session_idle_minutes
    return {
        "values": {"exit_url": viewer.exit_url}, "errors": {}, "saved": False, "safety_error": "",
        "default_exit_url": services_of(request).exit_default.url,
        "safety": {
            "idle": (user.idle_minutes if user and user.idle_minutes else min(organisation_idle, 60)),
            "idle_choices": {str(n): ngettext("%(num)d minute", "%(num)d minutes", n) % {"num": n}
                             for n in IDLE_CHOICES},
            "cover": viewer.cover_when_hidden, "app_name": viewer.app_name,
            "done": request.query_params.get("done") == "safety",
        },
    }


async def _language_context(db: AsyncSession, request: Request[Any, Any, Any], viewer: Viewer,
                            sent: dict[str, Any]) -> dict[str, Any]:
    return {
        "zone_saved": False, "zone_error": "", "countries": countries(await country(db)),
        "zone_country": zone_country(viewer.time_zone) or (OTHER if viewer.time_zone == "UTC" else ""),
    }


async def _account_context(db: AsyncSession, request: Request[Any, Any, Any], viewer: Viewer,
                           sent: dict[str, Any]) -> dict[str, Any]:
    """Signing in: recovery codes, passkeys, the browsers signed in, and the phones a new password turns off."""
    records = await services_of(request).sessions.store.list_for_user(viewer.user_id)
    records.sort(key=lambda record: record.last_seen_at, reverse=True)
    devices = await push.devices(db, viewer.user_id) if viewer.role in (Role.SURVIVOR, Role.MENTOR) else []
    return {"devices": devices, "account": {
        "codes_left": await codes_left(db, viewer.user_id), "local": local, "errors": sent.pop("account_errors", {}),
        "passkeys": await passkeys_of(db, viewer.user_id),
        "confirmed": await services_of(request).sessions.confirmed(viewer.session_id),
        "done": request.query_params.get("done", ""),
        "sessions": [{"ref": record.id[:16], "device": record.device, "last_seen_at": record.last_seen_at,
                      "current": record.id == viewer.session_id} for record in records],
    }}


async def _data_context(db: AsyncSession, request: Request[Any, Any, Any], viewer: Viewer,
                        sent: dict[str, Any]) -> dict[str, Any]:
    user = await db.get(User, viewer.user_id)
    return {"account": {"errors": sent.pop("account_errors", {})},
            "counting": {"on": bool(user and user.count_me_in), "done": request.query_params.get("done") == "counting"},
            # What they told organisations: each can be taken back here, also once the connection has ended.
            "own_answers": await policy.own_feedback(db, viewer),
            "answer_taken_back": request.query_params.get("done") == "feedback", "rating_label": rating_label,
            "month_name": month_name}


def kind_labels(role: Role) -> dict[str, str]:
    """What can be pushed, for this kind of person (a mentor only has messages)."""
    labels = {"appointments": _("Appointment reminders"), "checkins": _("Check-in reminders"),
              "life_areas": _("A monthly reminder to rate my life areas"),
              "documents": _("Documents that expire in 30 and in 7 days"), "messages": _("New messages"),
              "requests": _("Someone asks to see something of yours")}
    return labels if role == Role.SURVIVOR else {"messages": labels["messages"]}


def day_labels() -> dict[str, str]:
    return {"0": _("Monday"), "1": _("Tuesday"), "2": _("Wednesday"), "3": _("Thursday"), "4": _("Friday"),
            "5": _("Saturday"), "6": _("Sunday")}


async def _reminders_context(db: AsyncSession, request: Request[Any, Any, Any], viewer: Viewer,
                             sent: dict[str, Any]) -> dict[str, Any]:
    """Reminders on this phone: the phones that get them, what to send and when, the words on the lock screen."""
    prefs = sent.pop("push_values", None) or await reminder_times.settings_of(db, viewer.user_id)
    kinds = kind_labels(viewer.role)
    return {"confirmed": await services_of(request).sessions.confirmed(viewer.session_id), "push": {
        "prefs": prefs, "devices": await push.devices(db, viewer.user_id), "kinds": kinds,
        "chosen": [kind for kind in kinds if getattr(prefs, kind)],
        "days": day_labels(), "key": services_of(request).vapid.public_key, "default_text": push.default_text(),
        "errors": sent.pop("push_errors", {}), "saved": request.query_params.get("done", ""), "local": local,
    }}


routes = [settings_page, safety_section, security_section, reminders_section, language_section, data_section,
          time_zone_page, save_exit, save_time_zone, save_safety]
