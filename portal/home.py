"""Start pages: the signed-out landing page, the survivor's Home, the staff page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.appointments import next_appointment
from portal.checkins import feeling_labels, last_checkin
from portal.goals import goals_of
from portal.documents import expiring, expiry, today_for
from portal import disguise, shares
from portal.i18n import _, ngettext
from portal.models import CheckIn, Goal, GoalStatus
from portal.timezones import local
from portal.viewer import current_viewer, home_for, staff_only, survivor_only, viewer_of
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


def next_action(waiting: int, expiring_count: int, last_checkin: CheckIn | None, goals: list[Goal],
                zone: str) -> NextAction:
    """A request waiting for an answer first (someone is waiting, and nothing is shared until the survivor
    says so), then papers (they take time to renew), then today's check-in, then a goal to work on."""
    if waiting:
        return NextAction(
            ngettext("Someone you work with asks to see a part of your space.",
                     "{num} requests to see parts of your space are waiting for your answer.", waiting
                     ).format(num=waiting),
            _("Answer on the Sharing page"), "/sharing#requests")
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
    viewer = current_viewer(request)
    goals, _more = await goals_of(db, viewer, viewer.user_id, [GoalStatus.ACTIVE.value], per_page=3)
    today = today_for(viewer.time_zone)
    documents, expiring_count = await expiring(db, viewer, today)
    checkin = await last_checkin(db, viewer)
    return page(request, "home/survivor.html", title=_("Home"), goals=goals,
                next_appointment=await next_appointment(db, viewer), local=local,
                documents=documents, expiring_count=expiring_count, today=today, expiry=expiry,
                last_checkin=checkin, feelings=feeling_labels(),
                seen_parts=await shares.seen_by_part(db, viewer.user_id),
                next_step=next_action(viewer.waiting, expiring_count, checkin, goals, viewer.time_zone))


@get("/staff", guards=[staff_only], name="staff_home")
async def staff_home(request: Request[Any, Any, Any]) -> Template:
    return page(request, "home/staff.html", title=_("Home"))


@get("/healthz", include_in_schema=False)
async def healthz(db: NamedDependency[AsyncSession]) -> dict[str, str]:
    await db.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return {"status": "ok"}


routes = [landing, survivor_home, staff_home, healthz]
