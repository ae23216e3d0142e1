"""What wraps every request: the allowed host names, the CSRF check, the signed-in viewer, https in
production, and the security headers on every answer (errors included)."""

from __future__ import annotations

from datetime import timedelta
import re
from collections.abc import AsyncIterator, Callable
from secrets import compare_digest
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import FormMultiDict, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import ClientException
from litestar.middleware import ASGIMiddleware
from litestar.middleware import csrf as litestar_csrf
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.types import ASGIApp, Empty, HTTPResponseBodyEvent, Message, Receive, Scope, Send
from multipart import MultipartSegment, ParserError, ParserLimitReached, PushMultipartParser
from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased
from sqlmodel import col

from portal import i18n, policy
from portal.viewer import Viewer
from portal.web import services_of
from portal.models import Organisation, Role, User, WebSession
from portal.reads import Reader
from portal.sessions import SESSION_COLUMNS, DatabaseSessionStore, Sessions, session_record


# Requests a page makes on its own, every few seconds (new messages, the unread count).
PASSIVE_PATHS = re.compile(r"^/(unread|messages/[^/]+/new)$")


class ViewerMiddleware(ASGIMiddleware):
    """Finds the session behind the cookie and puts the viewer in the request state.

    An unknown, expired or deactivated session is ignored and its cookie removed. Nothing is
    stored for anonymous visitors.
    """

    scopes = (ScopeType.HTTP,)
    should_bypass_for_scope = staticmethod(lambda scope: scope["path"].startswith("/static/"))

    def __init__(self, sessions: Sessions, engine: AsyncEngine, reader: Reader | None = None) -> None:
        self.sessions = sessions
        self.engine = engine
        self.reader = reader  # SQLite: the viewer read straight on it (portal.reads)
        # Sessions kept in the portal's own database are read together with the person, in one statement.
        self.sessions_here = isinstance(sessions.store, DatabaseSessionStore)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        state = scope.setdefault("state", {})
        state["viewer"] = None
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        token = connection.cookies.get(self.sessions.cookie_name)
        if token:
            # A page asking by itself for new messages is not the person at work: it must not keep an idle
            # session alive, or the idle sign-out would never come while a thread is open.
            viewer = await self._viewer(token, touch=not PASSIVE_PATHS.match(scope["path"]))
            if viewer is None:
                send = _appending_cookie(send, self.sessions.cleared_cookie().to_header(header=""))
            state["viewer"] = viewer
        viewer = state["viewer"]
        i18n.use(i18n.chosen(viewer.language if viewer is not None else "", connection.cookies.get(i18n.COOKIE, ""),
                             connection.headers.get("accept-language", "")))
        await next_app(scope, receive, send)

    async def _read(self, statement: Any, values: dict[str, Any]) -> Any:
        """The first row of a read, straight on SQLite when there is a reader; otherwise on a connection of the
        pool, given back (which ends the read) by close(), not by `async with`: that hands the close to a task of
        its own, a turn of the event loop more on every request."""
        if self.reader is not None:
            found = await self.reader.rows(statement, values)
            return found[0] if found else None
        conn = await self.engine.connect()
        try:
            return (await conn.execute(statement, values)).first()
        finally:
            await conn.close()

    async def _viewer(self, token: str, *, touch: bool) -> Viewer | None:
        """The viewer behind a cookie, in one statement: with sessions in the database, the session row joined to
        the person's own row, their organisation's name and the menu's counts; with sessions in Redis, the
        session from Redis and the rest in one statement."""
        session_id = self.sessions.session_id(token)
        if session_id is None:
            return None
        if self.sessions_here:
            row = await self._read(SESSION_AND_PERSON, {"session_id": session_id})
            record = session_record(row) if row is not None else None
        else:
            record = await self.sessions.store.get(session_id)
            row = await self._read(PERSON, {"user_id": record.user_id}) if record else None
        if record is None:
            return None
        record = await self.sessions.check(record, touch=touch)
        if record is None:
            return None
        # The person's own idle limit, or the organisation's when they chose none.
        limit = timedelta(minutes=row.idle_minutes) if row is not None and row.idle_minutes else self.sessions.idle
        if row is None or not row.active or record.idle_for >= limit:
            await self.sessions.store.delete(record.id)
            return None
        return Viewer(
            user_id=record.user_id, role=Role(row.role), username=row.username, session_id=record.id,
            exit_url=row.exit_url, time_zone=row.time_zone or "UTC", cover_when_hidden=row.cover_when_hidden,
            app_name=row.app_name, language=row.language, organisation_id=row.organisation_id,
            organisation_name=row.organisation_name, display_name=row.display_name, count_asked=row.count_asked,
            unread=int(row.unread), waiting=int(row.waiting),
        )


# The person behind a session, with what every page shows of them, read in one statement built once.
ME = aliased(User, name="me")
_PERSON: tuple[Any, ...] = (
    ME.role, ME.username, ME.active, ME.exit_url, ME.time_zone, ME.idle_minutes, ME.cover_when_hidden, ME.app_name,
    ME.language, ME.organisation_id, ME.display_name, ME.count_asked,
    func.coalesce(Organisation.name, "").label("organisation_name"), *policy.menu_counts(ME))
PERSON = (select(*_PERSON).outerjoin(Organisation, col(Organisation.id) == ME.organisation_id)
          .where(col(ME.id) == bindparam("user_id")))
SESSION_AND_PERSON = (
    select(*SESSION_COLUMNS, *_PERSON).join(ME, col(ME.id) == WebSession.user_id)
    .outerjoin(Organisation, col(Organisation.id) == ME.organisation_id)
    .where(col(WebSession.id) == bindparam("session_id"))
)


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
            body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"Unknown host", "more_body": False}
            await send(body)
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
        if scope["type"] == ScopeType.HTTP and scope["scheme"] == "http":
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
                empty: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}
                await send(empty)
                return
        await self.app(scope, receive, send)


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


def headers_hook(production: bool):
    """A before_send hook: headers on every response, including errors and 404s.

    Anything that did not choose its own caching (only static files do) is `no-store`: signed-in
    pages must never be kept by the browser, and sign-in pages carry a CSRF token.
    """
    fixed = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in security_headers(production)]
    no_store, vary = (b"cache-control", b"no-store"), (b"vary", b"Cookie, HX-Request")

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        # The raw header list, read once (a look-up per header through Litestar's header class scans them all).
        raw = list(message.get("headers") or ())
        present = {bytes(name).lower() for name, _value in raw}
        static = scope.get("path", "").startswith("/static/")
        if not static and b"vary" in present:
            raw = [(name, value) for name, value in raw if bytes(name).lower() != b"vary"]
        raw.extend(pair for pair in fixed if pair[0] not in present)
        if b"cache-control" not in present:
            raw.append(no_store)
        if not static:
            raw.append(vary)
        message["headers"] = raw

    return before_send


class PortalRequest(Request[Any, Any, Any]):
    """Litestar's request, reading a multipart form for its text only. A file sent where text belongs is read past
    and dropped: Litestar would keep it in a temporary file (on disk past 1 MB, unencrypted) and leave closing it
    to the garbage collector. Documents and journal files never come this way: they stream through
    portal/uploads.py. A text part that is not text in its charset (broken UTF-8, a charset that does not exist) is
    refused (400), where Litestar's decoding was a 500. The CSRF middleware reads the form through this class too."""

    async def form(self) -> FormMultiDict:
        if self._form is Empty and self._connection_state.form is Empty:
            content_type, options = self.content_type
            if content_type == RequestEncodingType.MULTI_PART:
                self._connection_state.form = await _text_parts(  # pyright: ignore
                    self.stream(), options.get("boundary", ""), self.app.multipart_form_part_limit)
        return await super().form()


async def _text_parts(stream: AsyncIterator[bytes], boundary: str, part_limit: int) -> dict[str, Any]:
    """The text parts of a multipart body, as Litestar's own parser gives them (one value, or a list when a name
    comes more than once); the bytes of a file part are never kept."""
    if not boundary:
        raise ClientException("multipart boundary missing in Content-Type")
    fields: dict[str, list[str]] = {}
    try:
        with PushMultipartParser(boundary, max_segment_count=part_limit) as parser:
            segment: MultipartSegment | None = None
            text = bytearray()
            async for chunk in stream:
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        segment, text = event, bytearray()
                    elif segment is None:
                        raise ClientException("Invalid multipart/form-data")
                    elif event:
                        if not segment.filename:
                            text += event
                    elif not segment.filename:
                        fields.setdefault(segment.name or "", []).append(text.decode(segment.charset or "utf-8"))
                if parser.closed:
                    break
    except ParserLimitReached:
        raise ClientException("Request Entity Too Large") from None
    except (ParserError, UnicodeDecodeError, LookupError) as error:
        raise ClientException("Invalid multipart/form-data") from error
    return {name: values if len(values) > 1 else values[0] for name, values in fields.items()}


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
