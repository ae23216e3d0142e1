"""What every page shares: who is viewing, page-or-fragment rendering, guards, headers, error pages."""

from __future__ import annotations

import logging
from datetime import timedelta
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from secrets import compare_digest
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import FormMultiDict, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import ClientException, HTTPException, NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.config.csrf import CSRFConfig
from litestar.middleware import csrf as litestar_csrf
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import disguise
from portal.crypto import MasterKey
from portal.i18n import _
from portal.models import Role, User
from portal.limits import Throttle
from portal.passwords import Hasher
from portal.keys import Vapid
from portal.push import PushHosts
from portal.sessions import Sessions
from portal.storage import DocumentStorage
from portal.config import Config

log = logging.getLogger("portal")


@dataclass(frozen=True)
class Services:
    """Long-lived helpers built once by create_app and shared by every request."""

    config: Config
    sessions: Sessions
    hasher: Hasher
    throttle: Throttle
    master_key: MasterKey
    storage: DocumentStorage
    csrf: CSRFConfig
    vapid: Vapid
    push_hosts: PushHosts
    # Database sessions for work that outlives a request's own (a download streamed after the handler).
    factory: async_sessionmaker[AsyncSession]


def services_of(request: Request[Any, Any, Any]) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Viewer:
    """The signed-in person making this request."""

    user_id: int
    role: Role
    username: str
    session_id: str
    exit_url: str
    time_zone: str = "UTC"
    # Messages from the other person not read yet (survivors and peer mentors), for the navigation.
    unread: int = 0
    # Safety settings the pages carry out: cover when hidden, the installed app's name.
    cover_when_hidden: bool = True
    app_name: str = "waypoint"


def viewer_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Viewer | None:
    return connection.scope.get("state", {}).get("viewer")


# Requests a page makes on its own, every few seconds (new messages, the unread count).
PASSIVE_PATHS = re.compile(r"^/(unread|messages/[^/]+/new)$")


class ViewerMiddleware(ASGIMiddleware):
    """Finds the session behind the cookie and puts the viewer in the request state.

    An unknown, expired or deactivated session is ignored and its cookie removed. Nothing is
    stored for anonymous visitors.
    """

    scopes = (ScopeType.HTTP,)
    should_bypass_for_scope = staticmethod(lambda scope: scope["path"].startswith("/static/"))

    def __init__(self, sessions: Sessions, factory: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.factory = factory

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        state = scope.setdefault("state", {})  # type: ignore[typeddict-item]
        state["viewer"] = None
        token = ASGIConnection(scope).cookies.get(self.sessions.cookie_name)
        if token:
            # A page asking by itself for new messages is not the person at work: it must not keep an idle
            # session alive, or the idle sign-out would never come while a thread is open.
            viewer = await self._viewer(token, touch=not PASSIVE_PATHS.match(scope["path"]))
            if viewer is None:
                send = _appending_cookie(send, self.sessions.cleared_cookie().to_header(header=""))
            state["viewer"] = viewer
        await next_app(scope, receive, send)

    async def _viewer(self, token: str, *, touch: bool) -> Viewer | None:
        record = await self.sessions.find(token, touch=touch)
        if record is None:
            return None
        from portal import policy  # the policy module builds on Viewer, defined here

        async with self.factory() as db:
            user = await db.get(User, record.user_id)
            # The person's own idle limit, or the organisation's when they chose none.
            limit = timedelta(minutes=user.idle_minutes) if user is not None and user.idle_minutes else self.sessions.idle
            too_idle = record.idle_for >= limit
            if user is None or not user.active or too_idle:
                await self.sessions.store.delete(record.id)
                return None
            viewer = Viewer(
                user_id=record.user_id,
                role=Role(user.role),
                username=user.username,
                session_id=record.id,
                exit_url=user.exit_url,
                time_zone=user.time_zone or "UTC",
                cover_when_hidden=user.cover_when_hidden,
                app_name=user.app_name,
            )
            if viewer.role in (Role.SURVIVOR, Role.MENTOR):
                viewer = replace(viewer, unread=sum((await policy.unread_counts(db, viewer)).values()))
        return viewer


def _appending_cookie(send: Send, cookie_header: str) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableScopeHeaders.from_message(message).add("set-cookie", cookie_header)
        await send(message)

    return wrapped


_HOST_HEADER = re.compile(r"^([a-z0-9.-]+)(?::\d{1,5})?$")


class AllowedHostsMiddleware(ASGIMiddleware):
    """Answer only to the configured host names, on any port.

    Litestar's own AllowedHostsConfig compares the whole Host header, port included, so
    `localhost:8000` would be refused for `localhost`.
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, hosts: tuple[str, ...]) -> None:
        self.hosts = frozenset(host.lower() for host in hosts)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        match = _HOST_HEADER.match(ASGIConnection(scope).headers.get("host", "").lower())
        if match is None or match.group(1) not in self.hosts:
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"text/plain"), (b"content-length", b"12")]})
            await send({"type": "http.response.body", "body": b"Unknown host"})
            return
        await next_app(scope, receive, send)


class HttpsRedirect:
    """Production: a request the TLS proxy says came over plain http (`X-Forwarded-Proto: http`) is sent
    to the same address on https, where HSTS keeps the browser from then on.

    Only the proxy's word counts: behind a proxy that says nothing no request is redirected, so there is
    never a loop. It wraps the whole app (see create_app), unknown paths included; only the configured
    host names are ever a destination.
    """

    def __init__(self, app: ASGIApp, hosts: tuple[str, ...]) -> None:
        self.app = app
        self.hosts = frozenset(host.lower() for host in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["scheme"] == "http":
            headers = ASGIConnection(scope).headers
            match = _HOST_HEADER.match(headers.get("host", "").lower())
            proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
            if proto == "http" and match is not None and match.group(1) in self.hosts:
                # Some servers (and the test client) leave the query in raw_path: it is added once, below.
                path = (scope.get("raw_path") or scope["path"].encode()).split(b"?")[0]
                location = f"https://{match.group(1)}".encode() + path
                if query := scope.get("query_string", b""):
                    location += b"?" + query
                # 301 for reading; 307 keeps the method and body of a form sent over http.
                status = 301 if scope["method"] in ("GET", "HEAD") else 307
                await send({"type": "http.response.start", "status": status,
                            "headers": [(b"location", location), (b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)


# ----- guards ---------------------------------------------------------------------------------


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if viewer_of(connection) is None:
        raise NotAuthorizedException()


def _role_guard(*roles: Role):  # type: ignore[no-untyped-def]
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        viewer = viewer_of(connection)
        if viewer is None:
            raise NotAuthorizedException()
        if viewer.role not in roles:
            # Not found, not forbidden: a page that is not yours does not exist for you.
            raise NotFoundException()

    return guard


survivor_only = _role_guard(Role.SURVIVOR)
staff_only = _role_guard(Role.CASEWORKER, Role.MENTOR)
# Message threads and reminders on the phone: the two people who write to each other.
survivor_or_mentor = _role_guard(Role.SURVIVOR, Role.MENTOR)
admin_only = _role_guard(Role.ADMIN)


# ----- rendering ------------------------------------------------------------------------------


def current_viewer(request: Request[Any, Any, Any]) -> Viewer:
    """The viewer in a handler whose guard already required one."""
    viewer = viewer_of(request)
    if viewer is None:
        raise NotAuthorizedException()
    return viewer


def whole_number(raw: str, digits: int) -> int | None:
    """`raw` as a whole number of at most `digits` plain digits, else None. ASCII only: "²" is a digit to
    str.isdigit() but not to int(), and a number of thousands of digits is more than int() will read."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= digits else None


def page_number(request: Request[Any, Any, Any]) -> int:
    """The ?page= of a list: a whole number from 1, anything else is page 1."""
    number = whole_number(request.query_params.get("page", "1"), 5)
    return number if number else 1


def wants_fragment(request: Request[Any, Any, Any]) -> bool:
    """True for an htmx request that swaps part of a page (htmx 4 headers).

    Boosted navigations and history restores ask for the whole page.
    """
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-request-type") == "partial"
        and headers.get("hx-history-restore-request") != "true"
    )


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    title: str = "",
    status_code: int = 200,
    fragment: str | None = None,
    **context: Any,
) -> Template:
    """Render a page, or only `fragment` (a template of its own) when htmx asked for a part.

    `title` is a section name ("Goals"), never a person's words: it shows on the lock screen's
    app switcher and in history.
    """
    sync = disguise.cookie_to_sync(request, services_of(request).config.production)
    return Template(
        template_name=fragment if fragment and wants_fragment(request) else template,
        # `brand`: the app's name as this person chose it (portal.disguise), for the title and header.
        context={"title": title, "viewer": viewer_of(request), "brand": disguise.brand_of(request), **context},
        status_code=status_code,
        cookies=[sync] if sync else None,
    )


def ask_before_delete(request: Request[Any, Any, Any], *, title: str, heading: str, message: str, item_id: str,
                      list_href: str) -> Template:
    """The one plain question before a delete. A page of its own (its "No" leads back to the item);
    or, asked from a list card with htmx, the same question inside that card ("No" fetches the card)."""
    item_href = f"{list_href}/{item_id}"
    return page(request, "delete.html", fragment="_delete.html", title=title, heading=heading, message=message,
                action=f"{item_href}/delete", back_href=item_href, card_id=f"card-{item_id}", card_href=f"{item_href}/card")


def card(request: Request[Any, Any, Any], template: str, item_href: str, **context: Any) -> Response[Any]:
    """One list card alone, for htmx to put back after "No" (focus on its Delete link). Not a page:
    anyone asking for it without htmx is sent to the item."""
    if not wants_fragment(request):
        return Redirect(item_href, status_code=303)
    return Template(template_name=template, context={"viewer": viewer_of(request), "focus": True, **context})


def deleted(request: Request[Any, Any, Any], list_href: str, message: str) -> Response[Any]:
    """After a delete: back to the list; with htmx, the card says it is gone (and the live region too)."""
    if wants_fragment(request):
        return Template(template_name="_deleted.html", context={"message": message})
    return Redirect(list_href, status_code=303)


def page_link(query: Any, number: int) -> str:
    """The link to page `number` of a list, keeping whatever else the list was asked with (?past=1, ?person=…)."""
    kept = [(name, value) for name, value in query.multi_items() if name != "page"]
    return "?" + urlencode([*kept, ("page", str(number))])


def home_for(role: Role | str) -> str:
    return {Role.SURVIVOR: "/home", Role.ADMIN: "/admin/staff"}.get(Role(role), "/staff")


# ----- security headers -----------------------------------------------------------------------

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope", "hid",
        "magnetometer", "microphone", "midi", "payment", "serial", "usb", "xr-spatial-tracking",
    )
)


def security_headers(production: bool) -> list[tuple[str, str]]:
    headers = [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("permissions-policy", PERMISSIONS_POLICY),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        ("x-frame-options", "DENY"),
    ]
    if production:
        headers.append(("strict-transport-security", "max-age=63072000; includeSubDomains"))
    return headers


def headers_hook(production: bool):  # type: ignore[no-untyped-def]
    """A before_send hook: headers on every response, including errors and 404s.

    Anything that did not choose its own caching (only static files do) is `no-store`: signed-in
    pages must never be kept by the browser, and sign-in pages carry a CSRF token.
    """
    fixed = security_headers(production)

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in fixed:
            if name not in headers:
                headers[name] = value
        if "cache-control" not in headers:
            headers["cache-control"] = "no-store"
        if scope.get("path", "").startswith("/static/") is False:
            headers["vary"] = "Cookie, HX-Request"

    return before_send


# ----- error pages ----------------------------------------------------------------------------


def _error_page(request: Request[Any, Any, Any], status_code: int, heading: str, body: str) -> Template:
    if wants_fragment(request):
        # htmx swaps 4xx and 5xx answers too: a whole page must not land inside a card or a list, so a
        # short message goes to the top of the page instead, where focus follows it.
        return Template(template_name="_error.html", context={"heading": heading, "body": body}, status_code=status_code,
                        headers={"HX-Retarget": "#main", "HX-Reswap": "afterbegin"})
    return Template(
        template_name="error.html",
        context={"title": "", "viewer": viewer_of(request), "brand": disguise.brand_of(request), "heading": heading,
                 "body": body},
        status_code=status_code,
    )


def not_signed_in(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if request.headers.get("hx-request") == "true":
        return Response(content=b"", status_code=401, headers={"HX-Redirect": "/sign-in"})
    if request.method in ("GET", "HEAD"):
        return Redirect("/sign-in", status_code=303)
    return _error_page(request, 401, _("Please sign in"), _("You were signed out. Sign in to carry on."))


def not_found(request: Request[Any, Any, Any], exc: Exception) -> Template:
    return _error_page(request, 404, _("Page not found"), _("This page does not exist, or it is not shared with you."))


def forbidden(request: Request[Any, Any, Any], exc: Exception) -> Template:
    # Litestar's CSRF check raises PermissionDeniedException.
    return _error_page(
        request, 403, _("Please try again"), _("This form was out of date. Go back, reload the page and send it again.")
    )


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Template:
    status = exc.status_code
    if status == 429:
        return _error_page(request, 429, _("Please wait"), _("Too many tries. Wait a minute, then try again."))
    if status == 413:
        return _error_page(request, 413, _("Too large"), _("What you sent is too large."))
    if status < 500:
        return _error_page(request, status, _("Something was not right"), _("Go back and check what you sent."))
    return server_error(request, exc)


def loggable_path(path: str) -> str:
    """The path with secrets masked: set-password links carry a live token."""
    return re.sub(r"^/set-password/.*", "/set-password/…", path)


def server_error(request: Request[Any, Any, Any], exc: Exception) -> Template:
    # Logged by id only: never a person's words.
    viewer = viewer_of(request)
    log.error(
        "error on %s %s for user %s", request.method, loggable_path(request.url.path),
        viewer.user_id if viewer else "-", exc_info=exc,
    )
    return _error_page(request, 500, _("Sorry, something went wrong"), _("Please try again in a moment."))


def exception_handlers() -> dict[Any, Any]:
    return {
        NotAuthorizedException: not_signed_in,
        NotFoundException: not_found,
        PermissionDeniedException: forbidden,
        HTTPException: http_error,
        Exception: server_error,
    }


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class PortalRequest(Request[Any, Any, Any]):
    """Litestar's request, refusing (400) a multipart form whose text part is not text in its charset (broken
    UTF-8, or a charset that does not exist): Litestar decodes each part without catching that, which was a 500.
    The CSRF middleware reads the form through this class too."""

    async def form(self) -> FormMultiDict:
        try:
            return await super().form()
        except (UnicodeDecodeError, LookupError) as error:
            raise ClientException("Invalid multipart/form-data") from error


class CSRFMiddleware(litestar_csrf.CSRFMiddleware):
    """Litestar's CSRF check, refusing (403) a token with characters a real one never has, where
    Litestar's own would fail with a 500 (`compare_digest` takes ASCII only)."""

    def _decode_csrf_token(self, token: str) -> str | None:
        return _csrf_secret(token, self.config.secret)


def csrf_checker(request: Request[Any, Any, Any]) -> Callable[[str], bool]:
    """For a handler that reads its own body (a streamed upload, excluded from the CSRF middleware):
    whether a submitted token matches this browser's CSRF cookie, by the middleware's own rule."""
    config = services_of(request).csrf
    cookie = _csrf_secret(request.cookies.get(config.cookie_name, ""), config.secret)

    def valid(token: str) -> bool:
        submitted = _csrf_secret(token, config.secret)
        return cookie is not None and submitted is not None and compare_digest(cookie, submitted)

    return valid


def _csrf_secret(token: str, secret: str) -> str | None:
    if len(token) <= CSRF_SECRET_LENGTH or not token.isascii():
        return None
    value, mac = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    return value if compare_digest(mac, generate_csrf_hash(token=value, secret=secret)) else None


def text_problem(value: str, limit: int, missing: str = "") -> str:
    """What is wrong with a typed text, or "": empty when it is needed (`missing` says what to
    write; "" when it may be empty), or longer than `limit` characters."""
    if not value:
        return missing
    if len(value) > limit:
        return _("Use {limit} characters or fewer.").format(limit=f"{limit:,}")
    return ""


def text_errors(values: dict[str, Any], rules: dict[str, tuple[int, str]]) -> dict[str, str]:
    """Messages for the typed texts of a form: `rules` maps a field to its limit and its `missing` message."""
    return {name: problem for name, (limit, missing) in rules.items()
            if (problem := text_problem(values[name], limit, missing))}


def form_value(form: Any, name: str, max_length: int = 10_000) -> str:
    """A single text value from a submitted form; lists and files become ''.

    Control characters (NUL and the like; not tab or line breaks) are dropped: PostgreSQL refuses
    NUL in text, and none of them is something a person meant to type.
    """
    value = form.get(name, "")
    if not isinstance(value, str):
        return ""
    return _CONTROL.sub("", value[:max_length])

