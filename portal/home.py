"""Start pages: the signed-out landing page, the survivor's Home, the staff page, Settings."""

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
from portal import sharing
from portal.i18n import _, ngettext
from portal.models import CheckIn, Goal, GoalStatus, User
from portal.settings import is_web_address
from portal.timezones import is_zone, local, zone_names
from portal.web import form_value, home_for, page, services_of, signed_in, staff_only, survivor_only, viewer_of


@get("/", name="landing")
async def landing(request: Request[Any, Any, Any]) -> Response[Any]:
    viewer = viewer_of(request)
    if viewer:
        return Redirect(home_for(viewer.role), status_code=303)
    return page(request, "home/landing.html")


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


def _settings_page(request: Request[Any, Any, Any], **context: Any) -> Template:
    context.setdefault("values", {"exit_url": (viewer_of(request) or _no_viewer()).exit_url})
    context.setdefault("errors", {})
    context.setdefault("saved", False)
    context.setdefault("zone_saved", False)
    context.setdefault("zone_error", "")
    return page(
        request, "home/settings.html", title=_("Settings"),
        default_exit_url=services_of(request).settings.exit_url, zones={name: name for name in zone_names()}, **context,
    )


def _no_viewer() -> Any:
    raise AssertionError("guarded route without a viewer")


@get("/settings", guards=[signed_in], name="settings")
async def settings_page(request: Request[Any, Any, Any]) -> Template:
    return _settings_page(request)


@post("/settings/exit", guards=[signed_in], name="save_exit")
async def save_exit(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = viewer_of(request) or _no_viewer()
    form = await request.form()
    raw = form_value(form, "exit_url", 1000).strip()
    if raw and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", raw):
        raw = "https://" + raw  # "news.example.org" means the web site
    if raw and not is_web_address(raw):
        return _settings_page(
            request, status_code=400, values={"exit_url": raw},
            errors={"exit_url": _("Enter a web address like https://www.example.com, or leave it empty.")},
        )
    user = await db.get(User, viewer.user_id)
    if user is None:  # removed while signed in
        return _settings_page(request)
    user.exit_url = raw
    db.add(user)
    await db.commit()
    # The page is rendered with the new value, so its Exit now link leads to the new place at once.
    request.scope["state"]["viewer"] = replace(viewer, exit_url=raw)
    return _settings_page(request, values={"exit_url": raw}, saved=True)


@post("/settings/time-zone", guards=[signed_in], name="save_time_zone")
async def save_time_zone(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = viewer_of(request) or _no_viewer()
    zone = form_value(await request.form(), "time_zone", 64)
    if not is_zone(zone):
        return _settings_page(request, status_code=400, zone_error=_("Choose a time zone from the list."))
    user = await db.get(User, viewer.user_id)
    if user is not None:
        user.time_zone = zone
        db.add(user)
        await db.commit()
    request.scope["state"]["viewer"] = replace(viewer, time_zone=zone)
    return _settings_page(request, zone_saved=True)


@get("/healthz", include_in_schema=False)
async def healthz(db: NamedDependency[AsyncSession]) -> dict[str, str]:
    await db.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return {"status": "ok"}


routes = [landing, survivor_home, staff_home, settings_page, save_exit, save_time_zone, healthz]
