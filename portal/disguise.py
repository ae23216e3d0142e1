"""The name the app goes by on a phone: "Waypoint", or "Notes" for a person who chose to hide it
(Settings → Staying safe). It is the only name the device keeps or shows: page titles, the header,
the manifest, passkeys, the export, and the sign-in pages after a sign-out.

A fixed choice of two words: nothing a person types, and nothing a request carries, ever becomes a
name. Signed in, the account's setting decides. Signed out there is no account, so the device keeps
the chosen word in a plain cookie (`app_name=notes`: no account, nothing that says whose phone it
is), written by any signed-in page whose account chose otherwise, so choosing the name or signing in
sets it. Exit now clears the site's cookies, and with them this one: the signed-out pages then fall
back to the default name, except in the installed Notes app, whose start address (`/?app=notes`)
brings the name back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from portal.i18n import _

DEFAULT = "waypoint"
CHOICES = (DEFAULT, "notes")
COOKIE = "app_name"
COOKIE_DAYS = 400  # the longest browsers keep a cookie


@dataclass(frozen=True)
class Brand:
    """The app's name as pages show it. `key` is one of CHOICES, or "" for a page that names no app."""

    key: str
    title: str


NEUTRAL = Brand("", "")  # the offline page: cached on the phone, it names no app at all


def brand(key: str) -> Brand:
    if key == "notes":
        return Brand("notes", _("Notes"))
    return Brand(DEFAULT, "Waypoint")


def known(value: Any) -> str:
    """`value` if it is one of the choices, else the default: the only way a name is read from a request."""
    return value if isinstance(value, str) and value in CHOICES else DEFAULT


def chosen(request: Request[Any, Any, Any]) -> str:
    """The choice for this request: the signed-in person's, else the one this device keeps."""
    viewer = request.scope.get("state", {}).get("viewer")
    if viewer is not None:
        return known(viewer.app_name)
    return known(request.cookies.get(COOKIE))


def brand_of(request: Request[Any, Any, Any]) -> Brand:
    return brand(chosen(request))


def name_cookie(key: str, secure: bool) -> Cookie:
    """The cookie that makes the device keep `key`; for the default, one that removes it."""
    if key == DEFAULT:
        return Cookie(key=COOKIE, value="", path="/", httponly=True, secure=secure, samesite="lax", max_age=0,
                      expires=0)
    return Cookie(key=COOKIE, value=key, path="/", httponly=True, secure=secure, samesite="lax",
                  max_age=COOKIE_DAYS * 24 * 3600)


def cookie_to_sync(request: Request[Any, Any, Any], secure: bool) -> Cookie | None:
    """For a signed-in page: the cookie to send when the device keeps another word than the account's."""
    viewer = request.scope.get("state", {}).get("viewer")
    if viewer is None:
        return None
    wanted = known(viewer.app_name)
    kept = request.cookies.get(COOKIE)
    if (kept or DEFAULT) == wanted and (kept is None or kept in CHOICES):
        return None
    return name_cookie(wanted, secure)
