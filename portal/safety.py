"""The safety shell: the exit endpoint, the safety introduction and the practice exit.

Exit now is a plain link to /exit, so it works without JavaScript. The endpoint ends the session,
tells the browser to forget everything of this site (Clear-Site-Data), and sends the person on to a
neutral site.

With JavaScript the page first sends a beacon (POST /exit), which ends the session on the server at
once, even if the navigation that follows is cut off. The beacon leaves the (now dead) cookie in
place, and the link carries the person's chosen destination signed together with that cookie's
session id: so /exit still knows where this person wanted to go, and the link is useless to anyone
else (it cannot be used as an open redirect).

Offline, the service worker answers an exit itself (with the destination, never a page of ours) and
keeps the fact that an exit is owed; back online it first sends POST /exit?owed=1, which ends the
session and clears the cookie, before it lets anything else through to the portal.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

from litestar import Request, Response, get, post, route
from litestar.enums import HttpMethod
from litestar.response import Redirect, Template

from portal.i18n import _
from portal.sessions import hash_token
from portal.config import is_web_address
from portal.viewer import survivor_only, Viewer, viewer_of
from portal.web import page, services_of

NO_TRACE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
EXIT_HEADERS = {"Clear-Site-Data": '"cache", "cookies", "storage"', **NO_TRACE}
# The beacon keeps the cookie, so the navigation right after it can still prove whose exit it is.
BEACON_HEADERS = {"Clear-Site-Data": '"cache", "storage"', **NO_TRACE}


def _signature(secret: str, destination: str, session_id: str) -> str:
    message = f"exit\n{session_id}\n{destination}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def exit_href(secret: str, viewer: Viewer | None) -> str:
    """The address of Exit now for this viewer: /exit, plus their own destination if they chose one."""
    if viewer is None or not viewer.exit_url:
        return "/exit"
    encoded = base64.urlsafe_b64encode(viewer.exit_url.encode()).decode().rstrip("=")
    return f"/exit?to={encoded}.{_signature(secret, viewer.exit_url, viewer.session_id)}"


def _signed_destination(secret: str, value: str, session_id: str) -> str | None:
    """The destination in `value` if it was signed for this browser's session, else None."""
    encoded, _dot, signature = value.partition(".")
    if not encoded or not signature or not session_id or len(value) > 1500 or not value.isascii():
        return None
    try:
        destination = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not hmac.compare_digest(signature.encode(), _signature(secret, destination, session_id).encode()):
        return None
    return destination if is_web_address(destination) else None


@route("/exit", http_method=[HttpMethod.GET, HttpMethod.POST], name="exit", include_in_schema=False)
async def exit_now(request: Request[Any, Any, Any]) -> Response[Any]:
    """End the session and leave for a neutral site. Records nothing about who left."""
    services = services_of(request)
    sessions = services.sessions
    token = request.cookies.get(sessions.cookie_name)
    await sessions.end(token)
    if request.method == "POST":
        if "owed" in request.query_params:
            # An exit made offline, sent back online by the service worker (or the page's script)
            # before anything else: no navigation follows, so the cookie goes too. The same answer
            # whether that session was still alive or had already ended.
            return Response(content=b"", status_code=204, headers=EXIT_HEADERS, cookies=[sessions.cleared_cookie()])
        # The beacon sent by the page as it leaves: nothing to follow, only the session to end.
        return Response(content=b"", status_code=204, headers=BEACON_HEADERS)
    viewer = viewer_of(request)
    session_id = hash_token(token) if token and len(token) <= 100 else ""
    destination = _signed_destination(services.config.secret_key, request.query_params.get("to", ""), session_id)
    if destination is None:
        destination = (viewer.exit_url if viewer and viewer.exit_url else "") or services.exit_default.url
    return Redirect(destination, status_code=303, headers=EXIT_HEADERS, cookies=[sessions.cleared_cookie()])


@get("/safety", name="safety")
async def safety_intro(request: Request[Any, Any, Any]) -> Template:
    return page(request, "safety/intro.html", title=_("Staying safe"), after_sign_up=False)


@get("/welcome", guards=[survivor_only], name="welcome")
async def welcome(request: Request[Any, Any, Any]) -> Template:
    """Shown once, right after sign-up: what Exit now does and does not do, before first use."""
    return page(request, "safety/intro.html", title=_("Staying safe"), after_sign_up=True)


@get("/safety/practice", name="practice")
async def practice(request: Request[Any, Any, Any]) -> Template:
    return page(request, "safety/practice.html", title=_("Practise Exit now"), practice=True, practised=False)


@post("/safety/practice", name="practice_done", status_code=200)
async def practice_done(request: Request[Any, Any, Any]) -> Template:
    """The no-JavaScript practice: the button is a form, so nothing is left behind."""
    return page(request, "safety/practice.html", title=_("Practise Exit now"), practice=True, practised=True)


routes = [exit_now, safety_intro, welcome, practice, practice_done]
