"""Messages between a survivor and a peer mentor: one thread per connection, plain text, shown as text.

The survivor reads their threads under **Messages**, replies or taps a quick answer, and may pause a
mentor (what the mentor sends meanwhile waits, and nothing is pushed) or end the connection. The mentor
opens the same thread from My people, writes in **Message** and presses **Send**. Only those two people
ever read a thread (`policy.thread`); a caseworker's connection has none.

A thread page asks every few seconds whether anything is new (`/messages/<id>/new`), and the navigation
asks for the unread count (`/unread`). Both read the database, which every worker shares, so a message
sent through one worker shows through any other. Neither request counts as activity: an open thread
does not stop the idle sign-out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import MediaType, Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import outbox, policy
from portal.i18n import _, ngettext
from portal.models import Connection, Message, Role, utcnow
from portal.links import person_label
from portal.users import known_as
from portal.timezones import local
from portal.forms import form_value, text_problem, whole_number
from portal.viewer import current_viewer, survivor_or_mentor
from portal.web import page, wants_fragment

MESSAGE_MAX = 1000
PER_PAGE = 30
# Enough for a real conversation, not enough to flood a phone or the database.
DAILY_LIMIT = {Role.MENTOR: 100, Role.SURVIVOR: 200}
POLL_EVERY = "5s"


def quick_answers() -> dict[str, str]:
    return {"ok": _("I'm OK"), "bad_day": _("Not a good day"), "talk": _("Can we talk?")}


def _other_name(viewer_role: Role, connection: Connection, mentor_name: str) -> str:
    """Who the viewer is talking to: the mentor's name, or the name the survivor chose to be seen by."""
    return mentor_name if viewer_role == Role.SURVIVOR else connection.survivor_label


@get("/", name="messages")
async def threads(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    found = await policy.threads(db, viewer)
    ids = [connection.id for connection, _name in found]
    unread = await policy.unread_counts(db, viewer)
    last = await policy.last_messages(db, viewer, ids) if ids else {}
    rows = [{"connection": connection, "name": _other_name(viewer.role, connection, name),
             "unread": unread.get(connection.id, 0),
             "last": last.get(connection.id)} for connection, name in ((c, person_label(*who)) for c, who in found)]
    return page(request, "messages/list.html", title=_("Messages"), threads=rows, local=local)


async def _mentor_name(db: AsyncSession, connection: Connection) -> str:
    """The mentor as survivors know them, for a thread `policy.thread` has already allowed."""
    found = await known_as(db, connection.staff_id)
    return person_label(*found) if found else ""


async def _thread_context(request: Request[Any, Any, Any], db: AsyncSession, connection: Connection) -> dict[str, Any]:
    viewer = current_viewer(request)
    before_raw = request.query_params.get("before", "")
    before = whole_number(before_raw, 11)
    items, earlier = await policy.messages(db, viewer, connection, before=before, limit=PER_PAGE)
    await policy.mark_read(db, viewer, connection)
    return {
        "connection": connection, "items": items, "earlier": earlier, "older_than": items[0].id if items else 0,
        "newest": await policy.newest_message(db, viewer, connection), "live": before is None,
        "name": _other_name(viewer.role, connection, await _mentor_name(db, connection)),
        "local": local, "poll_every": POLL_EVERY, "quick": quick_answers(), "max_length": MESSAGE_MAX,
    }


def _thread_page(request: Request[Any, Any, Any], context: dict[str, Any], *, status_code: int = 200,
                 body: str = "", error: str = "", sent: bool = False) -> Template:
    return page(request, "messages/thread.html", fragment="messages/_conversation.html", title=_("Messages"),
                status_code=status_code, body=body, error=error, sent=sent, **context)


@get("/{connection_id:str}", name="thread")
async def thread(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 connection_id: FromPath[str]) -> Template:
    connection = await policy.thread(db, current_viewer(request), connection_id)
    return _thread_page(request, await _thread_context(request, db, connection))


@get("/{connection_id:str}/new", name="thread_new")
async def thread_new(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                     connection_id: FromPath[str]) -> Response[Any]:
    """Asked by the open thread every few seconds: 204 when nothing is new, else the thread again (and a
    word for screen readers)."""
    viewer = current_viewer(request)
    connection = await policy.thread(db, viewer, connection_id)
    after_raw = request.query_params.get("after", "")
    after = whole_number(after_raw, 11) or 0
    newest = await policy.newest_message(db, viewer, connection)
    if newest == after and wants_fragment(request):
        return Response(content=b"", status_code=204)
    if not wants_fragment(request):
        return Redirect(f"/messages/{connection.id}", status_code=303)
    context = await _thread_context(request, db, connection)
    fresh = sum(1 for item in context["items"] if item.id and item.id > after and item.sender_id != viewer.user_id)
    announce = ngettext("{num} new message", "{num} new messages", fresh).format(num=fresh) if fresh else ""
    return Template(media_type=MediaType.HTML, template_name="messages/_new.html",
                    context={"viewer": viewer, "announce": announce, **context})


@post("/{connection_id:str}", name="send")
async def send(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
               connection_id: FromPath[str]) -> Response[Any]:
    viewer = current_viewer(request)
    connection = await policy.thread(db, viewer, connection_id)
    form = await request.form()
    quick = form_value(form, "quick", 20)
    if quick and viewer.role == Role.SURVIVOR and quick in quick_answers():
        body = quick_answers()[quick]
    else:
        body = form_value(form, "body", MESSAGE_MAX * 4).strip()
    error = text_problem(body, MESSAGE_MAX, _("Write a message first."))
    status = 400
    limit = DAILY_LIMIT.get(viewer.role, 0)
    if not error and await policy.sent_since(db, viewer, utcnow() - timedelta(days=1)) >= limit:
        error = _("You have sent {limit} messages today. You can send more tomorrow.").format(limit=limit)
        status = 429
    if error:
        return _thread_page(request, await _thread_context(request, db, connection), status_code=status, body=body,
                            error=error)
    # A paused mentor may still write: the message waits until the survivor resumes, and nothing is pushed.
    held = viewer.role == Role.MENTOR and connection.paused_at is not None
    message = Message(connection_id=connection.id, sender_id=viewer.user_id, body=body, held=held)
    db.add(message)
    await db.flush()
    if not held:
        recipient = connection.survivor_id if viewer.role == Role.MENTOR else connection.staff_id
        await outbox.queue_message(db, recipient, message.id or 0)
    if wants_fragment(request):
        return _thread_page(request, await _thread_context(request, db, connection), sent=True)
    return Redirect(f"/messages/{connection.id}?sent=1#latest", status_code=303)


@post("/{connection_id:str}/pause", name="pause")
async def pause(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                connection_id: FromPath[str]) -> Response[Any]:
    """The survivor takes a break from this mentor: new messages wait, nothing is pushed."""
    connection = await _survivors_thread(request, db, connection_id)
    if connection.paused_at is None:
        connection.paused_at = utcnow()
        db.add(connection)
    return Redirect(f"/messages/{connection.id}", status_code=303)


@post("/{connection_id:str}/resume", name="resume")
async def resume(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 connection_id: FromPath[str]) -> Response[Any]:
    """Messages flow again; what waited is shown now, and one notification says there is something new."""
    connection = await _survivors_thread(request, db, connection_id)
    if connection.paused_at is not None:
        connection.paused_at = None
        db.add(connection)
        newest = await policy.release_held(db, current_viewer(request), connection)
        if newest:
            await outbox.queue_message(db, connection.survivor_id, newest)
    return Redirect(f"/messages/{connection.id}", status_code=303)


async def _survivors_thread(request: Request[Any, Any, Any], db: AsyncSession, connection_id: str) -> Connection:
    """A thread whose survivor is the viewer: only they pause or resume their mentor (404 for the mentor)."""
    viewer = current_viewer(request)
    connection = await policy.thread(db, viewer, connection_id)
    if viewer.role != Role.SURVIVOR:
        raise NotFoundException()
    return connection


@get("/unread", name="unread", guards=[survivor_or_mentor])
async def unread(request: Request[Any, Any, Any]) -> Template:
    """The count beside Messages in the navigation, asked again every few seconds (counted, like on every
    page, when the viewer was looked up)."""
    viewer = current_viewer(request)
    return Template(media_type=MediaType.HTML, template_name="messages/_unread.html",
                    context={"unread": viewer.unread, "viewer": viewer})


router = Router(
    path="/messages",
    guards=[survivor_or_mentor],
    route_handlers=[threads, thread, thread_new, send, pause, resume],
)
routes = [unread]
