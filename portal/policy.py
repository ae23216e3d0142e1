"""Who may see what: the only place that decides, for every read of a survivor's parts (goals, appointments,
documents, check-ins and any other part in `portal.parts`), of their connections and of their messages.

The rule is written once, as a SQL condition (`visible`), and used two ways: to filter a list and
to fetch one item. The owner sees their own items. A caseworker or mentor sees an item only while a
share card allows it: the connection is live, the card is neither revoked nor past its end, and the
card names the item's part (or the item itself), and the item is not marked "Only me". Nothing about
permissions is kept past one request: every query asks the database again, so revoking takes effect on
the very next request. A hidden item answers 404, the same as a missing one. Every read by someone
other than the owner writes an access-log row in the same transaction as the read.

A part's free-text notes (a goal's "why it matters", an appointment's notes, a check-in's note) follow
a narrower rule (`notes_visible`): the owner reads them; anyone else only through a card in force that
also says Include my notes. Where they are held back, the item reaches the page with its notes set to
None (set as if read that way, so never written back), and the page says "Notes not shared".

Only the owner ever changes an item (`changeable`), whatever is shared.

Connections follow from the same idea (`connections`): a survivor sees their own live connections, a
caseworker or mentor theirs, and an admin a staff member's, only to end them; with each, the cards in force.
Which person can see a part or an item (`seen_by`) is the rule `visible` asked the other way round.

Messages follow a second, smaller rule (`thread`): a thread is a live connection between a survivor and
a peer mentor, and only those two people read or write it. A caseworker never sees one, and no share card
opens one to anybody else.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from litestar.exceptions import NotFoundException
from sqlalchemy import (ColumnElement, Date, DateTime, String, TypeDecorator, and_, case, delete, exists, false, func,
                        bindparam, literal, null, or_, union_all, update)
from sqlalchemy import cast as sa_cast
from sqlalchemy import BindParameter, type_coerce
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import reads
from portal.db import insert_at_commit
from portal.links import Card, Link
from portal.models import (
    STAFF_ROLES, AccessLog, AccessRequest, CheckIn, Connection, Departure, Document, DocumentChunk, Goal, GoalStatus,
    Feedback, Grant, JournalEntry, JournalFile, LifeAreas, Message, Organisation, Role, User, utcnow,
)
from portal.survivor_part import Summary, SurvivorPart
from portal.viewer import Viewer

Item = TypeVar("Item", bound=SQLModel)
MAX_ID_LENGTH = 32

# The decisions asked for during one request, when someone is listening (the test that proves every
# route that shows survivor data asked the policy sets a list here; otherwise nothing is kept).
consulted: ContextVar[list[str] | None] = ContextVar("policy_consulted", default=None)


def _noted(decision: str) -> None:
    calls = consulted.get()
    if calls is not None:
        calls.append(decision)


def live_grant(now: datetime | BindParameter[Any]) -> ColumnElement[bool]:
    """A share card in force at `now` (a moment, or a bound parameter for one), on a connection still in place."""
    return and_(
        col(Grant.revoked_at).is_(None),
        or_(col(Grant.ends_at).is_(None), col(Grant.ends_at) > now),
        col(Connection.ended_at).is_(None),
        col(Connection.id) == col(Grant.connection_id),
    )


def _card_in_force(viewer: Viewer, part: SurvivorPart[Any], now: datetime | BindParameter[Any] | None,
                   *also: ColumnElement[bool], owner: BindParameter[Any] | None = None) -> ColumnElement[bool]:
    """A card in force from the row's owner to this staff member, for the row's part or the row itself.

    With `owner` (a list of one person's rows, whose owner is a bound parameter), the same rule written so that
    SQLite looks the cards up once for the whole list, not once for every row: a card for the whole part, or the
    row among the items cards open. The rows are that owner's (the list says so), so the two say the same."""
    model, columns = part.model, cast(Any, part.model)
    cards = select(Grant.item_id if owner is not None else Grant.id).where(
        live_grant(utcnow() if now is None else now),
        col(Connection.staff_id) == viewer.user_id,
        col(Connection.survivor_id) == (owner if owner is not None else columns.owner_id),
        col(Grant.part) == part.key,
        *also,
    )
    if owner is not None:
        opened = or_(exists(cards.where(col(Grant.item_id).is_(None))),
                     col(columns.id).in_(cards.where(col(Grant.item_id).is_not(None))))
    else:
        opened = exists(cards.where(or_(col(Grant.item_id).is_(None), col(Grant.item_id) == columns.id))
                        .correlate(model))
    return and_(col(columns.private).is_(False), opened)


def _owner_or_card(viewer: Viewer, part: SurvivorPart[Any], now: datetime | BindParameter[Any] | None,
                   *also: ColumnElement[bool], owner: BindParameter[Any] | None = None) -> ColumnElement[bool]:
    """The owner's own rows; for staff, rows a card in force opens (with `also` asked of the card; `owner`: the
    rows are all that person's, see `_card_in_force`)."""
    columns = cast(Any, part.model)
    if viewer.role == Role.SURVIVOR:
        return col(columns.owner_id) == viewer.user_id
    if viewer.role not in STAFF_ROLES:
        return false()
    return _card_in_force(viewer, part, now, *also, owner=owner)


def visible(viewer: Viewer, part: SurvivorPart[Any], now: datetime | None = None) -> ColumnElement[bool]:
    """THE rule, as a condition on the part's rows: may `viewer` read this row now?"""
    _noted(f"read {part.model.__name__}")
    return _owner_or_card(viewer, part, now)


def notes_visible(viewer: Viewer, part: SurvivorPart[Any], now: datetime | None = None) -> ColumnElement[bool]:
    """The notes rule, as a condition on the part's rows: may `viewer` read this row's notes now? The owner
    may; anyone else only through a card in force that says Include my notes."""
    return _owner_or_card(viewer, part, now, col(Grant.include_notes).is_(True))


def _hold_notes(part: SurvivorPart[Any], item: Any) -> None:
    """Blank the row's notes (None: "not shared") as if they had been read that way: no change is recorded, so
    nothing is written back (taking each row out of the session instead cost more than the rest of a list)."""
    if part.notes is not None:
        set_committed_value(item, part.notes, None)


async def _with_notes(db: AsyncSession, viewer: Viewer, part: SurvivorPart[Item],
                      shape: Callable[[Any], Any]) -> list[Item]:
    """The rows of the part's table as `shape` narrows it, notes held back where the notes rule says no."""
    if viewer.role == Role.SURVIVOR or part.notes is None:
        return list((await db.exec(shape(select(part.model)))).all())
    query = shape(select(part.model, notes_visible(viewer, part).label("notes_shown")))
    return _held(part, (await db.exec(query)).all())


def _held(part: SurvivorPart[Item], rows: Sequence[Any]) -> list[Item]:
    """The items of (item, notes shown) rows, each one's notes held back where they may not be shown."""
    for item, shown in rows:
        if not shown:
            _hold_notes(part, item)
    return [item for item, _shown in rows]


def _log(db: AsyncSession, viewer: Viewer, owner_id: int, part: SurvivorPart[Any], item_id: str | None,
         action: str) -> None:
    """A line in the owner's Who has looked, in the same transaction as the read it records."""
    if viewer.user_id != owner_id:
        insert_at_commit(db, _ACCESS_LOG, {
            "survivor_id": owner_id, "viewer_id": viewer.user_id, "viewer_name": viewer.display_name,
            "viewer_role": viewer.role.value, "viewer_organisation": viewer.organisation_name, "part": part.key,
            "item_id": item_id, "action": action, "at": utcnow()})


_ACCESS_LOG = cast(Any, AccessLog).__table__


async def readable(db: AsyncSession, viewer: Viewer, part: SurvivorPart[Item], item_id: str, *, action: str = "item",
                   owner_id: int | None = None) -> Item:
    """The item if this viewer may see it now (and, given `owner_id`, it is that person's); otherwise 404.
    A look by anyone but the owner is logged."""
    if not item_id or len(item_id) > MAX_ID_LENGTH:
        raise NotFoundException()
    columns = cast(Any, part.model)
    mine = [col(columns.owner_id) == owner_id] if owner_id is not None else []
    found = await _with_notes(db, viewer, part,
                              lambda query: query.where(col(columns.id) == item_id, visible(viewer, part), *mine))
    if not found:
        raise NotFoundException()
    item = found[0]
    _log(db, viewer, cast(Any, item).owner_id, part, item_id, action)
    return item


class Listing(Generic[Item]):
    """One list of a part's rows, said once (a module's constant): its conditions and order, whose values are bound
    parameters given to `listed` or `shown` with `params`. Its statements (for the owner, for staff, for anyone
    else; as objects of the session or as plain rows) are built the first time each is asked for, with the viewer,
    the owner, the moment and the page as bound parameters, and reused by every request after."""

    def __init__(self, part: SurvivorPart[Item], *, where: Sequence[Any] = (), order_by: Sequence[Any] = ()) -> None:
        self.part, self.where, self.order_by = part, tuple(where), tuple(order_by)
        self._built: dict[tuple[str, str], Any] = {}

    def statement(self, role: Role, *, rows: bool = False, count: bool = False) -> Any:
        """The statement for a viewer of this role: the part's objects, or (`rows`) plain rows, one page of them;
        or (`count`) how many there are in all."""
        side = "owner" if role == Role.SURVIVOR else "staff" if role in STAFF_ROLES else "other"
        shape = "count" if count else "rows" if rows else "objects"
        found = self._built.get((side, shape))
        if found is None:
            part, columns = self.part, cast(Any, self.part.model)
            anyone = cast(Viewer, _RowOwner(bindparam("viewer_id"), role))
            now: BindParameter[Any] = bindparam("now")
            owner: BindParameter[Any] = bindparam("list_owner")
            notes_shown = _owner_or_card(anyone, part, now, col(Grant.include_notes).is_(True), owner=owner)
            query: Any
            if count:
                query = select(func.count()).select_from(part.model)
            elif rows:
                # Plain rows, a column each; the notes column empty (None) where the notes rule says no.
                query = select(*[case((notes_shown, column), else_=null()).label(column.key)
                                 if side != "owner" and column.key == part.notes else column
                                 for column in columns.__table__.columns])
            elif side == "owner" or part.notes is None:
                query = select(part.model)
            else:
                query = select(part.model, notes_shown.label("notes_shown"))
            query = query.where(col(columns.owner_id) == owner, _owner_or_card(anyone, part, now, owner=owner),
                                *self.where)
            if not count:
                query = (query.order_by(*self.order_by, col(columns.id))
                         .offset(bindparam("list_offset")).limit(bindparam("list_limit")))
            found = self._built[(side, shape)] = query
        return found


def _list_values(viewer: Viewer, owner_id: int, params: dict[str, Any] | None, page: int,
                 per_page: int) -> dict[str, Any]:
    return {"viewer_id": viewer.user_id, "now": utcnow(), "list_owner": owner_id,
            "list_offset": (page - 1) * per_page, "list_limit": per_page + 1, **(params or {})}


async def listed(
    db: AsyncSession, viewer: Viewer, listing: Listing[Item], owner_id: int, *, params: dict[str, Any] | None = None,
    page: int = 1, per_page: int = 20, log: bool = True,
) -> tuple[list[Item], bool]:
    """One page of `owner_id`'s items of one part that this viewer may see, and whether there are more, as objects
    of the session (for a page that may change one): the listing's statement, built once. A look by anyone but the
    owner is logged (`log=False` for a second query of the same look). Notes are held back where the notes rule
    says no."""
    part = listing.part
    _noted(f"read {part.model.__name__}")
    found = (await db.exec(listing.statement(viewer.role),
                           params=_list_values(viewer, owner_id, params, page, per_page))).all()
    rows = list(found) if viewer.role == Role.SURVIVOR or part.notes is None else _held(part, found)
    if log:
        _log(db, viewer, owner_id, part, None, "list")
    return rows[:per_page], len(rows) > per_page


async def shown(
    db: AsyncSession, viewer: Viewer, listing: Listing[Any], owner_id: int, *, params: dict[str, Any] | None = None,
    page: int = 1, per_page: int = 20, log: bool = True,
) -> tuple[list[Any], bool]:
    """As `listed`, for a page that only shows them: plain rows (an attribute per column, read as the part's items
    are), with no object made or kept in the session; notes held back in the statement itself."""
    _noted(f"read {listing.part.model.__name__}")
    rows = await reads.rows(db, listing.statement(viewer.role, rows=True),
                            _list_values(viewer, owner_id, params, page, per_page))
    if log:
        _log(db, viewer, owner_id, listing.part, None, "list")
    return rows[:per_page], len(rows) > per_page


_TOGETHER: dict[tuple[Summary, ...], Any] = {}  # a tuple of summaries -> its statement, built once


def _together(summaries: tuple[Summary, ...]) -> Any:
    """The statement of these summaries, for any survivor (their id a bound parameter): built the first time."""
    found = _TOGETHER.get(summaries)
    if found is None:
        anyone = cast(Viewer, _RowOwner(bindparam("viewer_id"), Role.SURVIVOR))
        branches = []
        for summary in summaries:
            columns = cast(Any, summary.part.model)
            where = (col(columns.owner_id) == anyone.user_id, _owner_or_card(anyone, summary.part, None),
                     *summary.where)
            total = (select(func.count()).select_from(summary.part.model).where(*where).scalar_subquery()
                     if summary.counted else None)
            branches.append(select(*summary.select_columns(total)).where(*where)
                            .order_by(*summary.order_by, col(columns.id)).limit(summary.limit).subquery().select())
        found = _TOGETHER[summaries] = union_all(*branches)
    return found


async def own_together(db: AsyncSession, viewer: Viewer, summaries: tuple[Summary, ...]) -> dict[str, list[Any]]:
    """A few of the viewer's own rows of several parts, in one statement built once (Home): kind -> rows, each
    with the names its summary gives. Only a survivor's own, under THE rule like every read; the owner reads their
    notes, so none are held back, and nothing is logged. `summaries`: a tuple made once (a module's constant)."""
    if viewer.role != Role.SURVIVOR or not summaries:
        return {}
    for summary in summaries:
        _noted(f"read {summary.part.model.__name__}")
    params = {"viewer_id": viewer.user_id}
    for summary in summaries:
        params.update(summary.params(viewer))
    rows = await reads.rows(db, _together(summaries), params)
    found: dict[str, list[Any]] = {summary.kind: [] for summary in summaries}
    by_kind = {summary.kind: summary for summary in summaries}
    for row in rows:
        found[row.kind].append(by_kind[row.kind].read(row))
    return found


async def counted(db: AsyncSession, viewer: Viewer, listing: Listing[Any], owner_id: int, *,
                  params: dict[str, Any] | None = None) -> int:
    """How many of `owner_id`'s items in the listing this viewer may see (not logged: it shows no item)."""
    _noted(f"read {listing.part.model.__name__}")
    found = await reads.rows(db, listing.statement(viewer.role, count=True),
                             _list_values(viewer, owner_id, params, 1, 0))
    return int(found[0][0])


async def changeable(db: AsyncSession, viewer: Viewer, part: SurvivorPart[Item], item_id: str) -> Item:
    """The item if this viewer may change it (only its owner, ever); otherwise 404."""
    _noted(f"change {part.model.__name__}")
    item = await db.get(part.model, item_id) if item_id and len(item_id) <= MAX_ID_LENGTH else None
    if item is None or getattr(item, "owner_id", None) != viewer.user_id or viewer.role != Role.SURVIVOR:
        raise NotFoundException()
    return item


# ----- what the survivor is told about their own sharing --------------------------------------


def _title_kind(kind: Any) -> int:
    """Which slot a title of this column type goes in: 0 words, 1 a moment, 2 a day."""
    kind = kind.impl_instance if isinstance(kind, TypeDecorator) else kind
    return 1 if isinstance(kind, DateTime) else 2 if isinstance(kind, Date) else 0


async def item_names(db: AsyncSession, viewer: Viewer, entries: Sequence[AccessLog],
                     parts: Sequence[SurvivorPart[Any]]) -> dict[tuple[str, str], Any]:
    """For lines of the viewer's own access log: the title of each item still there (a date for a check-in)."""
    by_key = {part.key: part for part in parts}
    wanted: dict[str, set[str]] = {}
    for entry in entries:
        if entry.item_id and entry.part in by_key:
            wanted.setdefault(entry.part, set()).add(entry.item_id)
    if not wanted:
        return {}
    # One statement for every part: each part's titles in the slot of their kind (words, a moment, a day), typed as
    # their column is, so every title reads back as the value it is.
    titles = {key: getattr(cast(Any, by_key[key].model), by_key[key].title) for key in wanted}
    kinds = {key: _title_kind(title.type) for key, title in titles.items()}
    slots: list[Any] = [String(), String(), String()]
    for key, kind in kinds.items():
        slots[kind] = titles[key].type
    branches: list[Any] = []
    for key, ids in wanted.items():
        part, columns = by_key[key], cast(Any, by_key[key].model)
        branches.append(select(literal(key, String()).label("part"), col(columns.id).label("id"),
                               *[titles[key] if n == kinds[key] else type_coerce(sa_cast(null(), slot), slot)
                                 for n, slot in enumerate(slots)])
                        .where(col(columns.id).in_(ids), visible(viewer, part)))
    rows = (await (await db.connection()).execute(union_all(*branches))).all()
    return {(key, item_id): next((title for title in found if title is not None), None)
            for key, item_id, *found in rows}


# A staff member as survivors know them: display name, role, organisation's name ("" while it has none).
STAFF_NAMED = (User.display_name, User.role, func.coalesce(Organisation.name, ""))


def _with_organisation(query: Any) -> Any:
    return query.outerjoin(Organisation, col(Organisation.id) == User.organisation_id)


def _seen() -> Any:
    """Staff with a card in force from the owner (bound parameter "owner_id") at "now": (card's part, card's item,
    name, role, organisation)."""
    return _with_organisation(
        select(Grant.part, Grant.item_id, User.display_name, User.role, func.coalesce(Organisation.name, ""))  # type: ignore[call-overload]  # five columns: more than sqlmodel types
        .join(Connection, col(Connection.id) == Grant.connection_id)
        .join(User, col(User.id) == Connection.staff_id)
        .where(col(Connection.survivor_id) == bindparam("owner_id"), live_grant(bindparam("now")))
    ).order_by(col(User.display_name), col(User.id))


# Who can see each whole part: on Home and on every list, so built once.
_SEEN_BY_PART = _seen().where(col(Grant.item_id).is_(None))


async def seen_by_part(db: AsyncSession, owner_id: int) -> dict[str, list[tuple[str, str, str]]]:
    """Who besides the owner can see each whole part now (items marked Only me excepted): part key ->
    (name, role, organisation), a part nobody sees missing. The same conditions as `visible`, asked the other way
    round."""
    rows = await reads.rows(db, _SEEN_BY_PART, {"owner_id": owner_id, "now": utcnow()})
    found: dict[str, list[tuple[str, str, str]]] = {}
    for part, _item, *person in rows:
        if tuple(person) not in found.setdefault(part, []):
            found[part].append(tuple(person))
    return found


async def seen_by_item(db: AsyncSession, part: SurvivorPart[Any], item: Any) -> list[tuple[str, str, str]]:
    """Who besides the owner can see this one item now: a card for its whole part or for it alone, unless it
    is marked Only me (then nobody). `visible` asked the other way round."""
    if item.private:
        return []
    rows = (await db.exec(_seen().where(
        col(Grant.part) == part.key, or_(col(Grant.item_id).is_(None), col(Grant.item_id) == item.id),
    ), params={"owner_id": item.owner_id, "now": utcnow()})).all()
    found: list[tuple[str, str, str]] = []
    for _part, _item, *person in rows:
        if tuple(person) not in found:
            found.append(tuple(person))
    return found


# ----- connections: whose they are, and what is shared on them -----------------------------------


def _card(grant: Grant) -> Card:
    return Card(grant.id, grant.part, grant.item_id, grant.created_at, grant.ends_at, grant.include_notes)


_CONNECTIONS: dict[tuple[str, bool, bool, bool, bool, bool], Any] = {}  # by side, staff, connection, paging, rows, part
_CARD_COLUMNS = [column.label(f"card_{column.key}") for column in cast(Any, Grant).__table__.columns]


def _connections_statement(side: str, by_staff: bool, by_connection: bool, paged: bool, rows: bool = False,
                           by_part: bool = False) -> Any:
    """The statement behind `connections`, built the first time each shape is asked for: the viewer ("viewer_id"),
    their organisation, the staff member, the connection, the moment, the part and the page are bound parameters.
    `rows`: plain columns (the connection's, the staff member's names, each card's as `card_…`), not session objects.
    `by_part`: only connections with a card in force on the part, and only those cards."""
    key = (side, by_staff, by_connection, paged, rows, by_part)
    found = _CONNECTIONS.get(key)
    if found is not None:
        return found
    viewer: BindParameter[Any] = bindparam("viewer_id")
    if side == "admin":
        # Only the admin's own organisation's staff.
        mine = and_(col(User.role).in_([role.value for role in STAFF_ROLES]),
                    col(User.organisation_id) == bindparam("organisation_id"))
    else:
        mine = _own_side(cast(Viewer, _RowOwner(viewer, Role.SURVIVOR if side == "survivor" else Role.CASEWORKER)))
    chosen: list[Any] = [*(cast(Any, Connection).__table__.columns if rows else [Connection]), *STAFF_NAMED]
    query = _with_organisation(
        cast(Any, select)(*chosen)
        .join(User, col(User.id) == Connection.staff_id)
        .where(mine, col(Connection.ended_at).is_(None))
    )
    if by_staff:
        query = query.where(col(Connection.staff_id) == bindparam("staff_id"))
    if by_connection:
        query = query.where(col(Connection.id) == bindparam("connection_id"))
    if paged:
        query = (query.order_by(col(Connection.created_at).desc(), col(Connection.id))
                 .offset(bindparam("offset")).limit(bindparam("limit")))
    else:
        # Every connection with its cards in force, in one statement (a connection with none: one row, no card).
        on_card = and_(col(Grant.connection_id) == Connection.id, live_grant(bindparam("now")),
                       *([col(Grant.part) == bindparam("part")] if by_part else []))
        query = (query.add_columns(*(_CARD_COLUMNS if rows else [Grant]))
                 .join(Grant, on_card, isouter=not by_part)
                 .order_by(col(Connection.created_at), col(Connection.id), col(Grant.part)))
    found = _CONNECTIONS[key] = query
    return found


_LIVE_CARDS = (select(Grant).join(Connection, col(Connection.id) == Grant.connection_id)
               .where(col(Grant.connection_id).in_(bindparam("ids", expanding=True)), live_grant(bindparam("now")))
               .order_by(col(Grant.part)))


async def connections(db: AsyncSession, viewer: Viewer, *, staff_id: int | None = None,
                      connection_id: str | None = None, page: int = 0, per_page: int = 20,
                      shown: bool = False, part: str | None = None) -> list[Link]:
    """The viewer's own live connections, each with its cards in force now: a survivor's, a caseworker's or
    mentor's own; an admin's only those of the staff member `staff_id` (to end them when the account stops).
    `staff_id` also narrows a survivor's to one person, `connection_id` to one connection. With `page`, one
    page of them, newest first, and one more when there is a next page. `shown` (without `page`): for a page
    that only shows them, each link's connection is a plain row of its columns, not an object of the session
    (which nothing may then change); with `part` too, only connections with a card in force on that part, each with
    only those cards."""
    _noted("connections")
    if viewer.role == Role.SURVIVOR:
        side = "survivor"
    elif viewer.role in STAFF_ROLES:
        side = "staff"
    elif viewer.role == Role.ADMIN and staff_id is not None:
        side = "admin"
    else:
        return []
    params: dict[str, Any] = {"viewer_id": viewer.user_id, "organisation_id": viewer.organisation_id,
                              "staff_id": staff_id, "now": utcnow(),
                              "connection_id": (connection_id or "")[:MAX_ID_LENGTH],
                              "offset": (page - 1) * per_page, "limit": per_page + 1, "part": part}
    if shown and not page:
        return _shown_links(await reads.rows(
            db, _connections_statement(side, staff_id is not None, connection_id is not None, False, rows=True,
                                       by_part=part is not None),
            params))
    statement = _connections_statement(side, staff_id is not None, connection_id is not None, bool(page))
    if not page:
        rows = (await db.exec(statement, params=params)).all()
        links: dict[str, tuple[Connection, str, str, str]] = {}
        cards: dict[str, list[Card]] = {}
        for connection, name, role, organisation, grant in rows:
            links.setdefault(connection.id, (connection, name, role, organisation))
            found = cards.setdefault(connection.id, [])
            if grant is not None:
                found.append(_card(grant))
        return [Link(connection, name, role, cards[key], organisation)
                for key, (connection, name, role, organisation) in links.items()]
    rows = (await db.exec(statement, params=params)).all()
    ids = [connection.id for connection, *_person in rows]
    cards = {cid: [] for cid in ids}
    if ids:
        for grant in (await db.exec(_LIVE_CARDS, params={"ids": ids, "now": params["now"]})).all():
            cards[grant.connection_id].append(_card(grant))
    return [Link(connection, name, role, cards[connection.id], organisation)
            for connection, name, role, organisation in rows]


_CONNECTION_KEYS: tuple[str, ...] = tuple(column.key for column in cast(Any, Connection).__table__.columns)
# A connection's columns, as a page that only shows it reads them.
_ConnectionShown = namedtuple("_ConnectionShown", _CONNECTION_KEYS)  # type: ignore[misc]


def _shown_links(rows: Sequence[Any]) -> list[Link]:
    """Links from the plain rows of a connections statement: one a connection, its cards gathered."""
    links: dict[str, Link] = {}
    for row in rows:
        link = links.get(row.id)
        if link is None:
            connection = _ConnectionShown._make(getattr(row, key) for key in _CONNECTION_KEYS)
            link = links[row.id] = Link(cast(Connection, connection), row.display_name, row.role, [], row.coalesce_1)
        if row.card_id is not None:
            link.cards.append(Card(row.card_id, row.card_part, row.card_item_id, row.card_created_at, row.card_ends_at,
                                   row.card_include_notes))
    return list(links.values())


async def own_connection(db: AsyncSession, viewer: Viewer, connection_id: str, *, shown: bool = False,
                         part: str | None = None) -> Link:
    """One live connection of the viewer's own (either side); 404 for anyone else's or an ended one. `shown` and
    `part`: as `connections` says (with `part`, 404 too when no card in force on it opens that part)."""
    found = (await connections(db, viewer, connection_id=connection_id, shown=shown, part=part)
             if viewer.role != Role.ADMIN else [])
    if not found:
        raise NotFoundException()
    return found[0]


async def connected_organisations(db: AsyncSession, viewer: Viewer) -> list[int]:
    """The organisations whose staff a survivor has a live connection with, the earliest connected first (their
    help lines are the survivor's); nothing for anyone else."""
    _noted("connections")
    if viewer.role != Role.SURVIVOR:
        return []
    rows = (await db.exec(
        select(User.organisation_id, func.min(Connection.created_at)).join(User, col(User.id) == Connection.staff_id)
        .where(_own_side(viewer), col(Connection.ended_at).is_(None), col(User.organisation_id).is_not(None))
        .group_by(col(User.organisation_id)).order_by(func.min(Connection.created_at))
    )).all()
    return [organisation_id for organisation_id, _first in rows if organisation_id is not None]


async def stopped_together(db: AsyncSession, viewer: Viewer, at: datetime) -> list[Grant]:
    """The survivor's cards stopped at the one moment `at` (Stop all sharing), on connections of theirs still
    live: what Undo gives back. Nobody else's, and nothing for a staff member or an admin."""
    _noted("stopped cards")
    if viewer.role != Role.SURVIVOR:
        return []
    own = select(Connection.id).where(_own_side(viewer), col(Connection.ended_at).is_(None))
    return list((await db.exec(
        select(Grant).where(col(Grant.connection_id).in_(own), col(Grant.revoked_at) == at)
    )).all())


async def shared_with_me(db: AsyncSession, viewer: Viewer, connection_id: str, part: SurvivorPart[Any]) -> Link:
    """A staff member's own live connection when a card in force on it opens `part` (whole, or some items), with
    those cards; 404 otherwise, like a page that does not exist. Which items may be read is still `visible`, per
    query."""
    if viewer.role not in STAFF_ROLES:
        raise NotFoundException()
    return await own_connection(db, viewer, connection_id, shown=True, part=part.key)


async def access_requests(db: AsyncSession, viewer: Viewer, connection_ids: Sequence[str], *where: Any,
                          newest_first: bool = False, limit: int | None = None) -> list[AccessRequest]:
    """Requests for access on these connections, those of them that are the viewer's own and live (either
    side reads them: the survivor answers, the staff member asked); `where` narrows them further."""
    _noted("requests")
    own = select(Connection.id).where(_own_side(viewer), col(Connection.ended_at).is_(None))
    created = col(AccessRequest.created_at)
    query = (select(AccessRequest)
             .where(col(AccessRequest.connection_id).in_(connection_ids), col(AccessRequest.connection_id).in_(own),
                    *where)
             .order_by(created.desc() if newest_first else created, col(AccessRequest.id)))
    return list((await db.exec(query.limit(limit) if limit else query)).all())


def _own_side(viewer: Viewer) -> ColumnElement[bool]:
    """Connections the viewer is one side of: a survivor's own, or a caseworker's or mentor's own."""
    if viewer.role == Role.SURVIVOR:
        return col(Connection.survivor_id) == viewer.user_id
    if viewer.role in STAFF_ROLES:
        return col(Connection.staff_id) == viewer.user_id
    return false()


# ----- what changed for a caseworker or mentor since their last visit ----------------------------


async def sharing_changes(db: AsyncSession, viewer: Viewer, since: datetime, until: datetime) -> tuple[
        list[tuple[Grant, Connection]], list[tuple[AccessRequest, Connection]]]:
    """For a caseworker's or mentor's Home: the share cards on their own live connections that began or ended
    after `since` and by `until` (ended: stopped by the survivor, or past the end they chose), with the cards on
    those connections already in force at `since` (so a card that continues one is not taken for a new share),
    oldest first; and their requests the survivor answered in that time. Each with its connection, which holds
    the name the staff member sees. Nothing for anyone else. Only cards and answers: never an item's words."""
    _noted("connections")
    if viewer.role not in STAFF_ROLES:
        return [], []
    own = and_(_own_side(viewer), col(Connection.ended_at).is_(None))
    cards_on_own = select(Grant, Connection).join(Connection, col(Connection.id) == Grant.connection_id).where(own)

    def between(moment: Any) -> ColumnElement[bool]:
        return and_(col(moment) > since, col(moment) <= until)

    moved = (await db.exec(
        cards_on_own.where(or_(between(Grant.created_at), between(Grant.revoked_at), between(Grant.ends_at)))
    )).all()
    found = {card.id: (card, connection) for card, connection in moved}
    if found:
        in_force_then = (await db.exec(cards_on_own.where(
            col(Grant.connection_id).in_({card.connection_id for card, _connection in moved}),
            col(Grant.created_at) <= since, or_(col(Grant.revoked_at).is_(None), col(Grant.revoked_at) > since),
            or_(col(Grant.ends_at).is_(None), col(Grant.ends_at) > since),
        ))).all()
        found.update((card.id, (card, connection)) for card, connection in in_force_then)
    answers = (await db.exec(
        select(AccessRequest, Connection).join(Connection, col(Connection.id) == AccessRequest.connection_id)
        .where(own, between(AccessRequest.answered_at), col(AccessRequest.approved).is_not(None))
        .order_by(col(AccessRequest.answered_at), col(AccessRequest.id))
    )).all()
    cards = sorted(found.values(), key=lambda row: (row[0].created_at, row[0].id))
    return cards, [(asked, connection) for asked, connection in answers]


# ----- Who has looked: the survivor's own access log ----------------------------------------------


def _own_log(viewer: Viewer) -> ColumnElement[bool]:
    """Lines of the access log the viewer reads: their own, as the survivor looked at; nobody else's."""
    if viewer.role != Role.SURVIVOR:
        return false()
    return col(AccessLog.survivor_id) == viewer.user_id


async def access_log(db: AsyncSession, viewer: Viewer, *, person: str = "", page: int = 1,
                     per_page: int = 30) -> tuple[list[AccessLog], bool]:
    """One page of the viewer's own Who has looked, newest first (only one person's looks, given `person`),
    and whether there is a next page."""
    _noted("access log")
    query = select(AccessLog).where(_own_log(viewer))
    if person:
        query = query.where(col(AccessLog.viewer_name) == person)
    rows = (await db.exec(query.order_by(col(AccessLog.at).desc(), col(AccessLog.id).desc())
                          .offset((page - 1) * per_page).limit(per_page + 1))).all()
    return list(rows[:per_page]), len(rows) > per_page


async def access_log_people(db: AsyncSession, viewer: Viewer) -> list[tuple[str, str, str]]:
    """Everyone in the viewer's own Who has looked: (name, role, organisation)."""
    _noted("access log")
    query = select(AccessLog.viewer_name, AccessLog.viewer_role, AccessLog.viewer_organisation).where(
        _own_log(viewer)).distinct()
    rows = (await db.exec(query)).all()
    return [(name, role, organisation) for name, role, organisation in rows]


# ----- the thread rule: messages between a survivor and a peer mentor ----------------------------


def _threads_of(viewer: Viewer, *, ended_too: bool = False) -> ColumnElement[bool]:
    """Connections that are a live thread of this viewer: survivor and peer mentor, the viewer one of them
    (`ended_too`: also threads whose connection has ended, for the survivor's own export)."""
    if viewer.role == Role.SURVIVOR:
        mine = col(Connection.survivor_id) == viewer.user_id
    elif viewer.role == Role.MENTOR:
        mine = col(Connection.staff_id) == viewer.user_id
    else:
        return false()
    mentor = select(User.id).where(col(User.id) == Connection.staff_id, col(User.role) == Role.MENTOR.value)
    live = col(Connection.id).is_not(None) if ended_too else col(Connection.ended_at).is_(None)
    return and_(mine, live, exists(mentor.correlate(Connection)))


def _shown(viewer: Viewer) -> ColumnElement[bool]:
    """Messages of a thread this viewer reads: all of them, except that a survivor does not see what a
    paused mentor sent until they resume."""
    if viewer.role == Role.SURVIVOR:
        return col(Message.held).is_(False)
    return col(Message.id).is_not(None)


async def thread(db: AsyncSession, viewer: Viewer, connection_id: str) -> Connection:
    """The connection if it is a live thread of this viewer; otherwise 404, like a page that does not exist."""
    _noted("thread")
    if not connection_id or len(connection_id) > MAX_ID_LENGTH:
        raise NotFoundException()
    found = (await db.exec(select(Connection).where(col(Connection.id) == connection_id, _threads_of(viewer)))).first()
    if found is None:
        raise NotFoundException()
    return found


async def threads(db: AsyncSession, viewer: Viewer, *,
                  ended_too: bool = False) -> list[tuple[Connection, tuple[str, str, str]]]:
    """The viewer's threads, each with the mentor as survivors know them (name, role, organisation); the name the
    survivor chose to be seen by is on the connection."""
    _noted("thread")
    rows = (await db.exec(_with_organisation(
        select(Connection, *STAFF_NAMED).join(User, col(User.id) == Connection.staff_id)
        .where(_threads_of(viewer, ended_too=ended_too)).order_by(col(Connection.created_at))
    ))).all()
    return [(connection, (name, role, organisation)) for connection, name, role, organisation in rows]


async def messages(db: AsyncSession, viewer: Viewer, connection: Connection, *, before: int | None = None,
                   limit: int = 30) -> tuple[list[Message], bool]:
    """The newest `limit` messages of a thread `thread()` returned (older than `before`, when given), oldest
    first, and whether there are earlier ones."""
    query = select(Message).where(col(Message.connection_id) == connection.id, _shown(viewer))
    if before is not None:
        query = query.where(col(Message.id) < before)
    rows = list((await db.exec(query.order_by(col(Message.id).desc()).limit(limit + 1))).all())
    return rows[:limit][::-1], len(rows) > limit


async def newest_message(db: AsyncSession, viewer: Viewer, connection: Connection) -> int:
    """The id of the newest message this viewer can see in the thread (0 for none): what a page last showed."""
    query = select(func.max(Message.id)).where(col(Message.connection_id) == connection.id, _shown(viewer))
    return int((await db.exec(query)).one() or 0)


def _unread(viewer: Viewer) -> ColumnElement[bool]:
    return and_(col(Message.sender_id) != viewer.user_id, col(Message.read_at).is_(None), _shown(viewer))


@dataclass(frozen=True)
class _RowOwner:
    """Someone known only as a column of the row being read: the viewer's own account row, read before there is a
    Viewer. The rules below take one in place of a Viewer, so the menu's counts follow the same rules, correlated
    to that row."""

    user_id: Any
    role: Role


def _unread_count(someone: Any) -> Any:
    return (select(func.count()).select_from(Message).join(Connection, col(Connection.id) == Message.connection_id)
            .where(_threads_of(someone), _unread(someone)).scalar_subquery())


def _waiting_count(someone: Any) -> Any:
    """Requests waiting for an answer on the live connections of `someone` (joined, so each connection is found
    through the survivor's own index, never by reading the table)."""
    return (select(func.count()).select_from(AccessRequest)
            .join(Connection, col(Connection.id) == AccessRequest.connection_id)
            .where(_own_side(someone), col(Connection.ended_at).is_(None), col(AccessRequest.answered_at).is_(None))
            .scalar_subquery())


def menu_counts(me: Any) -> tuple[Any, Any]:
    """The menu's two counts as columns of a query on the viewer's own account row `me` (an alias of app_user):
    unread messages from the other person (survivors and peer mentors) and requests waiting for an answer
    (survivors); 0 for anyone else. The same rules as `unread_counts`."""
    survivor, mentor = _RowOwner(me.id, Role.SURVIVOR), _RowOwner(me.id, Role.MENTOR)
    unread = case((me.role == Role.SURVIVOR.value, _unread_count(survivor)),
                  (me.role == Role.MENTOR.value, _unread_count(mentor)), else_=0)
    waiting = case((me.role == Role.SURVIVOR.value, _waiting_count(survivor)), else_=0)
    return unread.label("unread"), waiting.label("waiting")


async def unread_counts(db: AsyncSession, viewer: Viewer) -> dict[str, int]:
    """Unread messages from the other person, per thread of this viewer."""
    rows = (await db.exec(
        select(Message.connection_id, func.count()).join(Connection, col(Connection.id) == Message.connection_id)
        .where(_threads_of(viewer), _unread(viewer)).group_by(col(Message.connection_id))
    )).all()
    return {connection_id: int(count) for connection_id, count in rows}


async def last_messages(db: AsyncSession, viewer: Viewer, connection_ids: Sequence[str]) -> dict[str, Message]:
    """The newest message this viewer can see in each of these threads (ids from `threads()`)."""
    newest = (
        select(func.max(Message.id)).where(col(Message.connection_id).in_(connection_ids), _shown(viewer))
        .group_by(col(Message.connection_id))
    )
    rows = (await db.exec(select(Message).where(col(Message.id).in_(newest.scalar_subquery())))).all()
    return {row.connection_id: row for row in rows}


async def mark_read(db: AsyncSession, viewer: Viewer, connection: Connection) -> None:
    """The other person's messages in this thread have now been shown to the viewer."""
    await db.exec(update(Message).where(
        col(Message.connection_id) == connection.id, _unread(viewer)).values(read_at=utcnow()))


async def sent_since(db: AsyncSession, viewer: Viewer, since: datetime) -> int:
    """How many messages this viewer has written since `since` (for the daily limit)."""
    query = select(func.count()).select_from(Message).where(col(Message.sender_id) == viewer.user_id,
                                                            col(Message.created_at) > since)
    return int((await db.exec(query)).one())


async def release_held(db: AsyncSession, viewer: Viewer, connection: Connection) -> int:
    """The survivor resumed their mentor: what waited is shown now. The newest such message's id (0: none)."""
    if viewer.role != Role.SURVIVOR or connection.survivor_id != viewer.user_id:
        return 0
    held = and_(col(Message.connection_id) == connection.id, col(Message.held).is_(True))
    newest = int((await db.exec(select(func.max(Message.id)).where(held))).one() or 0)
    await db.exec(update(Message).where(held).values(held=False))
    return newest


# ----- feedback: a survivor's own answers, and an organisation's without names ---------------------

# An organisation reads its feedback only once this many people have answered: with fewer, an answer could be
# matched to the one person it came from.
FEEDBACK_FROM = 5


async def own_feedback(db: AsyncSession, viewer: Viewer,
                       organisation_id: int | None = None) -> list[tuple[str, Feedback]]:
    """The survivor's own answers, each with the name of the organisation it is for (only the one organisation
    `organisation_id` when given): for their pages about the people they are connected with, and their export.
    Nothing for anyone but a survivor."""
    _noted("feedback")
    if viewer.role != Role.SURVIVOR:
        return []
    query = (select(Organisation.name, Feedback).join(Organisation, col(Organisation.id) == Feedback.organisation_id)
             .where(col(Feedback.survivor_id) == viewer.user_id).order_by(col(Organisation.name), col(Feedback.id)))
    if organisation_id is not None:
        query = query.where(col(Feedback.organisation_id) == organisation_id)
    return [(name, answer) for name, answer in (await db.exec(query)).all()]


async def organisation_feedback(db: AsyncSession, viewer: Viewer) -> list[tuple[str, int, str]] | None:
    """The answers to an admin's own organisation, as (month, rating, words): never who wrote them nor when within
    the month, in an order that says neither (newest month first, then by rating and words). None, saying nothing
    of how many, while fewer than FEEDBACK_FROM people have answered, and for anyone but an admin of an
    organisation. One read, so the count and the answers shown are of the same moment."""
    _noted("feedback")
    if viewer.role != Role.ADMIN or viewer.organisation_id is None:
        return None
    rows = (await db.exec(
        select(Feedback.survivor_id, Feedback.month, Feedback.rating, Feedback.words)
        .where(col(Feedback.organisation_id) == viewer.organisation_id)
        .order_by(col(Feedback.month).desc(), col(Feedback.rating), col(Feedback.words))
    )).all()
    if len({survivor for survivor, *_answer in rows}) < FEEDBACK_FROM:
        return None
    return [(month, rating, words) for _survivor, month, rating, words in rows]


# ----- everything a survivor owns, for their own export -----------------------------------------


async def own_rows(db: AsyncSession, viewer: Viewer, part: SurvivorPart[Item], batch: int = 200) -> AsyncIterator[Item]:
    """Every item of one part that the viewer owns, a batch at a time (memory stays flat however many).
    Only a survivor owns items; for anyone else this yields nothing."""
    _noted(f"read {part.model.__name__}")
    if viewer.role != Role.SURVIVOR:
        return
    model, columns = part.model, cast(Any, part.model)
    last = ""
    while True:
        rows = (await db.exec(
            select(model).where(col(columns.owner_id) == viewer.user_id, col(columns.id) > last)
            .order_by(col(columns.id)).limit(batch)
        )).all()
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        last = rows[-1].id  # type: ignore[attr-defined]


async def sharing_history(db: AsyncSession, viewer: Viewer) -> AsyncIterator[
        tuple[Connection, tuple[str, str, str], list[Grant], list[AccessRequest]]]:
    """Every connection the survivor ever had, ended ones too, with every card and request on it: for their
    own export. (The staff member as (name, role, organisation).) Nothing for anyone but a survivor."""
    _noted("connections")
    if viewer.role != Role.SURVIVOR:
        return
    rows = (await db.exec(_with_organisation(
        select(Connection, *STAFF_NAMED).join(User, col(User.id) == Connection.staff_id)
        .where(col(Connection.survivor_id) == viewer.user_id).order_by(col(Connection.created_at))
    ))).all()
    for connection, name, role, organisation in rows:
        cards = (await db.exec(select(Grant).where(col(Grant.connection_id) == connection.id))).all()
        asks = (await db.exec(select(AccessRequest).where(col(AccessRequest.connection_id) == connection.id))).all()
        yield connection, (name, role, organisation), list(cards), list(asks)


async def own_access_log(db: AsyncSession, viewer: Viewer, batch: int = 500) -> AsyncIterator[AccessLog]:
    """Every line of the viewer's own Who has looked, oldest first, a batch at a time: for their own export."""
    _noted("access log")
    last = 0
    while True:
        rows = (await db.exec(select(AccessLog).where(_own_log(viewer), col(AccessLog.id) > last)
                              .order_by(col(AccessLog.id)).limit(batch))).all()
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        last = rows[-1].id or 0


async def thread_history(db: AsyncSession, viewer: Viewer, connection: Connection,
                         batch: int = 200) -> AsyncIterator[Message]:
    """Every message of one of the viewer's threads that they can see, oldest first, a batch at a time."""
    last = 0
    while True:
        rows = (await db.exec(
            select(Message).where(col(Message.connection_id) == connection.id, _shown(viewer), col(Message.id) > last)
            .order_by(col(Message.id)).limit(batch)
        )).all()
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        last = rows[-1].id or 0


async def forget_survivor(db: AsyncSession, viewer: Viewer) -> None:
    """Delete the survivor and everything about them (the caller commits, so it all goes or nothing does).
    Rows that refer to the person go with their account (foreign keys, ON DELETE CASCADE); document chunks (of
    documents and of journal files), which are found by storage key, go first. Each staff member they were
    connected with keeps a Departure."""
    if viewer.role != Role.SURVIVOR:
        raise NotFoundException()
    _noted("change everything")
    keys = select(Document.storage_key).where(col(Document.owner_id) == viewer.user_id)
    await db.exec(delete(DocumentChunk).where(col(DocumentChunk.storage_key).in_(keys)))
    journal_keys = select(JournalFile.storage_key).join(JournalEntry, col(JournalEntry.id) == JournalFile.entry_id) \
        .where(col(JournalEntry.owner_id) == viewer.user_id)
    await db.exec(delete(DocumentChunk).where(col(DocumentChunk.storage_key).in_(journal_keys)))
    staff = (await db.exec(select(Connection.staff_id).where(
        col(Connection.survivor_id) == viewer.user_id, col(Connection.ended_at).is_(None)).distinct())).all()
    today = utcnow().date()
    for staff_id in staff:
        db.add(Departure(staff_id=staff_id, left_on=today))
    await db.exec(delete(User).where(col(User.id) == viewer.user_id))


# ----- aggregates for Impact: counts per group, never rows ----------------------------------------
# An organisation admin's Impact page (portal.impact) reads these and nothing else. Each answers numbers per
# group (a quarter, an area) with how many distinct people they come from; no survivor's row, id or words ever
# reaches Python. Who is counted is decided once (`_counted`): survivors who said yes to anonymous totals and
# have a live connection to a staff member of the admin's own organisation, asked again at every request, so a
# person who says no or ends their connections is gone from the next page.

Period = Sequence[tuple[datetime, datetime]]  # each quarter as [start, end), oldest first


def _counted(viewer: Viewer) -> Any:
    """The ids of the people an admin's figures may be drawn from (a subquery, never read on its own)."""
    if viewer.role != Role.ADMIN or viewer.organisation_id is None:
        raise NotFoundException()
    _noted("count for impact")
    return (
        select(Connection.survivor_id)
        .join(User, col(User.id) == Connection.staff_id)
        .where(col(User.organisation_id) == viewer.organisation_id, col(Connection.ended_at).is_(None),
               col(Connection.survivor_id).in_(
                   select(User.id).where(col(User.role) == Role.SURVIVOR.value, col(User.count_me_in).is_(True))))
    )


def _quarter_of(column: Any, period: Period) -> Any:
    """Which quarter of `period` a moment falls in (its position), in SQL that SQLite and PostgreSQL both run."""
    return case(*[(and_(column >= start, column < end), index) for index, (start, end) in enumerate(period)],
                else_=None)


async def impact_people(db: AsyncSession, viewer: Viewer) -> int:
    """How many people are counted for the admin's organisation now."""
    return int((await db.exec(select(func.count(func.distinct(_counted(viewer).subquery().c.survivor_id))))).one())


async def impact_goals(db: AsyncSession, viewer: Viewer, period: Period, *, achieved: bool,
                       by_area: bool) -> list[tuple[int, str | None, int, int]]:
    """Goals set (or achieved) in each quarter: (quarter, area or None for all areas, goals, people). Goals marked
    "Only me" are left out."""
    moment = col(Goal.achieved_at) if achieved else col(Goal.created_at)
    quarter = _quarter_of(moment, period).label("quarter")
    area = col(Goal.area) if by_area else literal(None).label("area")
    query = (
        select(quarter, area, func.count(col(Goal.id)), func.count(func.distinct(col(Goal.owner_id))))
        .where(col(Goal.owner_id).in_(_counted(viewer)), col(Goal.private).is_(False),
               moment >= period[0][0], moment < period[-1][1])
        .group_by(quarter, *([col(Goal.area)] if by_area else []))
    )
    if achieved:
        query = query.where(col(Goal.status) == GoalStatus.ACHIEVED.value)
    return [(int(q), a, int(n), int(people)) for q, a, n, people in (await db.exec(query)).all() if q is not None]


async def impact_checkins(db: AsyncSession, viewer: Viewer,
                          period: Period) -> list[tuple[int, int, int, float]]:
    """Check-ins in each quarter: (quarter, check-ins, people, average feeling 1-5). "Only me" ones are left out."""
    quarter = _quarter_of(col(CheckIn.created_at), period).label("quarter")
    query = (
        select(quarter, func.count(col(CheckIn.id)), func.count(func.distinct(col(CheckIn.owner_id))),
               func.avg(col(CheckIn.feeling)))
        .where(col(CheckIn.owner_id).in_(_counted(viewer)), col(CheckIn.private).is_(False),
               col(CheckIn.created_at) >= period[0][0], col(CheckIn.created_at) < period[-1][1])
        .group_by(quarter)
    )
    return [(int(q), int(n), int(people), float(feeling)) for q, n, people, feeling in (await db.exec(query)).all()
            if q is not None]


async def impact_life_areas(db: AsyncSession, viewer: Viewer, period: Period,
                            areas: Sequence[str]) -> dict[str, tuple[float, float, int]]:
    """For each life area, among the people who rated it at least twice in the period: the average of each one's
    first rating and of their latest, and how many people that is. "Only me" ratings are left out."""
    found: dict[str, tuple[float, float, int]] = {}
    counted = _counted(viewer)
    for area in areas:
        rated = getattr(LifeAreas, area)
        ends = (
            select(col(LifeAreas.owner_id).label("owner_id"), func.min(col(LifeAreas.created_at)).label("first_at"),
                   func.max(col(LifeAreas.created_at)).label("latest_at"))
            .where(col(LifeAreas.owner_id).in_(counted), col(LifeAreas.private).is_(False), rated.is_not(None),
                   col(LifeAreas.created_at) >= period[0][0], col(LifeAreas.created_at) < period[-1][1])
            .group_by(col(LifeAreas.owner_id)).having(func.count() >= 2)
        ).subquery()
        first, latest = aliased(LifeAreas), aliased(LifeAreas)
        row = (await db.exec(
            select(func.avg(getattr(first, area)), func.avg(getattr(latest, area)),
                   func.count(func.distinct(ends.c.owner_id)))
            .select_from(ends)
            .join(first, and_(col(first.owner_id) == ends.c.owner_id, col(first.created_at) == ends.c.first_at,
                              getattr(first, area).is_not(None), col(first.private).is_(False)))
            .join(latest, and_(col(latest.owner_id) == ends.c.owner_id, col(latest.created_at) == ends.c.latest_at,
                               getattr(latest, area).is_not(None), col(latest.private).is_(False)))
        )).one()
        people = int(row[2] or 0)
        found[area] = (float(row[0] or 0), float(row[1] or 0), people)
    return found
