"""Sharing, the survivor's side: connect to a caseworker or mentor by their code, choose what each of
them may see and until when, stop any of it at once, and read who has looked.

Connecting shares nothing. A share card is read back as a sentence ("Ana (caseworker) can see your
documents until 2027-03-12"). Each part has its own end and its own Include my notes: saving a
connection's sharing changes only the parts whose choices changed, so a part the survivor did not touch
keeps its end, and what the form shows is exactly what is in force. Every decision about reading survivor
data is made in `portal.policy`; this module only writes connections and cards, which belong to the survivor.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import policy
from portal.web import client_address
from portal.i18n import _
from portal.models import AccessLog, AccessRequest, Connection, ConnectionCode, Grant, Part, Role, User, utcnow
from portal.timezones import local
from portal.forms import form_value, page_number, text_problem
from portal.viewer import current_viewer, survivor_only, Viewer
from portal.web import page, services_of

LABEL_MAX = 60
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to mix up
CODE_LENGTH = 8
UNTIL = {"week": timedelta(days=7), "month": timedelta(days=30), "3months": timedelta(days=91), "stop": None}
KEEP = "keep"  # the Until choice of a part already shared: its end stays as it is
LOG_PER_PAGE = 30


def part_labels() -> dict[str, str]:
    return {Part.GOALS: _("Goals"), Part.APPOINTMENTS: _("Appointments"), Part.DOCUMENTS: _("Documents"),
            Part.CHECKINS: _("Check-ins")}


def part_phrases() -> dict[str, str]:
    """How a part reads inside a sentence: "can see your goals"."""
    return {Part.GOALS: _("your goals"), Part.APPOINTMENTS: _("your appointments"), Part.DOCUMENTS: _("your documents"),
            Part.CHECKINS: _("your check-ins")}


def until_labels() -> dict[str, str]:
    return {"week": _("1 week"), "month": _("1 month"), "3months": _("3 months"), "stop": _("Until I stop")}


def noted_parts() -> list[str]:
    """The parts whose items have free-text notes of the survivor's (held back unless a card includes them)."""
    return [policy.PARTS[model].value for model in policy.NOTES]


def role_label(role: str) -> str:
    return _("caseworker") if role == Role.CASEWORKER else _("peer mentor")


def person_label(name: str, role: str) -> str:
    """A staff member as the survivor sees them: "Ana (caseworker)"."""
    return _("{name} ({role})").format(name=name, role=role_label(role))


def normalise_code(raw: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", raw.upper())[: CODE_LENGTH * 2]


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


# ----- reading connections and cards (the survivor's own, or a staff member's own) -------------


@dataclass(frozen=True)
class Card:
    """A share card in force, ready to be said as a sentence."""

    id: str
    part: str
    item_id: str | None
    created_at: datetime
    ends_at: datetime | None
    include_notes: bool = False


@dataclass(frozen=True)
class Link:
    """A live connection as one side sees it: who is on the other side, and the cards in force."""

    connection: Connection
    staff_name: str
    staff_role: str
    cards: list[Card]

    @property
    def person(self) -> str:
        return person_label(self.staff_name, self.staff_role)

    @property
    def parts(self) -> list[str]:
        """The whole parts shared on this connection, in the order the app lists them."""
        shared = {card.part for card in self.cards if card.item_id is None}
        return [part.value for part in Part if part.value in shared]

    @property
    def item_parts(self) -> list[str]:
        """Parts of which only single items are shared on this connection."""
        some = {card.part for card in self.cards if card.item_id is not None}
        return [part.value for part in Part if part.value in some and part.value not in self.parts]

    @property
    def part_cards(self) -> dict[str, Card]:
        """The card in force for each whole part shared (the one that ends last, should there be two)."""
        found: dict[str, Card] = {}
        for card in self.cards:
            if card.item_id is None:
                held = found.get(card.part)
                if held is None or (held.ends_at is not None and (card.ends_at is None or card.ends_at > held.ends_at)):
                    found[card.part] = card
        return found


async def links(db: AsyncSession, *, survivor_id: int | None = None, staff_id: int | None = None,
                connection_id: str | None = None, page: int = 0, per_page: int = 20) -> list[Link]:
    """Live connections of a survivor (or of a staff member, or one connection), each with its cards in force now.
    With `page`, one page of them, newest first, and one more when there is a next page."""
    now = utcnow()
    query = (
        select(Connection, User.username, User.role)
        .join(User, col(User.id) == Connection.staff_id)
        .where(col(Connection.ended_at).is_(None))
    )
    if page:
        query = query.order_by(col(Connection.created_at).desc(), col(Connection.id)).offset((page - 1) * per_page).limit(per_page + 1)
    else:
        query = query.order_by(col(Connection.created_at))
    if survivor_id is not None:
        query = query.where(Connection.survivor_id == survivor_id)
    if staff_id is not None:
        query = query.where(Connection.staff_id == staff_id)
    if connection_id is not None:
        query = query.where(Connection.id == connection_id[:32])
    rows = (await db.exec(query)).all()
    ids = [connection.id for connection, _name, _role in rows]
    cards: dict[str, list[Card]] = {cid: [] for cid in ids}
    if ids:
        live = (await db.exec(
            select(Grant).join(Connection, col(Connection.id) == Grant.connection_id)
            .where(col(Grant.connection_id).in_(ids), policy.live_grant(now)).order_by(col(Grant.part))
        )).all()
        for grant in live:
            cards[grant.connection_id].append(
                Card(grant.id, grant.part, grant.item_id, grant.created_at, grant.ends_at, grant.include_notes))
    return [Link(connection, name, role, cards[connection.id]) for connection, name, role in rows]


async def own_link(db: AsyncSession, viewer: Viewer, connection_id: str) -> Link:
    """One live connection of the viewer's own (either side); 404 for anyone else's or an ended one."""
    side = {"survivor_id": viewer.user_id} if viewer.role == Role.SURVIVOR else {"staff_id": viewer.user_id}
    found = await links(db, connection_id=connection_id, **side)
    if not found:
        raise NotFoundException()
    return found[0]


def ends_at_for(until: str) -> datetime | None:
    """When a card chosen "until" (a key of UNTIL) ends, from now; None: until the survivor stops it."""
    span = UNTIL[until]
    return utcnow() + span if span is not None else None


async def hold_connection(db: AsyncSession, viewer: Viewer, connection_id: str) -> None:
    """Take the connection's row lock for this transaction, so two saves of its sharing at once run one
    after the other and the second reads what the first wrote (PostgreSQL row lock; SQLite has one writer)."""
    await db.exec(update(Connection).where(  # type: ignore[call-overload]
        col(Connection.id) == connection_id[:32], col(Connection.survivor_id) == viewer.user_id)
        .values(survivor_label=Connection.survivor_label))


async def revoke(db: AsyncSession, *connection_ids: str, parts: Sequence[str] | None = None) -> None:
    """Stop the cards in force on these connections at once: all of them, or only the whole-part cards of `parts`."""
    if not connection_ids:
        return
    query = update(Grant).where(col(Grant.connection_id).in_(connection_ids), col(Grant.revoked_at).is_(None))
    if parts is not None:
        query = query.where(col(Grant.item_id).is_(None), col(Grant.part).in_(parts))
    await db.exec(query.values(revoked_at=utcnow()))  # type: ignore[call-overload]


async def revoke_item_cards(db: AsyncSession, part: str, item_id: str) -> None:
    """An item deleted: the cards that named it stop with it."""
    await db.exec(update(Grant).where(  # type: ignore[call-overload]
        col(Grant.part) == part, col(Grant.item_id) == item_id, col(Grant.revoked_at).is_(None)).values(revoked_at=utcnow()))


async def end_connection(db: AsyncSession, link: Link) -> None:
    await revoke(db, link.connection.id)
    link.connection.ended_at = utcnow()
    db.add(link.connection)


# ----- the Sharing page -----------------------------------------------------------------------


async def open_requests(db: AsyncSession, link_list: list[Link]) -> list[tuple[AccessRequest, Link]]:
    """Requests waiting for an answer on these live connections, oldest first."""
    by_id = {link.connection.id: link for link in link_list}
    if not by_id:
        return []
    rows = (await db.exec(
        select(AccessRequest).where(col(AccessRequest.connection_id).in_(by_id), col(AccessRequest.answered_at).is_(None))
        .order_by(col(AccessRequest.created_at))
    )).all()
    return [(row, by_id[row.connection_id]) for row in rows]


async def _sharing_page(request: Request[Any, Any, Any], db: AsyncSession, *, status_code: int = 200,
                        **context: Any) -> Template:
    viewer = current_viewer(request)
    context.setdefault("values", {})
    context.setdefault("errors", {})
    link_list = await links(db, survivor_id=viewer.user_id)
    return page(request, "sharing/sharing.html", title=_("Sharing"), status_code=status_code,
                links=link_list, requests=await open_requests(db, link_list), parts=part_labels(), phrases=part_phrases(),
                untils=until_labels(), noted=noted_parts(), local=local, notice=_notice(request), **context)


def _notice(request: Request[Any, Any, Any]) -> str:
    return {
        "connected": _("Connected. Nothing is shared until you choose below."),
        "saved": _("Saved. It takes effect at once."),
        "stopped": _("All sharing has stopped. Nobody else can see anything of yours now."),
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
        return _("This code does not work. A code works once, for 15 minutes: ask for a new one."), None
    return "", staff


@post("/connect")
async def connect(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    code = form_value(await request.form(), "code", 40).strip()
    problem, staff = await _code_problem(request, db, code)
    if problem or staff is None:
        return await _sharing_page(request, db, status_code=400, values={"code": code}, errors={"code": problem})
    return page(request, "sharing/connect.html", title=_("Sharing"), code=normalise_code(code),
                person=person_label(staff.username, staff.role), values={}, errors={})


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
        return page(request, "sharing/connect.html", title=_("Sharing"), code=normalise_code(code), status_code=400,
                    person=person_label(staff.username, staff.role), values={"label": label}, errors={"label": label_problem})
    # Claimed with one conditional UPDATE: two tabs cannot both use one code.
    claimed = await db.exec(  # type: ignore[call-overload]
        update(ConnectionCode).where(col(ConnectionCode.id) == hash_code(code), col(ConnectionCode.used_at).is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        return await _sharing_page(request, db, status_code=400, values={"code": code},
                                   errors={"code": _("This code does not work. A code works once, for 15 minutes: ask for a new one.")})
    assert staff.id is not None
    for link in await links(db, survivor_id=viewer.user_id, staff_id=staff.id):
        await end_connection(db, link)  # connecting again starts afresh: nothing carried over
    db.add(Connection(survivor_id=viewer.user_id, staff_id=staff.id, survivor_label=label))
    return Redirect("/sharing?done=connected", status_code=303)


@post("/{connection_id:str}/save")
async def save_sharing(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                       connection_id: FromPath[str]) -> Response[Any]:
    viewer = current_viewer(request)
    await hold_connection(db, viewer, connection_id)
    link = await own_link(db, viewer, connection_id)
    form = await request.form()
    chosen = set(_all(form, "parts")) & set(part_labels())
    with_notes = set(_all(form, "notes")) & set(noted_parts())
    current = link.part_cards
    untils = {part: form_value(form, f"until-{part}", 10) for part in chosen}
    if any(until not in UNTIL and not (until == KEEP and part in current) for part, until in untils.items()):
        return await _sharing_page(request, db, status_code=400,
                                   errors={connection_id: _("Choose until when, from the list.")})
    # Each part on its own: one no longer ticked stops; one whose Until says "as now" keeps its end; one
    # whose choices are as they were is not touched at all. Saving never moves another part's end.
    for part in part_labels():
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
async def end(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], connection_id: FromPath[str]) -> Response[Any]:
    await end_connection(db, await own_link(db, current_viewer(request), connection_id))
    return Redirect("/sharing?done=ended", status_code=303)


async def _open_request(db: AsyncSession, viewer: Viewer, request_id: str) -> tuple[AccessRequest, Link]:
    """A request still waiting, on one of the viewer's own live connections; 404 otherwise."""
    link_list = await links(db, survivor_id=viewer.user_id)
    found = [(row, link) for row, link in await open_requests(db, link_list) if row.id == request_id]
    if not found:
        raise NotFoundException()
    return found[0]


@post("/requests/{request_id:str}/approve")
async def approve(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], request_id: FromPath[str]) -> Response[Any]:
    viewer = current_viewer(request)
    asked, link = await _open_request(db, viewer, request_id)
    form = await request.form()
    until = form_value(form, "until", 10)
    if until not in UNTIL:
        return await _sharing_page(request, db, status_code=400, errors={asked.id: _("Choose until when, from the list.")})
    # Only the part asked for changes: every other part keeps its own end. Two answers at once: the second
    # waits for the first, then finds the request answered.
    await hold_connection(db, viewer, link.connection.id)
    await db.refresh(asked)
    if asked.answered_at is not None:
        raise NotFoundException()
    await revoke(db, link.connection.id, parts=[asked.part])
    db.add(Grant(connection_id=link.connection.id, part=asked.part, ends_at=ends_at_for(until),
                 include_notes=form_value(form, "notes", 1) == "1" and asked.part in noted_parts()))
    asked.answered_at, asked.approved = utcnow(), True
    db.add(asked)
    return Redirect("/sharing?done=approved", status_code=303)


@post("/requests/{request_id:str}/decline")
async def decline(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], request_id: FromPath[str]) -> Response[Any]:
    asked, _link = await _open_request(db, current_viewer(request), request_id)
    asked.answered_at, asked.approved = utcnow(), False
    db.add(asked)
    return Redirect("/sharing?done=declined", status_code=303)


@post("/stop-all")
async def stop_all(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    viewer = current_viewer(request)
    await revoke(db, *[link.connection.id for link in await links(db, survivor_id=viewer.user_id)])
    return Redirect("/sharing?done=stopped", status_code=303)


# ----- Who has looked -------------------------------------------------------------------------


@get("/log", name="who_has_looked")
async def who_has_looked(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    number = page_number(request)
    person = request.query_params.get("person", "")[:64]
    query = select(AccessLog).where(AccessLog.survivor_id == viewer.user_id)
    if person:
        query = query.where(AccessLog.viewer_name == person)
    rows = (await db.exec(
        query.order_by(col(AccessLog.at).desc(), col(AccessLog.id).desc())
        .offset((number - 1) * LOG_PER_PAGE).limit(LOG_PER_PAGE + 1)
    )).all()
    people = (await db.exec(
        select(AccessLog.viewer_name, AccessLog.viewer_role).where(AccessLog.survivor_id == viewer.user_id).distinct()
    )).all()
    entries = list(rows[:LOG_PER_PAGE])
    return page(request, "sharing/log.html", title=_("Sharing"), entries=entries, has_next=len(rows) > LOG_PER_PAGE,
                page_number=number, person=person, people={name: person_label(name, role) for name, role in people},
                names=await policy.item_names(db, viewer, entries), phrases=part_phrases(), local=local,
                person_label=person_label)




# ----- one item shared with one person ---------------------------------------------------------


@dataclass(frozen=True)
class ItemCard:
    """A card in force for one item alone, as its owner sees it: who, and until when."""

    id: str
    person: str
    ends_at: datetime | None
    include_notes: bool = False


def _item_notice(request: Request[Any, Any, Any]) -> str:
    return {
        "shared": _("Shared. It takes effect at once, and you can stop it here at any time."),
        "not-shared": _("Not shared: an item marked “Only me” is never shared."),
        "stopped": _("Stopped. It takes effect at once."),
        "private": _("Saved."),
    }.get(request.query_params.get("done", ""), "")


async def item_sharing(request: Request[Any, Any, Any], db: AsyncSession, item: Any) -> dict[str, Any]:
    """What an item's page says and offers about sharing it: who can see it, the cards for it alone
    (each can be stopped), the connections it could be shared with, and what just happened."""
    part = policy.PARTS[type(item)].value
    link_list = await links(db, survivor_id=item.owner_id)
    cards = [ItemCard(card.id, link.person, card.ends_at, card.include_notes) for link in link_list for card in link.cards
             if card.part == part and card.item_id == item.id and not item.private]
    # Who can see it: the people with a card in force for its part or for it, unless it is Only me
    # (the same conditions as policy.visible, read from the cards already loaded).
    seen = [] if item.private else [link.person for link in link_list
                                    if any(card.part == part and card.item_id in (None, item.id) for card in link.cards)]
    return {"seen": seen, "item_cards": cards, "share_part": part, "untils": until_labels(),
            "share_links": {link.connection.id: link.person for link in link_list}, "local": local,
            "share_notes": part in noted_parts(),
            "share_notice": _item_notice(request)}


@post("/item")
async def share_item(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """Share one item with one connected person, until a chosen end."""
    viewer = current_viewer(request)
    form = await request.form()
    part, item_id = form_value(form, "part", 20), form_value(form, "item_id", 40)
    if part not in policy.MODELS:
        raise NotFoundException()
    item: Any = await policy.changeable(db, viewer, policy.MODELS[part], item_id)
    link = await own_link(db, viewer, form_value(form, "connection", 40))
    until = form_value(form, "until", 10)
    back = f"{ITEM_PAGES[part]}/{item.id}"
    if until not in UNTIL or item.private:
        return Redirect(f"{back}?done=not-shared", status_code=303)
    db.add(Grant(connection_id=link.connection.id, part=part, item_id=item.id, ends_at=ends_at_for(until),
                 include_notes=form_value(form, "notes", 1) == "1" and part in noted_parts()))
    return Redirect(f"{back}?done=shared", status_code=303)


@post("/cards/{card_id:str}/stop")
async def stop_card(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], card_id: FromPath[str]) -> Response[Any]:
    """Stop one card of the survivor's own, at once; back to the item it was for, or to Sharing."""
    viewer = current_viewer(request)
    for link in await links(db, survivor_id=viewer.user_id):
        for card in link.cards:
            if card.id == card_id:
                await db.exec(update(Grant).where(col(Grant.id) == card_id).values(revoked_at=utcnow()))  # type: ignore[call-overload]
                back = f"{ITEM_PAGES[card.part]}/{card.item_id}?done=stopped" if card.item_id else "/sharing?done=saved"
                return Redirect(back, status_code=303)
    raise NotFoundException()


ITEM_PAGES = {Part.GOALS.value: "/goals", Part.APPOINTMENTS.value: "/appointments", Part.DOCUMENTS.value: "/documents",
              Part.CHECKINS.value: "/check-ins"}


# ----- "who can see this", in the survivor's words ---------------------------------------------


async def seen_by_part(db: AsyncSession, owner_id: int) -> dict[str, list[str]]:
    """Who besides the survivor can see each whole part now."""
    found = await policy.seen_by_part(db, owner_id)
    return {part: [person_label(name, role) for name, role in people] for part, people in found.items()}


async def set_private(request: Request[Any, Any, Any], db: AsyncSession, model: type[Any], item_id: str,
                      list_href: str) -> Response[Any]:
    """Mark one of the survivor's own items "Only me" (or not): it then wins over every part shared."""
    item = await policy.changeable(db, current_viewer(request), model, item_id)
    item.private = form_value(await request.form(), "private", 1) == "1"
    if item.private:
        # Cards naming this item stop for good: removing "Only me" later must not quietly share it again.
        await revoke_item_cards(db, policy.PARTS[model].value, item.id)
    db.add(item)
    return Redirect(f"{list_href}/{item.id}?done=private", status_code=303)


router = Router(
    path="/sharing",
    guards=[survivor_only],
    route_handlers=[sharing, connect, confirm_connect, share_item, stop_card, save_sharing, end, approve, decline, stop_all,
                    who_has_looked],
)
