"""Accounts: sign up, sign in, sign out, and the rules for usernames.

A survivor needs only a nickname and a password: no e-mail or phone number, which an abuser might
read. Sign-in answers the same for a wrong username and a wrong password, and failures slow the
next try down without ever locking anyone out for good. A browser that has signed in to an account
before holds a signed device cookie for it and is limited only by its own failures; other browsers
are limited per (account, address) and per address, and per account only slowed (at most a minute),
so strangers' guesses never keep the owner out (OWASP device cookies; docs/decisions.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import i18n
from portal.recovery_codes import codes_page, new_codes
from portal.users import create_user, find_user, normalise_username, username_key, username_problem
from portal.web import client_address
from portal.i18n import _
from portal.limits import DEVICE_COOKIE_DAYS, device_of, new_device_token
from portal.models import Role, User
from portal.passwords import MAX_LENGTH, password_problem
from portal.sessions import device_label
from portal.timezones import is_zone
from portal.forms import form_value
from portal.viewer import home_for, viewer_of
from portal.web import page, services_of















def throttle_account(username: str) -> str:
    """The account as sign-in limits name it: its username key (bounded, whether or not it exists)."""
    return username_key(username)[:64]


def _device_cookie_name(request: Request[Any, Any, Any]) -> str:
    return "__Host-wp_device" if services_of(request).config.production else "wp_device"


def device_cookie(request: Request[Any, Any, Any], username: str) -> Cookie:
    """A fresh device cookie for `username`'s account on this browser, given at each sign-in. It outlives
    sign-out (it proves only that this browser has signed in before); Exit now clears it with the rest."""
    secure = services_of(request).config.production
    token = new_device_token(services_of(request).config.secret_key, throttle_account(username))
    return Cookie(key=_device_cookie_name(request), value=token, path="/", httponly=True, secure=secure,
                  samesite="strict", max_age=int(timedelta(days=DEVICE_COOKIE_DAYS).total_seconds()))


def sign_in_subjects(request: Request[Any, Any, Any], username: str) -> dict[str, str]:
    """What a password try for `username` from this browser counts against: its device, when it holds this
    account's device cookie; otherwise the account with this address, the address, and the account's count
    for all unknown browsers (which only slows them)."""
    services = services_of(request)
    account = throttle_account(username)
    device = device_of(services.config.secret_key, account, request.cookies.get(_device_cookie_name(request), ""))
    if device:
        return {"device": device}
    address = client_address(request)
    return {"account_address": f"{account}\0{address}", "address": address, "untrusted_account": account}


async def signed_in_here(request: Request[Any, Any, Any], subjects: dict[str, str]) -> None:
    """A right password (or code) from this browser: its own counts start again, and nobody else's, so a
    stranger gains nothing when the owner gets in."""
    await services_of(request).throttle.succeeded(
        **{k: v for k, v in subjects.items() if k in ("device", "account_address")}
    )


async def session_cookie(request: Request[Any, Any, Any], user: User) -> Cookie:
    """Sign `user` in on this browser with a brand-new session id: the cookie that carries it."""
    services = services_of(request)
    old = request.cookies.get(services.sessions.cookie_name)
    token = await services.sessions.start(user.id or 0, device_label(request.headers.get("user-agent", "")), old)
    return services.sessions.cookie(token)


async def start_session(request: Request[Any, Any, Any], user: User, redirect_to: str) -> Response[Any]:
    """Sign `user` in on this browser, and go to `redirect_to`."""
    return Redirect(redirect_to, status_code=303, cookies=[await session_cookie(request, user)])


# ----- sign up --------------------------------------------------------------------------------


def _sign_up_page(request: Request[Any, Any, Any], values: dict[str, str], errors: dict[str, str],
                  status: int = 200) -> Template:
    return page(request, "accounts/sign_up.html", title=_("Create an account"), values=values, errors=errors,
                status_code=status)


def _go_home_if_signed_in(request: Request[Any, Any, Any]) -> Redirect | None:
    viewer = viewer_of(request)
    return Redirect(home_for(viewer.role), status_code=303) if viewer else None


@get("/sign-up", name="sign_up")
async def sign_up_form(request: Request[Any, Any, Any]) -> Response[Any]:
    return _go_home_if_signed_in(request) or _sign_up_page(request, {}, {})


@post("/sign-up")
async def sign_up(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    services = services_of(request)
    form = await request.form()
    username = normalise_username(form_value(form, "username", 200))
    password = form_value(form, "password", MAX_LENGTH + 1)
    values = {"username": username}
    errors: dict[str, str] = {}
    if problem := username_problem(username):
        errors["username"] = problem
    if problem := password_problem(password, username):
        errors["password"] = problem
    address = client_address(request)
    if not errors and (wait := await services.throttle.seconds_to_wait(signup_address=address)):
        errors["username"] = _(
            "Many accounts were made from here just now. Please try again in {minutes} minutes."
        ).format(minutes=max(1, wait // 60))
        return _sign_up_page(request, values, errors, 429)
    if not errors and await find_user(db, username):
        errors["username"] = _("That username is taken. Try another one.")
        await services.throttle.failed(signup_address=address)  # trying names counts as a try
    if errors:
        return _sign_up_page(request, values, errors, 400)
    try:
        user = await create_user(db, services.hasher, username, password, Role.SURVIVOR)
        # The browser's time zone, sent by the page's script; it can be changed in Settings.
        zone = form_value(form, "time_zone", 64)
        user.time_zone = zone if is_zone(zone) else ""
        # A language chosen on this phone before signing up is the account's from now on.
        chosen = request.cookies.get(i18n.COOKIE, "")
        user.language = chosen if chosen in i18n.LANGUAGES else ""
    except IntegrityError:  # the same name, taken a moment ago
        await db.rollback()
        return _sign_up_page(request, values, {"username": _("That username is taken. Try another one.")}, 400)
    codes = await new_codes(db, user.id or 0, services.config.secret_key)
    await db.commit()  # the session below must refer to a stored user
    await services.throttle.failed(signup_address=address)  # counts sign-ups per address
    # The recovery codes are shown once, now; the page leads on to the safety introduction.
    cookies = [await session_cookie(request, user), device_cookie(request, username)]
    return codes_page(request, codes, first=True, cookies=cookies)


# ----- sign in --------------------------------------------------------------------------------


def _sign_in_page(request: Request[Any, Any, Any], values: dict[str, str], error: str = "",
                  status: int = 200) -> Template:
    return page(request, "accounts/sign_in.html", title=_("Sign in"), values=values, error=error, status_code=status)


@get("/sign-in", name="sign_in")
async def sign_in_form(request: Request[Any, Any, Any]) -> Response[Any]:
    return _go_home_if_signed_in(request) or _sign_in_page(request, {})


@post("/sign-in")
async def sign_in(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    services = services_of(request)
    form = await request.form()
    username = normalise_username(form_value(form, "username", 200))
    password = form_value(form, "password", MAX_LENGTH + 1)
    values = {"username": username}
    if not username or not password:
        return _sign_in_page(request, values, _("Enter your username and your password."), 400)
    subjects = sign_in_subjects(request, username)
    if wait := await services.throttle.seconds_to_wait(**subjects):
        return _sign_in_page(
            request, values, _("Too many tries. Please wait {seconds} seconds, then try again.").format(seconds=wait),
            429
        )
    user = await find_user(db, username)
    usable = user is not None and user.active and bool(user.password_hash)
    # Always verify against a hash, real or dummy, so a missing account takes as long as a real one.
    ok = await services.hasher.verify(user.password_hash if usable and user else None, password)
    if not ok or user is None:
        await services.throttle.failed(**subjects)
        return _sign_in_page(request, values, _("That username and password do not match. Check both and try again."),
                             400)
    # This browser's own count starts again. The account's count for unknown browsers runs out on its own,
    # so a stranger gains nothing from the owner signing in.
    await signed_in_here(request, subjects)
    if services.hasher.needs_rehash(user.password_hash):
        user.password_hash = await services.hasher.hash(password)
        db.add(user)
    cookies = [await session_cookie(request, user), device_cookie(request, user.username)]
    return Redirect(home_for(user.role), status_code=303, cookies=cookies)


# ----- sign out -------------------------------------------------------------------------------


@post("/sign-out")
async def sign_out(request: Request[Any, Any, Any]) -> Response[Any]:
    sessions = services_of(request).sessions
    await sessions.end(request.cookies.get(sessions.cookie_name))
    return Redirect("/", status_code=303, cookies=[sessions.cleared_cookie()])


routes = [sign_up_form, sign_up, sign_in_form, sign_in, sign_out]
