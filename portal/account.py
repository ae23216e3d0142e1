"""The account's own life: recovery codes and "Forgot password", changing the password, and the list of
signed-in browsers with sign out for each and everywhere.

There is no e-mail reset (an abuser may read the e-mail) and no staff reset of a survivor's password:
10 single-use recovery codes, shown once at sign-up and regenerable in Settings (which voids the old
ones), are the way back in. Only a keyed hash of each code is stored. Wrong codes are throttled per
account and per address, and a wrong username gets the same answer as a wrong code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.settings_page import section_page
from portal import policy, push
from portal.sign_in import device_cookie, session_cookie, sign_in_subjects, signed_in_here
from portal.users import find_user, normalise_username
from portal.recovery_codes import code_digest, codes_page, new_codes, normalise_code, use_code
from portal.db import forget_on_disk
from portal.i18n import _
from portal.passkeys import CONFIRM_NEXT, passkeys_of
from portal.models import Passkey, PasskeyChallenge, PushSubscription, User
from portal.passwords import MAX_LENGTH, password_problem
from portal.sessions import hash_token
from portal.forms import form_value
from portal.viewer import current_viewer, home_for, signed_in, survivor_only, Viewer
from portal.web import page, services_of

log = logging.getLogger("portal")















# ----- forgot password ------------------------------------------------------------------------------


def _forgot_page(request: Request[Any, Any, Any], values: dict[str, str], errors: dict[str, str],
                 status: int = 200) -> Template:
    return page(request, "accounts/forgot.html", title=_("Forgot password"), values=values, errors=errors,
                status_code=status)


@get("/forgot-password", name="forgot_password")
async def forgot_form(request: Request[Any, Any, Any]) -> Template:
    return _forgot_page(request, {}, {})


@post("/forgot-password")
async def forgot(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """Username + one recovery code + a new password: every other session ends, every passkey and device for
    reminders is removed, and this browser is signed in."""
    services = services_of(request)
    form = await request.form()
    username = normalise_username(form_value(form, "username", 200))
    code = form_value(form, "code", 40)
    password = form_value(form, "password", MAX_LENGTH + 1)
    values = {"username": username, "code": code}
    errors: dict[str, str] = {}
    if not username or not normalise_code(code):
        errors["code"] = _("Enter your username and one of your recovery codes.")
    if problem := password_problem(password, username):
        errors["password"] = problem
    if errors:
        return _forgot_page(request, values, errors, 400)
    # Counted as password tries are: a browser that signed in to this account before only against itself,
    # so a stranger's wrong codes never keep the owner from their own recovery.
    subjects = sign_in_subjects(request, username)
    if wait := await services.throttle.seconds_to_wait(**subjects):
        return _forgot_page(request, values,
                            {"code": _("Too many tries. Please wait {seconds} seconds, then try again.").format(
            seconds=wait)}, 429)
    user = await find_user(db, username)
    secret = services.config.secret_key
    usable = user is not None and user.active
    if not usable or user is None or not await use_code(db, user.id or 0, code, secret):
        code_digest(secret, code)  # the same work whether or not the account exists
        await services.throttle.failed(**subjects)
        return _forgot_page(request, values,
                            {"code": _("That username and recovery code do not match. Check both and try again.")}, 400)
    user.password_hash = await services.hasher.hash(password)
    db.add(user)
    removed = await remove_ways_in(db, user.id or 0, secret)
    await db.commit()
    await services.sessions.end_all(user.id or 0)  # whoever else was signed in is signed out
    await signed_in_here(request, subjects)
    cookie = await session_cookie(request, user)
    if cookie.value is None:  # session_cookie always carries the new session's token
        raise RuntimeError("a session cookie without its token")
    await services.sessions.confirm(hash_token(cookie.value))  # a code just proved it: add a passkey again at once
    log.info("password reset with a recovery code for user %s: other sessions ended, passkeys and devices removed",
             user.id)
    response = _password_changed_page(request, home_for(user.role), removed, cookie)
    response.cookies.append(device_cookie(request, user.username))
    return response


# ----- a new password takes every other way in away --------------------------------------------------


@dataclass(frozen=True)
class WaysIn:
    """What a new password took away (passkeys by name, devices by label) and the recovery codes it gave."""

    passkeys: list[str]
    devices: list[str]
    codes: list[str]


async def remove_ways_in(db: AsyncSession, user_id: int, secret: str) -> WaysIn:
    """Remove every passkey and every device for reminders of `user_id`, and replace their recovery codes
    (someone who held the phone, or knew the old password, may have added them or made codes of their own)."""
    passkeys = [passkey.name for passkey in await passkeys_of(db, user_id)]
    devices = [device.device or _("Unknown device") for device in await push.devices(db, user_id)]
    for table in (Passkey, PasskeyChallenge, PushSubscription):
        await db.exec(delete(table).where(col(table.user_id) == user_id))
    return WaysIn(passkeys, devices, await new_codes(db, user_id, secret))


def _password_changed_page(request: Request[Any, Any, Any], home: str, removed: WaysIn, cookie: Any) -> Template:
    """The page after a new password: what was removed, by name, and the new recovery codes (shown once;
    nothing about it is kept)."""
    response = page(request, "accounts/password_changed.html", title=_("Password changed"), home=home,
                    removed_passkeys=removed.passkeys, removed_devices=removed.devices, codes=removed.codes)
    response.cookies.append(cookie)
    return response


# ----- in Settings: codes, password, sessions ------------------------------------------------------




async def password_refusal(request: Request[Any, Any, Any], db: AsyncSession, viewer: Viewer, password: str,
                           wrong: str) -> str:
    """"" when `password` is the viewer's current one; otherwise what to say: `wrong`, or, after too many
    wrong ones, how long to wait (the password is then not even checked). Wrong ones count against this
    session only: a stranger's guesses at the sign-in page never block it, and the owner's typos here never
    slow the account down elsewhere."""
    services = services_of(request)
    subjects = {"session_password": viewer.session_id[:64]}  # the store's hash of the session id
    if wait := await services.throttle.seconds_to_wait(**subjects):
        return _("Too many tries. Please wait {seconds} seconds, then try again.").format(seconds=wait)
    user = await db.get(User, viewer.user_id)
    if await services.hasher.verify(user.password_hash if user and user.password_hash else None, password):
        return ""
    await services.throttle.failed(**subjects)
    return wrong


@post("/settings/recovery-codes", guards=[signed_in], name="new_recovery_codes")
async def regenerate(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    viewer = current_viewer(request)
    form = await request.form()
    if refusal := await password_refusal(request, db, viewer, form_value(form, "password", MAX_LENGTH + 1),
                                         _("That password is not right. Your old codes still work.")):
        return await section_page(request, db, "security", status_code=400, account_errors={"codes_password": refusal})
    codes = await new_codes(db, viewer.user_id, services_of(request).config.secret_key)
    return codes_page(request, codes, first=False)


@post("/settings/password", guards=[signed_in], name="change_password")
async def change_password(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """A new password; every other browser is signed out, every passkey and device for reminders is removed,
    and this browser stays signed in (with a new session id)."""
    viewer = current_viewer(request)
    form = await request.form()
    new = form_value(form, "new_password", MAX_LENGTH + 1)
    errors: dict[str, str] = {}
    if problem := password_problem(new, viewer.username):
        errors["new_password"] = problem
    if refusal := await password_refusal(request, db, viewer, form_value(form, "current_password", MAX_LENGTH + 1),
                                         _("That is not your current password.")):
        errors["current_password"] = refusal
    if errors:
        return await section_page(request, db, "security", status_code=400, account_errors=errors)
    services = services_of(request)
    user = await db.get(User, viewer.user_id)
    if user is None:
        raise NotFoundException()
    user.password_hash = await services.hasher.hash(new)
    db.add(user)
    removed = await remove_ways_in(db, viewer.user_id, services.config.secret_key)
    await db.commit()
    await services.sessions.end_all(viewer.user_id)
    cookie = await session_cookie(request, user)
    if cookie.value is None:  # session_cookie always carries the new session's token
        raise RuntimeError("a session cookie without its token")
    await services.sessions.confirm(hash_token(cookie.value))  # the password was just typed
    log.info("password changed for user %s: other sessions ended, passkeys and devices removed", viewer.user_id)
    return _password_changed_page(request, home_for(user.role), removed, cookie)


# ----- "Confirm it's you": the password (or a passkey) again, before adding a way in ----------------------

async def _confirm_page(request: Request[Any, Any, Any], db: AsyncSession, kind: str, error: str = "",
                        status: int = 200) -> Template:
    viewer = current_viewer(request)
    return page(request, "accounts/confirm.html", title=_("Confirm it's you"), kind=kind, error=error,
                has_passkeys=bool(await passkeys_of(db, viewer.user_id)), status_code=status)


def _kind(raw: str) -> str:
    return raw if raw in CONFIRM_NEXT else "passkey"


@get("/settings/confirm", guards=[signed_in], name="confirm_form")
async def confirm_form(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await _confirm_page(request, db, _kind(request.query_params.get("next", "")))


@post("/settings/confirm", guards=[signed_in], name="confirm")
async def confirm(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """The password again: for 5 minutes this browser may add a passkey or a device for reminders.
    Wrong passwords are limited as everywhere the password is asked for again (`password_refusal`)."""
    viewer = current_viewer(request)
    form = await request.form()
    kind = _kind(form_value(form, "next", 16))
    if refusal := await password_refusal(request, db, viewer, form_value(form, "password", MAX_LENGTH + 1),
                                         _("That password is not right. Nothing was added.")):
        return await _confirm_page(request, db, kind, refusal, 400)
    await services_of(request).sessions.confirm(viewer.session_id)
    return Redirect(CONFIRM_NEXT[kind], status_code=303)


@post("/settings/sessions/{session_ref:str}/end", guards=[signed_in], name="end_session")
async def end_session(request: Request[Any, Any, Any], session_ref: FromPath[str]) -> Response[Any]:
    """Sign out one browser (this one too, if chosen)."""
    viewer = current_viewer(request)
    sessions = services_of(request).sessions
    record = next((record for record in await sessions.store.list_for_user(viewer.user_id)
                   if len(session_ref) == 16 and record.id.startswith(session_ref)), None)
    if record is None:
        raise NotFoundException()
    await sessions.store.delete(record.id)
    if record.id == viewer.session_id:
        return Redirect("/", status_code=303, cookies=[sessions.cleared_cookie()])
    return Redirect("/settings/security?done=session-ended#signed-in", status_code=303)


@post("/settings/sessions/end-all", guards=[signed_in], name="end_all_sessions")
async def end_all_sessions(request: Request[Any, Any, Any]) -> Response[Any]:
    """Sign out everywhere, this browser included."""
    sessions = services_of(request).sessions
    await sessions.end_all(current_viewer(request).user_id)
    return Redirect("/", status_code=303, cookies=[sessions.cleared_cookie()])


# ----- delete my account ------------------------------------------------------------------------------


def _delete_page(request: Request[Any, Any, Any], error: str = "", status: int = 200) -> Template:
    return page(request, "accounts/delete.html", title=_("Delete my account"), error=error, status_code=status)


@get("/settings/delete", guards=[survivor_only], name="delete_account_form")
async def delete_form(request: Request[Any, Any, Any]) -> Template:
    return _delete_page(request)


@post("/settings/delete", guards=[survivor_only], name="delete_account")
async def delete_account(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """Everything about the survivor goes, in one transaction: items, document chunks, connections and share
    cards, messages, devices, codes, the log of looks. Each person they were connected with keeps only a
    note that someone left. Then every session ends."""
    viewer = current_viewer(request)
    if refusal := await password_refusal(request, db, viewer,
                                         form_value(await request.form(), "password", MAX_LENGTH + 1),
                                         _("That password is not right. Nothing was deleted.")):
        return _delete_page(request, refusal, 400)
    services = services_of(request)
    await policy.forget_survivor(db, viewer)
    forget_on_disk(db)
    await db.commit()
    await services.sessions.end_all(viewer.user_id)
    log.info("account %s deleted by its owner", viewer.user_id)
    return Redirect("/?deleted=1", status_code=303, cookies=[services.sessions.cleared_cookie()])


routes = [forgot_form, forgot, regenerate, change_password, confirm_form, confirm, end_session, end_all_sessions,
          delete_form, delete_account]
