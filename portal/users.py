"""People who sign in: the rules for a username, finding one, and making an account."""

from __future__ import annotations

import unicodedata

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.i18n import _
from portal.models import Organisation, Role, User
from portal.passwords import Hasher


USERNAME_MIN = 3


USERNAME_MAX = 32


_USERNAME_PUNCTUATION = set("._-")


def normalise_username(raw: str) -> str:
    """The username as kept and shown: NFC, no surrounding spaces."""
    return unicodedata.normalize("NFC", raw.strip())


def username_key(raw: str) -> str:
    """The form two usernames are compared in: compatibility-normalised and case-folded, so
    'Maria' (with a full-width M), 'maria' and 'MARIA' are one account."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw.strip()).casefold())


def username_problem(username: str) -> str | None:
    if not username:
        return _("Enter a username.")
    if len(username) < USERNAME_MIN:
        return _("Use at least 3 characters.")
    if len(username) > USERNAME_MAX:
        return _("Use 32 characters or fewer.")
    for char in username:
        category = unicodedata.category(char)
        if not (category[0] in "LN" or category[0] == "M" or char in _USERNAME_PUNCTUATION):
            return _("Use letters, numbers, dots, dashes or underscores. No spaces.")
    if unicodedata.category(username[0])[0] not in "LN":
        return _("Start with a letter or a number.")
    if len(username_key(username)) > 64:
        return _("Use 32 characters or fewer.")
    return None


async def find_user(db: AsyncSession, raw_username: str) -> User | None:
    # A name that could never have been made matches nobody (and keeps NUL and the like out of SQL).
    if username_problem(normalise_username(raw_username)):
        return None
    key = username_key(raw_username)
    return (await db.exec(select(User).where(User.username_key == key))).first()


async def create_user(db: AsyncSession, hasher: Hasher, username: str, password: str, role: Role, *,
                      organisation_id: int | None = None, display_name: str = "") -> User:
    """Add a user (the caller has checked the username and password). Flushes to learn the id.

    An empty password leaves the account without one until its set-password link is used. Staff and admins
    belong to `organisation_id`, and are known to survivors by `display_name`.
    """
    user = User(
        username=username,
        username_key=username_key(username),
        role=role.value,
        password_hash=await hasher.hash(password) if password else "",
        organisation_id=organisation_id,
        display_name=display_name,
    )
    db.add(user)
    await db.flush()
    return user


async def known_as(db: AsyncSession, user_id: int) -> tuple[str, str, str] | None:
    """A staff member as survivors know them: (display name, role, organisation's name or "")."""
    found = (await db.exec(
        select(User.display_name, User.role, func.coalesce(Organisation.name, "")).where(col(User.id) == user_id)
        .outerjoin(Organisation, col(Organisation.id) == User.organisation_id)
    )).first()
    return (found[0], found[1], found[2]) if found else None
