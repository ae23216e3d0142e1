"""Start pages: the signed-out landing page, the survivor's Home, and a caseworker's or mentor's Home, which
says what changed in their people's sharing since their last visit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import appointments, checkins, disguise, documents, goals, parts, policy, safety_plan, shares
from portal.documents import today_for
from portal.i18n import _, ngettext
from portal.models import AccessRequest, Connection, Grant, User, utcnow
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


def next_action(waiting: int, expiring_count: int, last_checkin: Any, active: list[Any], zone: str) -> NextAction:
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
    open_goal = next((goal for goal in active if goal.steps_done < goal.steps_total), None)
    if open_goal is not None:
        return NextAction(_("One small step counts."), _("Take the next step on a goal"), f"/goals/{open_goal.id}")
    return NextAction(_("What would you like to work on?"), _("New goal"), "/goals/new")


# What Home shows of each part, read in one statement built once.
HOME = (goals.HOME_SUMMARY, documents.EXPIRING_SUMMARY, checkins.LAST_SUMMARY, appointments.NEXT_SUMMARY,
        safety_plan.PLAN_SUMMARY)


@get("/home", guards=[survivor_only], name="home")
async def survivor_home(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    today = today_for(viewer.time_zone)
    found = await policy.own_together(db, viewer, HOME)
    active, expiring, last = found["goal"], found["document"], next(iter(found["checkin"]), None)
    expiring_count = expiring[0].total if expiring else 0
    return page(request, "home/survivor.html", title=_("Home"), goals=active, ask_counting=not viewer.count_asked,
                next_appointment=next(iter(found["appointment"]), None), local=local,
                documents=expiring, expiring_count=expiring_count, today=today, expiry=documents.expiry,
                last_checkin=last, feelings=checkins.feeling_labels(), safety_plan=next(iter(found["plan"]), None),
                seen_parts=await shares.seen_by_part(db, viewer.user_id),
                next_step=next_action(viewer.waiting, expiring_count, last, active, viewer.time_zone))


# ----- a caseworker's or mentor's Home: what changed since their last visit ------------------------

FIRST_LOOK_BACK = timedelta(days=14)  # the first visit ever shows what changed in the last two weeks
# A card stopped and another made for the same person and part (or item) this close together is one share going
# on, not a stop and a start: saving the Sharing form replaces a card whose end or notes changed.
TAKEN_OVER_WITHIN = timedelta(seconds=5)
CHANGES_SHOWN = 50


@dataclass(frozen=True)
class Change:
    """One line of what changed for a staff member: the person (by the name the staff member sees), what
    happened to which part (or to one item of it, never saying which), and when."""

    # "began"; "stopped" (by the survivor); "ended" (the end they chose came); "approved" or "not now" (a request)
    kind: str
    connection_id: str
    name: str
    part: str
    one_item: bool
    at: datetime

    @property
    def label(self) -> str:
        """The part's name, as its own pages name it: "Goals"."""
        return parts.BY_KEY[self.part].label()


@dataclass
class _Share:
    """The cards for one person and one part (or item) that followed each other without a break."""

    connection: Connection
    part: str
    one_item: bool
    began: datetime
    ended: datetime | None  # None: still going
    how: str  # how it ended: "stopped" or "ended"


def _end_of(card: Grant) -> tuple[datetime | None, str]:
    """When a card stops being in force (None: not before the survivor stops it), and why."""
    if card.revoked_at is not None and (card.ends_at is None or card.revoked_at <= card.ends_at):
        return card.revoked_at, "stopped"
    return card.ends_at, "ended"


def _shares(cards: list[tuple[Grant, Connection]]) -> list[_Share]:
    """The cards (oldest first) joined into shares: a card that takes over from one for the same person and the
    same part or item, at once or while it is still in force, continues that share."""
    found: list[_Share] = []
    latest: dict[tuple[str, str, str | None], _Share] = {}
    for card, connection in cards:
        end, how = _end_of(card)
        key = (card.connection_id, card.part, card.item_id)
        share = latest.get(key)
        if share is not None and (share.ended is None or card.created_at <= share.ended + TAKEN_OVER_WITHIN):
            if share.ended is not None and (end is None or end > share.ended):
                share.ended, share.how = end, how
            continue
        latest[key] = _Share(connection, card.part, card.item_id is not None, card.created_at, end, how)
        found.append(latest[key])
    return found


def what_changed(cards: list[tuple[Grant, Connection]], answers: list[tuple[AccessRequest, Connection]],
                 since: datetime, until: datetime) -> list[Change]:
    """The lines of a staff member's Home, newest first: each share that began or ended after `since` and by
    `until`, and each of their requests answered in that time. A share that an approval began is said once,
    as the approval."""
    approvals = [(asked.connection_id, asked.part, asked.answered_at) for asked, _link in answers if asked.approved]

    def approved(share: _Share) -> bool:
        return not share.one_item and any(
            (cid, part) == (share.connection.id, share.part) and at is not None
            and abs(at - share.began) <= TAKEN_OVER_WITHIN for cid, part, at in approvals)

    changes: list[Change] = []
    for share in _shares(cards):
        said = (share.connection.id, share.connection.survivor_label, share.part, share.one_item)
        if since < share.began <= until and not approved(share):
            changes.append(Change("began", *said, share.began))
        if share.ended is not None and since < share.ended <= until:
            changes.append(Change(share.how, *said, share.ended))
    for asked, connection in answers:
        if asked.answered_at is not None:
            changes.append(Change("approved" if asked.approved else "not now", connection.id,
                                  connection.survivor_label, asked.part, False, asked.answered_at))
    known = [change for change in changes if change.part in parts.BY_KEY]
    return sorted(known, key=lambda change: change.at, reverse=True)


@get("/staff", guards=[staff_only], name="staff_home")
async def staff_home(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    """Home for a caseworker or mentor. What changed is counted from the previous visit, and this visit is
    kept in the same request, so each change is shown once."""
    viewer, now = current_viewer(request), utcnow()
    account = await db.get(User, viewer.user_id)
    last_visit = account.home_seen_at if account is not None else None
    since = last_visit or now - FIRST_LOOK_BACK
    changes = what_changed(*await policy.sharing_changes(db, viewer, since, now), since, now)
    if account is not None:
        account.home_seen_at = now
        db.add(account)
    return page(request, "home/staff.html", title=_("Home"), changes=changes[:CHANGES_SHOWN],
                more_changes=max(len(changes) - CHANGES_SHOWN, 0), first_visit=last_visit is None, local=local)


@get("/healthz", include_in_schema=False)
async def healthz(db: NamedDependency[AsyncSession]) -> dict[str, str]:
    await db.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return {"status": "ok"}


routes = [landing, survivor_home, staff_home, healthz]
