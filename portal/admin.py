"""The organisation admin's Staff accounts page, and the one-time links staff set a password with.

An admin sees their own organisation's staff accounts and counts only: never a survivor's name or data, never
another organisation's staff (asked by id, another organisation's account does not exist). A new staff account
has no password; the admin passes on a link that works once, for 72 hours. Deactivating an account
ends all its sessions at once.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.organisation import country
from portal.sign_in import start_session

from portal.users import create_user, find_user, normalise_username, username_problem
from portal.i18n import _
from portal.models import STAFF_ROLES, Connection, Organisation, PasswordSetup, Role, User, utcnow
from portal.passwords import MAX_LENGTH, password_problem
from portal import policy
from portal.shares import end_connection
from portal.sessions import hash_token
from portal.forms import form_value, text_errors
from portal.impact import suppressed
from portal.viewer import admin_only, current_viewer, home_for
from portal.web import page, services_of

LINK_LIFETIME = timedelta(hours=72)
DISPLAY_NAME_MAX = 80


async def new_setup_link(db: AsyncSession, request: Request[Any, Any, Any], user_id: int) -> str:
    """A fresh one-time link for `user_id`; earlier unused links for them stop working."""
    now = utcnow()
    await db.exec(
        update(PasswordSetup)
        .where(col(PasswordSetup.user_id) == user_id, col(PasswordSetup.used_at).is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.add(PasswordSetup(id=hash_token(token), user_id=user_id, created_at=now, expires_at=now + LINK_LIFETIME))
    return f"{str(request.base_url).rstrip('/')}/set-password/{token}"


async def _staff_page(
    request: Request[Any, Any, Any], db: AsyncSession, *, status_code: int = 200, **context: Any
) -> Template:
    mine = current_viewer(request).organisation_id
    ours = col(User.organisation_id) == mine
    counts = dict(
        (await db.exec(
            select(User.role, func.count()).where(col(User.active).is_(True), ours).group_by(User.role)
        )).all()
    )
    # Connections with this organisation's staff (how many people are on them decides whether the number may be
    # shown: fewer than 5 is said as that). Figures about the people themselves are on Impact, from those who said
    # yes to being counted.
    connections, people = (await db.exec(
        select(func.count(), func.count(func.distinct(Connection.survivor_id)))
        .join(User, col(User.id) == Connection.staff_id).where(col(Connection.ended_at).is_(None), ours)
    )).one()
    staff = (
        await db.exec(select(User).where(col(User.role).in_([r.value for r in STAFF_ROLES]), ours)
                      .order_by(User.username_key))
    ).all()
    context.setdefault("values", {"role": Role.CASEWORKER.value})
    context.setdefault("errors", {})
    return page(
        request, "admin/staff.html", title=_("Staff accounts"), status_code=status_code,
        counts=counts, connections=suppressed(connections, people),
        staff=staff, new_link=context.pop("new_link", None),
        country_chosen=bool(await country(db, mine)), organisation=current_viewer(request).organisation_name,
        organisation_values=context.pop("organisation_values",
                                        {"organisation_name": current_viewer(request).organisation_name}),
        named=request.query_params.get("done") == "named", **context,
    )


ORGANISATION_NAME_MAX = 120


@post("/admin/organisation-name", guards=[admin_only], name="name_organisation", status_code=200)
async def name_organisation(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """The name survivors see beside the admin's staff ("Amira Haddad · caseworker · Safe Harbor"): one no other
    organisation of the deployment has, so survivors can tell them apart."""
    viewer = current_viewer(request)
    name = " ".join(form_value(await request.form(), "organisation_name", ORGANISATION_NAME_MAX * 4).split())
    errors = text_errors({"organisation_name": name}, {"organisation_name": (
        ORGANISATION_NAME_MAX, _("Enter your organisation's name, as the people you help know it."))})
    organisation = await db.get(Organisation, viewer.organisation_id) if viewer.organisation_id else None
    if organisation is None:
        raise NotFoundException()
    if not errors and (await db.exec(select(Organisation.id).where(
            col(Organisation.name) == name, col(Organisation.id) != organisation.id))).first() is not None:
        errors["organisation_name"] = _("Another organisation here has that name. Add a word that tells yours apart.")
    if errors:
        return await _staff_page(request, db, status_code=400, errors=errors,
                                 organisation_values={"organisation_name": name})
    organisation.name = name
    db.add(organisation)
    return Redirect("/admin/staff?done=named#organisation", status_code=303)


@get("/admin/staff", guards=[admin_only], name="staff_accounts")
async def staff_accounts(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await _staff_page(request, db)


@post("/admin/staff", guards=[admin_only], name="add_staff", status_code=200)
async def add_staff(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    form = await request.form()
    username = normalise_username(form_value(form, "username", 200))
    role = form_value(form, "role", 20)
    display_name = " ".join(form_value(form, "display_name", DISPLAY_NAME_MAX * 4).split())
    values = {"username": username, "role": role, "display_name": display_name}
    errors: dict[str, str] = text_errors({"display_name": display_name}, {"display_name": (
        DISPLAY_NAME_MAX, _("Enter the name people will see, like “Amira Haddad”."))})
    if problem := username_problem(username):
        errors["username"] = problem
    elif await find_user(db, username):
        errors["username"] = _("That username is taken. Try another one.")
    if role not in [r.value for r in STAFF_ROLES]:
        errors["role"] = _("Choose caseworker or peer mentor.")
    if errors:
        return await _staff_page(request, db, status_code=400, values=values, errors=errors)
    try:
        user = await create_user(db, services_of(request).hasher, username, "", Role(role),
                                 organisation_id=current_viewer(request).organisation_id, display_name=display_name)
        link = await new_setup_link(db, request, user.id or 0)
        await db.commit()
    except IntegrityError:
        await db.rollback()
        errors["username"] = _("That username is taken. Try another one.")
        return await _staff_page(request, db, status_code=400, values=values, errors=errors)
    return await _staff_page(request, db, new_link={"name": user.display_name, "username": user.username, "url": link})


async def _staff_member(request: Request[Any, Any, Any], db: AsyncSession, user_id: int) -> User:
    """One of the admin's own organisation's staff; anyone else's account does not exist for them."""
    user = await db.get(User, user_id)
    if (user is None or user.role not in [r.value for r in STAFF_ROLES]
            or user.organisation_id is None or user.organisation_id != current_viewer(request).organisation_id):
        raise NotFoundException()
    return user


async def _set_active(request: Request[Any, Any, Any], db: AsyncSession, user_id: int, active: bool) -> Template:
    viewer, user = current_viewer(request), await _staff_member(request, db, user_id)
    user.active = active
    db.add(user)
    if not active:
        # Every connection ends with the account, and every share card with it: reactivating the account
        # later must not quietly give back what survivors shared.
        for link in await policy.connections(db, viewer, staff_id=user_id):
            await end_connection(db, link)
    await db.commit()
    if active:
        notice = _("{name} can sign in again.")
    else:
        await services_of(request).sessions.end_all(user_id)  # signed out everywhere, at once
        notice = _("{name} can no longer sign in. Their connections with people have ended.")
    return await _staff_page(request, db, notice=notice.format(name=user.display_name))


@post("/admin/staff/{user_id:int}/deactivate", guards=[admin_only], name="deactivate_staff", status_code=200)
async def deactivate(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                     user_id: FromPath[int]) -> Template:
    return await _set_active(request, db, user_id, active=False)


@post("/admin/staff/{user_id:int}/reactivate", guards=[admin_only], name="reactivate_staff", status_code=200)
async def reactivate(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                     user_id: FromPath[int]) -> Template:
    return await _set_active(request, db, user_id, active=True)


@post("/admin/staff/{user_id:int}/link", guards=[admin_only], name="new_staff_link", status_code=200)
async def new_link(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                   user_id: FromPath[int]) -> Template:
    user = await _staff_member(request, db, user_id)
    if user.password_hash:
        # An admin must never be able to take over a staff account that is in use (and so see what
        # survivors share with it). Deactivate it and add a new account instead.
        raise NotFoundException()
    link = await new_setup_link(db, request, user_id)
    await db.commit()
    return await _staff_page(request, db, new_link={"name": user.display_name, "username": user.username, "url": link})


# ----- set-password links ---------------------------------------------------------------------


async def _live_setup(db: AsyncSession, token: str) -> tuple[PasswordSetup, User] | None:
    if not token or len(token) > 100:
        return None
    setup = await db.get(PasswordSetup, hash_token(token))
    if setup is None or setup.used_at is not None:
        return None
    if setup.expires_at <= utcnow():
        return None
    user = await db.get(User, setup.user_id)
    if user is None or not user.active:
        return None
    return setup, user


def _dead_link(request: Request[Any, Any, Any]) -> Template:
    return page(
        request, "error.html", title="", status_code=404, heading=_("This link does not work"),
        body=_("It may have been used already, or it is more than 3 days old. "
               "Ask your organisation admin for a new one."),
    )


@get("/set-password/{token:str}", name="set_password_form")
async def set_password_form(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                            token: FromPath[str]) -> Template:
    found = await _live_setup(db, token)
    if found is None:
        return _dead_link(request)
    return page(request, "admin/set_password.html", title=_("Set your password"), username=found[1].username, error="")


@post("/set-password/{token:str}", name="set_password")
async def set_password(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                       token: FromPath[str]) -> Response[Any]:
    found = await _live_setup(db, token)
    if found is None:
        return _dead_link(request)
    setup, user = found
    password = form_value(await request.form(), "password", MAX_LENGTH + 1)
    if problem := password_problem(password, user.username):
        return page(
            request, "admin/set_password.html", title=_("Set your password"), status_code=400,
            username=user.username, error=problem,
        )
    services = services_of(request)
    # Claim the link first: of two submissions at once, only one changes anything.
    claimed = await db.exec(
        update(PasswordSetup)
        .where(col(PasswordSetup.id) == setup.id, col(PasswordSetup.used_at).is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        await db.rollback()
        return _dead_link(request)
    user.password_hash = await services.hasher.hash(password)
    db.add(user)
    await db.commit()
    await services.sessions.end_all(user.id or 0)
    return await start_session(request, user, home_for(user.role))


routes = [name_organisation, staff_accounts, add_staff, deactivate, reactivate, new_link, set_password_form,
          set_password]
