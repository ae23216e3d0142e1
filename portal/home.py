"""Start pages: the signed-out landing page, the survivor's Home, the staff page, Config."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.appointments import next_appointment
from portal.checkins import feeling_labels, last_checkin
from portal.goals import goals_of
from portal.documents import expiring, expiry, today_for
from portal import account, disguise, reminders, sharing
from portal.i18n import _, ngettext
from portal.models import CheckIn, Goal, GoalStatus, User
from portal.config import is_web_address
from portal.timezones import is_zone, local, zone_names
from portal.forms import form_value, whole_number
from portal.viewer import home_for, signed_in, staff_only, survivor_only, viewer_of
from portal.web import page, services_of


@get("/", name="landing")
async def landing(request: Request[Any, Any, Any]) -> Response[Any]:
    viewer = viewer_of(request)
    if viewer:
        return Redirect(home_for(viewer.role), status_code=303)
    response = page(request, "home/landing.html", deleted=request.query_params.get("deleted") == "1")
    started_as = request.query_params.get("app")
    if started_as == "notes":
        # The installed Notes app's start address: the phone keeps the name again, even after Exit now
        # cleared its cookies. Only this fixed word is read from the address; anything else is ignored.
        response.context["brand"] = disguise.brand(started_as)
        response.cookies.append(disguise.name_cookie(started_as, services_of(request).config.production))
    return response


@dataclass(frozen=True)
class NextAction:
    """The one thing Home suggests doing next: a reason in a few words, and a link."""

    reason: str
    label: str
    href: str


def next_action(expiring_count: int, last_checkin: CheckIn | None, goals: list[Goal], zone: str) -> NextAction:
    """Papers first (they take time to renew), then today's check-in, then a goal to work on."""
    if expiring_count:
        return NextAction(
            ngettext("A document has expired or expires soon.", "{num} documents have expired or expire soon.",
                     expiring_count).format(num=expiring_count),
            _("Look at your documents"), "/documents")
    if last_checkin is None or local(last_checkin.created_at, zone).date() != today_for(zone):
        return NextAction(_("How are you today?"), _("New check-in"), "/check-ins/new")
    open_goal = next((goal for goal in goals if goal.steps_done < goal.steps_total), None)
    if open_goal is not None:
        return NextAction(_("One small step counts."), _("Take the next step on a goal"), f"/goals/{open_goal.id}")
    return NextAction(_("What would you like to work on?"), _("New goal"), "/goals/new")


@get("/home", guards=[survivor_only], name="home")
async def survivor_home(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = viewer_of(request) or _no_viewer()
    goals, _more = await goals_of(db, viewer, viewer.user_id, [GoalStatus.ACTIVE.value], per_page=3)
    today = today_for(viewer.time_zone)
    documents, expiring_count = await expiring(db, viewer, today)
    checkin = await last_checkin(db, viewer)
    return page(request, "home/survivor.html", title=_("Home"), goals=goals,
                next_appointment=await next_appointment(db, viewer), local=local,
                documents=documents, expiring_count=expiring_count, today=today, expiry=expiry,
                last_checkin=checkin, feelings=feeling_labels(), seen_parts=await sharing.seen_by_part(db, viewer.user_id),
                next_step=next_action(expiring_count, checkin, goals, viewer.time_zone))


@get("/staff", guards=[staff_only], name="staff_home")
async def staff_home(request: Request[Any, Any, Any]) -> Template:
    return page(request, "home/staff.html", title=_("Home"))


# ----- settings -------------------------------------------------------------------------------


async def settings_page_with(request: Request[Any, Any, Any], db: AsyncSession, **context: Any) -> Template:
    """The Settings page, with what a form just sent (its values, errors, or a word that it was saved)."""
    viewer = viewer_of(request) or _no_viewer()
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
    reminders_context = await reminders.settings_context(db, request, viewer)
    account_context = await account.settings_context(db, request, viewer)
    account_context["account"]["errors"] = context.pop("account_errors", {})
    if reminders_context["push"] is not None:
        reminders_context["push"]["errors"] = context.pop("push_errors", {})
        if "push_values" in context:
            reminders_context["push"]["prefs"] = context.pop("push_values")
        prefs = reminders_context["push"]["prefs"]
        reminders_context["push"]["chosen"] = [kind for kind in reminders_context["push"]["kinds"] if getattr(prefs, kind)]
    return page(
        request, "home/settings.html", title=_("Settings"),
        default_exit_url=services_of(request).config.exit_url, zones={name: name for name in zone_names()},
        **reminders_context, **account_context, **context,
    )


def _no_viewer() -> Any:
    raise AssertionError("guarded route without a viewer")


@get("/settings", guards=[signed_in], name="settings")
async def settings_page(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await settings_page_with(request, db)


@post("/settings/exit", guards=[signed_in], name="save_exit")
async def save_exit(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = viewer_of(request) or _no_viewer()
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


@post("/settings/time-zone", guards=[signed_in], name="save_time_zone")
async def save_time_zone(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = viewer_of(request) or _no_viewer()
    zone = form_value(await request.form(), "time_zone", 64)
    if not is_zone(zone):
        return await settings_page_with(request, db, status_code=400, zone_error=_("Choose a time zone from the list."))
    user = await db.get(User, viewer.user_id)
    if user is not None:
        user.time_zone = zone
        db.add(user)
        await reminders.zone_changed(db, viewer.user_id, zone)
        await db.commit()
    request.scope["state"]["viewer"] = replace(viewer, time_zone=zone)
    return await settings_page_with(request, db, zone_saved=True)


IDLE_CHOICES = (5, 10, 15, 30, 45, 60)


@post("/settings/safety", guards=[signed_in], name="save_safety")
async def save_safety(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """Idle sign-out, covering the screen when the app is hidden, and the installed app's name."""
    viewer = viewer_of(request) or _no_viewer()
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


@get("/healthz", include_in_schema=False)
async def healthz(db: NamedDependency[AsyncSession]) -> dict[str, str]:
    await db.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return {"status": "ok"}


routes = [landing, survivor_home, staff_home, settings_page, save_exit, save_time_zone, save_safety, healthz]
