"""Who may see what: the only place that decides, for every read of a survivor's goals, appointments,
documents and check-ins.

The rule is written once, as a SQL condition (`visible`), and used two ways: to filter a list and
to fetch one item. The owner sees their own items. A caseworker or mentor sees an item only while a
share card allows it: the connection is live, the card is neither revoked nor past its end, and the
card names the item's part (or the item itself), and the item is not marked "Only me". Nothing about
permissions is kept past one request: every query asks the database again, so revoking takes effect on
the very next request. A hidden item answers 404, the same as a missing one. Every read by someone
other than the owner writes an access-log row in the same transaction as the read.

Only the owner ever changes an item (`changeable`), whatever is shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar

from litestar.exceptions import NotFoundException
from sqlalchemy import ColumnElement, and_, exists, false, func, or_
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.models import (
    STAFF_ROLES, AccessLog, Appointment, CheckIn, Connection, Document, Goal, Grant, Part, Role, User, utcnow,
)
from portal.web import Viewer

Item = TypeVar("Item", bound=SQLModel)
MAX_ID_LENGTH = 32
PARTS: dict[type[SQLModel], Part] = {
    Goal: Part.GOALS, Appointment: Part.APPOINTMENTS, Document: Part.DOCUMENTS, CheckIn: Part.CHECKINS,
}
MODELS: dict[str, type[SQLModel]] = {part.value: model for model, part in PARTS.items()}

# The decisions asked for during one request, when someone is listening (the test that proves every
# route that shows survivor data asked the policy sets a list here; otherwise nothing is kept).
consulted: ContextVar[list[str] | None] = ContextVar("policy_consulted", default=None)


def _noted(decision: str) -> None:
    calls = consulted.get()
    if calls is not None:
        calls.append(decision)


def live_grant(now: datetime) -> ColumnElement[bool]:
    """A share card in force at `now`, on a connection still in place."""
    return and_(
        col(Grant.revoked_at).is_(None),
        or_(col(Grant.ends_at).is_(None), col(Grant.ends_at) > now),
        col(Connection.ended_at).is_(None),
        col(Connection.id) == col(Grant.connection_id),
    )


def visible(viewer: Viewer, model: type[SQLModel], now: datetime | None = None) -> ColumnElement[bool]:
    """THE rule, as a condition on `model`'s rows: may `viewer` read this row now?"""
    _noted(f"read {model.__name__}")
    columns: Any = model
    if viewer.role == Role.SURVIVOR:
        return col(columns.owner_id) == viewer.user_id  # type: ignore[no-any-return]
    if viewer.role not in STAFF_ROLES:
        return false()
    card = (
        select(Grant.id)
        .where(
            live_grant(now or utcnow()),
            col(Connection.staff_id) == viewer.user_id,
            col(Connection.survivor_id) == columns.owner_id,
            col(Grant.part) == PARTS[model].value,
            or_(col(Grant.item_id).is_(None), col(Grant.item_id) == columns.id),
        )
        .correlate(model)
    )
    return and_(col(columns.private).is_(False), exists(card))


def _log(db: AsyncSession, viewer: Viewer, owner_id: int, part: Part, item_id: str | None, action: str) -> None:
    """A line in the owner's Who has looked, in the same transaction as the read it records."""
    if viewer.user_id != owner_id:
        db.add(AccessLog(survivor_id=owner_id, viewer_id=viewer.user_id, viewer_name=viewer.username,
                         viewer_role=viewer.role.value, part=part.value, item_id=item_id, action=action))


async def readable(db: AsyncSession, viewer: Viewer, model: type[Item], item_id: str, *, action: str = "item",
                   owner_id: int | None = None) -> Item:
    """The item if this viewer may see it now (and, given `owner_id`, it is that person's); otherwise 404.
    A look by anyone but the owner is logged."""
    if not item_id or len(item_id) > MAX_ID_LENGTH:
        raise NotFoundException()
    columns: Any = model
    mine = [col(columns.owner_id) == owner_id] if owner_id is not None else []
    item = (await db.exec(select(model).where(col(columns.id) == item_id, visible(viewer, model), *mine))).first()
    if item is None:
        raise NotFoundException()
    _log(db, viewer, item.owner_id, PARTS[model], item_id, action)  # type: ignore[attr-defined]
    return item


async def listed(
    db: AsyncSession, viewer: Viewer, model: type[Item], owner_id: int, *, where: Sequence[Any] = (),
    order_by: Sequence[Any] = (), page: int = 1, per_page: int = 20, log: bool = True,
) -> tuple[list[Item], bool]:
    """One page of `owner_id`'s items of one kind that this viewer may see, and whether there are more.
    A look by anyone but the owner is logged (`log=False` for a second query of the same look)."""
    columns: Any = model
    rows = (
        await db.exec(
            select(model)
            .where(col(columns.owner_id) == owner_id, visible(viewer, model), *where)
            .order_by(*order_by, col(columns.id))
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    ).all()
    if log:
        _log(db, viewer, owner_id, PARTS[model], None, "list")
    return list(rows[:per_page]), len(rows) > per_page


async def counted(db: AsyncSession, viewer: Viewer, model: type[SQLModel], owner_id: int, *where: Any) -> int:
    """How many of `owner_id`'s items of one kind this viewer may see (not logged: it shows no item)."""
    columns: Any = model
    query = select(func.count()).select_from(model).where(col(columns.owner_id) == owner_id, visible(viewer, model), *where)
    return int((await db.exec(query)).one())  # type: ignore[call-overload]


async def changeable(db: AsyncSession, viewer: Viewer, model: type[Item], item_id: str) -> Item:
    """The item if this viewer may change it (only its owner, ever); otherwise 404."""
    _noted(f"change {model.__name__}")
    item = await db.get(model, item_id) if item_id and len(item_id) <= MAX_ID_LENGTH else None
    if item is None or getattr(item, "owner_id", None) != viewer.user_id or viewer.role != Role.SURVIVOR:
        raise NotFoundException()
    return item


# ----- what the survivor is told about their own sharing --------------------------------------

TITLES: dict[type[SQLModel], Any] = {
    Goal: Goal.title, Appointment: Appointment.what, Document: Document.name, CheckIn: CheckIn.created_at,
}


async def item_names(db: AsyncSession, viewer: Viewer, entries: Sequence[AccessLog]) -> dict[tuple[str, str], Any]:
    """For lines of the viewer's own access log: the title of each item still there (a date for a check-in)."""
    wanted: dict[str, set[str]] = {}
    for entry in entries:
        if entry.item_id and entry.part in MODELS:
            wanted.setdefault(entry.part, set()).add(entry.item_id)
    names: dict[tuple[str, str], Any] = {}
    for part, ids in wanted.items():
        model: Any = MODELS[part]
        rows = (await db.exec(select(model.id, TITLES[model]).where(col(model.id).in_(ids), visible(viewer, model)))).all()
        names.update({(part, item_id): title for item_id, title in rows})
    return names


async def seen_by_part(db: AsyncSession, owner_id: int) -> dict[str, list[tuple[str, str]]]:
    """Who besides the owner can see each whole part now (items marked Only me excepted): part -> (name, role).
    The same conditions as `visible`, asked the other way round."""
    rows = (await db.exec(
        select(Grant.part, User.username, User.role)
        .join(Connection, col(Connection.id) == Grant.connection_id)
        .join(User, col(User.id) == Connection.staff_id)
        .where(col(Connection.survivor_id) == owner_id, live_grant(utcnow()), col(Grant.item_id).is_(None))
        .distinct()
        .order_by(col(User.username))
    )).all()
    found: dict[str, list[tuple[str, str]]] = {part.value: [] for part in Part}
    for part, name, role in rows:
        found[part].append((name, role))
    return found
