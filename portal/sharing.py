"""Sharing, the survivor's side: connect to a caseworker or mentor by their code, choose what each of
them may see and until when, stop any of it at once, and read who has looked.

Connecting shares nothing. A share card is read back as a sentence ("Ana (caseworker) can see your
documents until 2027-03-12"). Each part has its own end and its own Include my notes: saving a
connection's sharing changes only the parts whose choices changed, so a part the survivor did not touch
keeps its end, and what the form shows is exactly what is in force. Every decision about reading survivor
data, and about whose connections these are, is made in `portal.policy`; this module only writes connections
and cards, which belong to the survivor (with portal.shares).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import parts, policy
from portal.links import Link, person_label, profile_of
from portal.users import known_as
from portal.shares import KEEP, UNTIL, end_connection, ends_at_for, hold_connection, revoke, until_labels
from portal.web import client_address
from portal.i18n import _
from portal.models import AccessRequest, Connection, ConnectionCode, Grant, User, utcnow
from portal.timezones import local
from portal.forms import form_value, page_number, text_problem
from portal.viewer import current_viewer, survivor_only, Viewer
from portal.web import page, services_of

LABEL_MAX = 60
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to mix up
CODE_LENGTH = 8
LOG_PER_PAGE = 30
UNDO_SECONDS = 10  # Stop all sharing can be undone for this long
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def normalise_code(raw: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", raw.upper())[: CODE_LENGTH * 2]


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


# ----- the Sharing page -----------------------------------------------------------------------


async def open_requests(db: AsyncSession, viewer: Viewer, link_list: list[Link]) -> list[tuple[AccessRequest, Link]]:
    """Requests waiting for an answer on these live connections of the viewer's, oldest first."""
    by_id = {link.connection.id: link for link in link_list}
    if not by_id:
        return []
    rows = await policy.access_requests(db, viewer, list(by_id), col(AccessRequest.answered_at).is_(None))
    return [(row, by_id[row.connection_id]) for row in rows]


async def _sharing_page(request: Request[Any, Any, Any], db: AsyncSession, *, status_code: int = 200,
                        **context: Any) -> Template:
    viewer = current_viewer(request)
    context.setdefault("values", {})
    context.setdefault("errors", {})
    link_list = await policy.connections(db, viewer)
    return page(request, "sharing/sharing.html", title=_("Sharing"), status_code=status_code,
                links=link_list, requests=await open_requests(db, viewer, link_list), parts=parts.labels(),
                phrases=parts.phrases(),
                untils=until_labels(), noted=parts.noted(), local=local, notice=_notice(request),
                undo_at=_undo_offer(request), undo_seconds=UNDO_SECONDS, **context)


def _notice(request: Request[Any, Any, Any]) -> str:
    return {
        "connected": _("Connected. Nothing is shared until you choose below."),
        "saved": _("Saved. It takes effect at once."),
        "stopped": _("All sharing has stopped. Nobody else can see anything of yours now."),
        "restored": _("Undone: your sharing is back as it was."),
        "too-late": _("It is too late to undo. You can share again below, one part at a time."),
        "ended": _("The connection has ended, and with it everything you shared with that person."),
        "approved": _("Approved. It takes effect at once, and you can stop it at any time."),
        "declined": _("Declined. They are told only “not now”."),
    }.get(request.query_params.get("done", ""), "")


@get("/", name="sharing")
async def sharing(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await _sharing_page(request, db)


async def _code_owner(db: AsyncSession, code: str) -> User | None:
    """The active staff member whose unused, unexpired code this is."""
    if len(normalise_code(code)) != CODE_LENGTH:
        return None
    return (await db.exec(
        select(User).join(ConnectionCode, col(User.id) == ConnectionCode.staff_id)
        .where(ConnectionCode.id == hash_code(code), col(ConnectionCode.used_at).is_(None),
               col(ConnectionCode.expires_at) > utcnow(), col(User.active).is_(True))
    )).first()


def _code_refused() -> str:
    return _("This code does not work. A code works once, for 15 minutes: ask for a new one.")


async def _code_problem(request: Request[Any, Any, Any], db: AsyncSession, code: str) -> tuple[str, User | None]:
    """The staff member behind a live code, or what to say beside the field. Wrong codes count
    towards the same growing waits as wrong passwords; a wrong code says nothing about why."""
    viewer = current_viewer(request)
    throttle = services_of(request).throttle
    subjects = {"connect_account": str(viewer.user_id), "connect_address": client_address(request)}
    if wait := await throttle.seconds_to_wait(**subjects):
        return _("Too many tries. Please wait {seconds} seconds and try again.").format(seconds=wait), None
    if not normalise_code(code):
        return _("Type the code your caseworker or mentor shows you."), None
    staff = await _code_owner(db, code)
    if staff is None:
        await throttle.failed(**subjects)
        return _code_refused(), None
    return "", staff


async def _connect_page(request: Request[Any, Any, Any], db: AsyncSession, staff: User, code: str, *,
                        status_code: int = 200, values: dict[str, str] | None = None,
                        errors: dict[str, str] | None = None) -> Template:
    """Before connecting, the staff member's profile: their name, role, organisation and what they help with."""
    _name, _role, organisation = await known_as(db, staff.id or 0) or ("", staff.role, "")
    return page(request, "sharing/connect.html", title=_("Sharing"), code=normalise_code(code), status_code=status_code,
                profile=profile_of(staff, organisation),
                values=values or {}, errors=errors or {})


@post("/connect")
async def connect(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    code = form_value(await request.form(), "code", 40).strip()
    problem, staff = await _code_problem(request, db, code)
    if problem or staff is None:
        return await _sharing_page(request, db, status_code=400, values={"code": code}, errors={"code": problem})
    return await _connect_page(request, db, staff, code)


@post("/connect/confirm")
async def confirm_connect(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    viewer = current_viewer(request)
    form = await request.form()
    code = form_value(form, "code", 40)
    label = form_value(form, "label", LABEL_MAX * 4).strip()
    problem, staff = await _code_problem(request, db, code)
    if problem or staff is None:
        return await _sharing_page(request, db, status_code=400, values={"code": code}, errors={"code": problem})
    if label_problem := text_problem(label, LABEL_MAX, _("Write the name this person will see for you.")):
        return await _connect_page(request, db, staff, code, status_code=400, values={"label": label},
                                   errors={"label": label_problem})
    # Claimed with one conditional UPDATE: two tabs cannot both use one code.
    claimed = await db.exec(
        update(ConnectionCode).where(col(ConnectionCode.id) == hash_code(code), col(ConnectionCode.used_at).is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        return await _sharing_page(request, db, status_code=400, values={"code": code},
                                   errors={"code": _code_refused()})
    if staff.id is None:  # a row read from the database always has its id
        raise NotFoundException()
    for link in await policy.connections(db, viewer, staff_id=staff.id):
        await end_connection(db, link)  # connecting again starts afresh: nothing carried over
    db.add(Connection(survivor_id=viewer.user_id, staff_id=staff.id, survivor_label=label))
    return Redirect("/sharing?done=connected", status_code=303)


@post("/{connection_id:str}/save")
async def save_sharing(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                       connection_id: FromPath[str]) -> Response[Any]:
    viewer = current_viewer(request)
    await hold_connection(db, viewer, connection_id)
    link = await policy.own_connection(db, viewer, connection_id)
    form = await request.form()
    chosen = set(_all(form, "parts")) & set(parts.labels())
    with_notes = set(_all(form, "notes")) & set(parts.noted())
    current = link.part_cards
    untils = {part: form_value(form, f"until-{part}", 10) for part in chosen}
    if any(until not in UNTIL and not (until == KEEP and part in current) for part, until in untils.items()):
        return await _sharing_page(request, db, status_code=400,
                                   errors={connection_id: _("Choose until when, from the list.")})
    # Each part on its own: one no longer ticked stops; one whose Until says "as now" keeps its end; one
    # whose choices are as they were is not touched at all. Saving never moves another part's end.
    for part in parts.labels():
        card = current.get(part)
        if part not in chosen:
            if card is not None:
                await revoke(db, connection_id, parts=[part])
            continue
        until, notes = untils[part], part in with_notes
        if card is not None and until == KEEP and card.include_notes == notes:
            continue
        ends_at = card.ends_at if card is not None and until == KEEP else ends_at_for(until)
        if card is not None:
            await revoke(db, connection_id, parts=[part])
        db.add(Grant(connection_id=link.connection.id, part=part, ends_at=ends_at, include_notes=notes))
    return Redirect("/sharing?done=saved", status_code=303)


def _all(form: Any, name: str) -> list[str]:
    """Every value sent under one name (a group of checkboxes), each cut to a sane length."""
    return [str(value)[:20] for value in (form.getall(name, []) if hasattr(form, "getall") else [])]


@post("/{connection_id:str}/end")
async def end(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
              connection_id: FromPath[str]) -> Response[Any]:
    await end_connection(db, await policy.own_connection(db, current_viewer(request), connection_id))
    return Redirect("/sharing?done=ended", status_code=303)


async def _open_request(db: AsyncSession, viewer: Viewer, request_id: str) -> tuple[AccessRequest, Link]:
    """A request still waiting, on one of the viewer's own live connections; 404 otherwise."""
    link_list = await policy.connections(db, viewer)
    found = [(row, link) for row, link in await open_requests(db, viewer, link_list) if row.id == request_id]
    if not found:
        raise NotFoundException()
    return found[0]


@post("/requests/{request_id:str}/approve")
async def approve(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                  request_id: FromPath[str]) -> Response[Any]:
    viewer = current_viewer(request)
    asked, link = await _open_request(db, viewer, request_id)
    form = await request.form()
    until = form_value(form, "until", 10)
    if until not in UNTIL:
        return await _sharing_page(request, db, status_code=400,
                                   errors={asked.id: _("Choose until when, from the list.")})
    # Only the part asked for changes: every other part keeps its own end. Two answers at once: the second
    # waits for the first, then finds the request answered.
    await hold_connection(db, viewer, link.connection.id)
    await db.refresh(asked)
    if asked.answered_at is not None:
        raise NotFoundException()
    await revoke(db, link.connection.id, parts=[asked.part])
    db.add(Grant(connection_id=link.connection.id, part=asked.part, ends_at=ends_at_for(until),
                 include_notes=form_value(form, "notes", 1) == "1" and asked.part in parts.noted()))
    asked.answered_at, asked.approved = utcnow(), True
    db.add(asked)
    return Redirect("/sharing?done=approved", status_code=303)


@post("/requests/{request_id:str}/decline")
async def decline(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                  request_id: FromPath[str]) -> Response[Any]:
    asked, _link = await _open_request(db, current_viewer(request), request_id)
    asked.answered_at, asked.approved = utcnow(), False
    db.add(asked)
    return Redirect("/sharing?done=declined", status_code=303)


@post("/stop-all")
async def stop_all(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """Every card stopped at once, all stamped with one moment: the page after it offers Undo for a few seconds."""
    viewer = current_viewer(request)
    at = utcnow()
    await revoke(db, *[link.connection.id for link in await policy.connections(db, viewer)], at=at)
    return Redirect(f"/sharing?done=stopped&at={_stamp(at)}", status_code=303)


@post("/stop-all/undo")
async def undo_stop_all(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """Within UNDO_SECONDS of Stop all sharing, the same cards again, as new cards (the stop stays on record, and
    each card keeps its own end). Later, or for cards not the survivor's own, nothing: share again part by part."""
    viewer = current_viewer(request)
    at = _moment(form_value(await request.form(), "at", 20))
    if at is None or not _undoable(at):
        return Redirect("/sharing?done=too-late", status_code=303)
    live = {(card.part, card.item_id, link.connection.id) for link in await policy.connections(db, viewer)
            for card in link.cards}
    for card in await policy.stopped_together(db, viewer, at):
        if (card.part, card.item_id, card.connection_id) not in live:  # twice pressed: given back once
            db.add(Grant(connection_id=card.connection_id, part=card.part, item_id=card.item_id,
                         ends_at=card.ends_at, include_notes=card.include_notes))
    return Redirect("/sharing?done=restored", status_code=303)


def _stamp(at: datetime) -> int:
    """A moment as whole microseconds, exact both ways (it names the cards one Stop all sharing stopped)."""
    return (at - EPOCH) // timedelta(microseconds=1)


def _moment(raw: str) -> datetime | None:
    return EPOCH + timedelta(microseconds=int(raw)) if raw.isdigit() and len(raw) <= 17 else None


def _undoable(at: datetime) -> bool:
    return timedelta(0) <= utcnow() - at <= timedelta(seconds=UNDO_SECONDS)


def _undo_offer(request: Request[Any, Any, Any]) -> str:
    """The moment to undo, on the page that follows Stop all sharing while Undo can still be pressed."""
    raw = request.query_params.get("at", "")
    at = _moment(raw) if request.query_params.get("done") == "stopped" else None
    return raw if at is not None and _undoable(at) else ""


# ----- Who has looked -------------------------------------------------------------------------


@get("/log", name="who_has_looked")
async def who_has_looked(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    number = page_number(request)
    person = request.query_params.get("person", "")[:64]
    entries, has_next = await policy.access_log(db, viewer, person=person, page=number, per_page=LOG_PER_PAGE)
    people = await policy.access_log_people(db, viewer)
    return page(request, "sharing/log.html", title=_("Sharing"), entries=entries, has_next=has_next,
                page_number=number, person=person,
                people={name: person_label(name, role, organisation) for name, role, organisation in people},
                names=await policy.item_names(db, viewer, entries, parts.PARTS), phrases=parts.phrases(), local=local,
                person_label=person_label)


# ----- one item shared with one person ---------------------------------------------------------





@post("/item")
async def share_item(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """Share one item with one connected person, until a chosen end."""
    viewer = current_viewer(request)
    form = await request.form()
    part, item_id = form_value(form, "part", 20), form_value(form, "item_id", 40)
    if part not in parts.BY_KEY:
        raise NotFoundException()
    item: Any = await policy.changeable(db, viewer, parts.BY_KEY[part], item_id)
    link = await policy.own_connection(db, viewer, form_value(form, "connection", 40))
    until = form_value(form, "until", 10)
    back = f"{parts.BY_KEY[part].path}/{item.id}"
    if until not in UNTIL or item.private:
        return Redirect(f"{back}?done=not-shared", status_code=303)
    db.add(Grant(connection_id=link.connection.id, part=part, item_id=item.id, ends_at=ends_at_for(until),
                 include_notes=form_value(form, "notes", 1) == "1" and part in parts.noted()))
    return Redirect(f"{back}?done=shared", status_code=303)


@post("/cards/{card_id:str}/stop")
async def stop_card(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                    card_id: FromPath[str]) -> Response[Any]:
    """Stop one card of the survivor's own, at once; back to the item it was for, or to Sharing."""
    viewer = current_viewer(request)
    for link in await policy.connections(db, viewer):
        for card in link.cards:
            if card.id == card_id:
                stop = update(Grant).where(col(Grant.id) == card_id).values(revoked_at=utcnow())
                await db.exec(stop)
                if card.item_id:
                    return Redirect(f"{parts.BY_KEY[card.part].path}/{card.item_id}?done=stopped", status_code=303)
                return Redirect("/sharing?done=saved", status_code=303)
    raise NotFoundException()




router = Router(
    path="/sharing",
    guards=[survivor_only],
    route_handlers=[sharing, connect, confirm_connect, share_item, stop_card, save_sharing, end, approve, decline,
                    stop_all, undo_stop_all,
                    who_has_looked],
)
