"""Who may see what: every read of a survivor's items goes through here.

Today only the owner may. The sharing issue extends `may_read` (share cards, expiry, revocation)
in this one place; handlers never check ownership themselves. A hidden item answers 404, the same
as one that does not exist, so ids reveal nothing.
"""

from __future__ import annotations

from typing import TypeVar

from litestar.exceptions import NotFoundException
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.web import Viewer

Item = TypeVar("Item", bound=SQLModel)
MAX_ID_LENGTH = 32


def may_read(viewer: Viewer, owner_id: int) -> bool:
    return viewer.user_id == owner_id


def may_change(viewer: Viewer, owner_id: int) -> bool:
    """Only the owner ever changes their own items, whatever is shared."""
    return viewer.user_id == owner_id


async def readable(db: AsyncSession, viewer: Viewer, model: type[Item], item_id: str) -> Item:
    """The item if this viewer may see it; otherwise 404."""
    item = await _find(db, model, item_id)
    if item is None or not may_read(viewer, item.owner_id):  # type: ignore[attr-defined]
        raise NotFoundException()
    return item


async def changeable(db: AsyncSession, viewer: Viewer, model: type[Item], item_id: str) -> Item:
    """The item if this viewer may change it; otherwise 404."""
    item = await _find(db, model, item_id)
    if item is None or not may_change(viewer, item.owner_id):  # type: ignore[attr-defined]
        raise NotFoundException()
    return item


async def _find(db: AsyncSession, model: type[Item], item_id: str) -> Item | None:
    if not item_id or len(item_id) > MAX_ID_LENGTH:
        return None
    return await db.get(model, item_id)
