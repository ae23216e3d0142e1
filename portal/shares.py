"""Sharing, as the survivor's own items and pages use it: the Until choices, writing and stopping share
cards, "Only me", and what an item's page says about who can see it. Connections and cards are read through
`portal.policy`; only the survivor's own actions write them. The Sharing page itself is portal.sharing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from litestar import Request, Response
from litestar.response import Redirect
from sqlalchemy import delete, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.links import Link, person_label
from portal.survivor_part import SurvivorPart
from portal import policy
from portal.db import forget_on_disk
from portal.i18n import _
from portal.models import Connection, Grant, utcnow
from portal.timezones import local
from portal.forms import form_value
from portal.viewer import current_viewer, Viewer
from portal.web import deleted


UNTIL = {"week": timedelta(days=7), "month": timedelta(days=30), "3months": timedelta(days=91), "stop": None}


KEEP = "keep"  # the Until choice of a part already shared: its end stays as it is


def until_labels() -> dict[str, str]:
    return {"week": _("1 week"), "month": _("1 month"), "3months": _("3 months"), "stop": _("Until I stop")}


def ends_at_for(until: str) -> datetime | None:
    """When a card chosen "until" (a key of UNTIL) ends, from now; None: until the survivor stops it."""
    span = UNTIL[until]
    return utcnow() + span if span is not None else None


async def hold_connection(db: AsyncSession, viewer: Viewer, connection_id: str) -> None:
    """Take the connection's row lock for this transaction, so two saves of its sharing at once run one
    after the other and the second reads what the first wrote (PostgreSQL row lock; SQLite has one writer)."""
    await db.exec(update(Connection).where(
        col(Connection.id) == connection_id[:32], col(Connection.survivor_id) == viewer.user_id)
        .values(survivor_label=Connection.survivor_label))


async def revoke(db: AsyncSession, *connection_ids: str, parts: Sequence[str] | None = None,
                 at: datetime | None = None) -> None:
    """Stop the cards in force on these connections at once: all of them, or only the whole-part cards of `parts`.
    `at` stamps them all with one moment, so that they can be found together again (Undo of Stop all sharing)."""
    if not connection_ids:
        return
    query = update(Grant).where(col(Grant.connection_id).in_(connection_ids), col(Grant.revoked_at).is_(None))
    if parts is not None:
        query = query.where(col(Grant.item_id).is_(None), col(Grant.part).in_(parts))
    await db.exec(query.values(revoked_at=at or utcnow()))


async def revoke_item_cards(db: AsyncSession, part: str, item_id: str) -> None:
    """An item deleted: the cards that named it stop with it."""
    await db.exec(update(Grant).where(
        col(Grant.part) == part, col(Grant.item_id) == item_id,
        col(Grant.revoked_at).is_(None)).values(revoked_at=utcnow()))


async def end_connection(db: AsyncSession, link: Link) -> None:
    await revoke(db, link.connection.id)
    link.connection.ended_at = utcnow()
    db.add(link.connection)


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


async def item_sharing(request: Request[Any, Any, Any], db: AsyncSession, part: SurvivorPart[Any],
                       item: Any) -> dict[str, Any]:
    """What an item's page says and offers about sharing it: who can see it, the cards for it alone
    (each can be stopped), the connections it could be shared with, and what just happened."""
    link_list = await policy.connections(db, current_viewer(request))
    cards = [ItemCard(card.id, link.person, card.ends_at, card.include_notes)
             for link in link_list for card in link.cards
             if card.part == part.key and card.item_id == item.id and not item.private]
    seen = [person_label(*person) for person in await policy.seen_by_item(db, part, item)]
    return {"seen": seen, "item_cards": cards, "share_part": part.key, "untils": until_labels(),
            "share_links": {link.connection.id: link.person for link in link_list}, "local": local,
            "share_notes": part.notes is not None, "share_notice": _item_notice(request)}


async def seen_by_part(db: AsyncSession, owner_id: int) -> dict[str, list[str]]:
    """Who besides the survivor can see each whole part now, in their words ("Ana (caseworker)"), by part key;
    a part nobody else sees is missing."""
    found = await policy.seen_by_part(db, owner_id)
    return {key: [person_label(*person) for person in people] for key, people in found.items()}


async def seen_by(db: AsyncSession, owner_id: int, part: SurvivorPart[Any]) -> list[str]:
    """Who besides the survivor can see this whole part now, in their words."""
    return (await seen_by_part(db, owner_id)).get(part.key, [])


async def remove_item(request: Request[Any, Any, Any], db: AsyncSession, part: SurvivorPart[Any], item_id: str,
                      message: str, before: Callable[[Any], Awaitable[None]] | None = None) -> Response[Any]:
    """Delete one of the survivor's own items for good: what it holds first (`before`: a goal's steps, a
    document's file), then its row, by the id policy.changeable returned; the cards that named it stop with it,
    the freed pages are wiped on disk, and the person goes back to the list (or the card says it is gone)."""
    item: Any = await policy.changeable(db, current_viewer(request), part, item_id)
    if before is not None:
        await before(item)
    await db.exec(delete(part.model).where(col(part.model.id) == item.id))
    forget_on_disk(db)
    await revoke_item_cards(db, part.key, item.id)
    return deleted(request, part.path, message)


async def set_private(request: Request[Any, Any, Any], db: AsyncSession, part: SurvivorPart[Any],
                      item_id: str) -> Response[Any]:
    """Mark one of the survivor's own items "Only me" (or not): it then wins over every part shared."""
    item: Any = await policy.changeable(db, current_viewer(request), part, item_id)
    item.private = form_value(await request.form(), "private", 1) == "1"
    if item.private:
        # Cards naming this item stop for good: removing "Only me" later must not quietly share it again.
        await revoke_item_cards(db, part.key, item.id)
    db.add(item)
    return Redirect(f"{part.path}/{item.id}?done=private", status_code=303)
