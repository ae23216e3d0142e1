"""Sharing, the caseworker's and mentor's side: show a connection code, see **My people**, and read,
never change, what each person has chosen to share, for as long as they share it.

Every read goes through `portal.policy` with the staff member as the viewer, so the share cards are
checked on each request and each look is written to the survivor's Who has looked. A person's pages
answer 404 for a connection that is not this staff member's own or has ended, and for an item of
anyone else.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import documents, journal, outbox, parts, policy
from portal.documents import file_response
from portal.i18n import _
from portal.models import AccessRequest, ConnectionCode, Departure, utcnow
from portal.links import Link
from portal.sharing import CODE_ALPHABET, CODE_LENGTH, hash_code
from portal.shares import end_connection
from portal.timezones import local
from portal.forms import form_value, page_number, text_errors
from portal.viewer import current_viewer, staff_only
from portal.web import page, services_of

CODE_LIFETIME = timedelta(minutes=15)
PEOPLE_PER_PAGE = 20  # people connected most recently first; a caseworker may have thousands


async def _list_page(request: Request[Any, Any, Any], db: AsyncSession, *, code: str = "", wait: int = 0,
                     status_code: int = 200) -> Template:
    """My people: each live connection, and a line for each person who has left (never who)."""
    viewer = current_viewer(request)
    departures = (await db.exec(select(Departure).where(col(Departure.staff_id) == viewer.user_id)
                                .order_by(col(Departure.left_on).desc()).limit(20))).all()
    number = page_number(request)
    found = await policy.connections(db, viewer, page=number, per_page=PEOPLE_PER_PAGE)
    return page(request, "people/list.html", title=_("My people"), links=found[:PEOPLE_PER_PAGE],
                has_next=len(found) > PEOPLE_PER_PAGE, page_number=number, parts=parts.labels(), code=code, wait=wait,
                departures=departures if number == 1 else [], status_code=status_code)


@get("/", name="my_people")
async def my_people(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await _list_page(request, db)


@post("/code")
async def show_code(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    """A new single-use code for 15 minutes; any earlier unused code stops working."""
    viewer = current_viewer(request)
    throttle = services_of(request).throttle
    subjects = {"code_staff": str(viewer.user_id)}
    if wait := await throttle.seconds_to_wait(**subjects):
        return await _list_page(request, db, wait=wait, status_code=429)
    await throttle.failed(**subjects)  # each code shown counts towards the limit
    now = utcnow()
    await db.exec(
        update(ConnectionCode).where(col(ConnectionCode.staff_id) == viewer.user_id,
                                     col(ConnectionCode.used_at).is_(None))
        .values(used_at=now)
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    db.add(ConnectionCode(id=hash_code(code), staff_id=viewer.user_id, created_at=now, expires_at=now + CODE_LIFETIME))
    return await _list_page(request, db, code=f"{code[:4]}-{code[4:]}")


REASON_MAX = 500
ASKS_PER_DAY = 3


async def _person_page(request: Request[Any, Any, Any], db: AsyncSession, link: Link, *, status_code: int = 200,
                       values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                       asked: bool = False) -> Template:
    requests = await policy.access_requests(db, current_viewer(request), [link.connection.id], newest_first=True,
                                            limit=10)
    askable = {part: label for part, label in parts.labels().items() if part not in link.parts}
    return page(request, "people/person.html", title=_("My people"), status_code=status_code, link=link,
                parts=parts.labels(), phrases=parts.phrases(), noted=parts.noted(), local=local, requests=requests,
                askable=askable,
                values=values or {}, errors=errors or {}, asked=asked)


@get("/{connection_id:str}", name="person")
async def person(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 connection_id: FromPath[str]) -> Template:
    link = await policy.own_connection(db, current_viewer(request), connection_id)
    return await _person_page(request, db, link, asked=request.query_params.get("done") == "asked")


@post("/{connection_id:str}/ask")
async def ask(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
              connection_id: FromPath[str]) -> Response[Any]:
    """Ask the person to share a part, with a reason; they answer when they choose."""
    link = await policy.own_connection(db, current_viewer(request), connection_id)
    form = await request.form()
    values = {"part": form_value(form, "part", 20), "reason": form_value(form, "reason", REASON_MAX * 4).strip()}
    errors = text_errors(values, {"reason": (REASON_MAX, _("Say why you need it, in a sentence or two."))})
    if values["part"] not in parts.labels() or values["part"] in link.parts:
        errors["part"] = _("Choose something they do not share with you yet.")
    since = utcnow() - timedelta(days=1)
    mine = await policy.access_requests(db, current_viewer(request), [link.connection.id],
                                        or_(col(AccessRequest.answered_at).is_(None),
                                            col(AccessRequest.created_at) > since))
    if any(row.part == values["part"] and row.answered_at is None for row in mine):
        errors["part"] = _("You have asked for this already. They will answer when they choose.")
    elif sum(1 for row in mine if row.created_at > since) >= ASKS_PER_DAY:
        errors["part"] = _("You can ask up to 3 times a day. Please wait before asking again.")
    if errors:
        return await _person_page(request, db, link, status_code=400, values=values, errors=errors)
    asked = AccessRequest(connection_id=link.connection.id, part=values["part"], reason=values["reason"])
    db.add(asked)
    await outbox.queue_request(db, link.connection.survivor_id, asked.id)
    return Redirect(f"/people/{link.connection.id}?done=asked", status_code=303)


@post("/{connection_id:str}/end")
async def end(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
              connection_id: FromPath[str]) -> Response[Any]:
    await end_connection(db, await policy.own_connection(db, current_viewer(request), connection_id))
    return Redirect("/people", status_code=303)


# ----- what a person shares -------------------------------------------------------------------


def _part(key: str) -> Any:
    """The registry entry a staff address names; 404 for anything else."""
    if key not in parts.BY_KEY:
        raise NotFoundException()
    return parts.BY_KEY[key]


@get("/{connection_id:str}/{part:str}", name="shared_part")
async def shared_part(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], connection_id: FromPath[str],
                      part: FromPath[str]) -> Template:
    entry, viewer, number = _part(part), current_viewer(request), page_number(request)
    link = await policy.shared_with_me(db, viewer, connection_id, entry)
    items, has_next, context = await entry.staff_list(db, viewer, link.connection.survivor_id, request, number)
    return page(request, "people/part.html", title=_("My people"), link=link, part=entry, parts=parts.labels(),
                items=items, has_next=has_next, page_number=number, local=local,
                base=f"/people/{link.connection.id}/{entry.key}", **context)


@get("/{connection_id:str}/{part:str}/{item_id:str}", name="shared_item")
async def shared_item(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], connection_id: FromPath[str],
                      part: FromPath[str], item_id: FromPath[str]) -> Template:
    entry, viewer = _part(part), current_viewer(request)
    link = await policy.shared_with_me(db, viewer, connection_id, entry)
    item = await policy.readable(db, viewer, entry, item_id, owner_id=link.connection.survivor_id)
    return page(request, "people/item.html", title=_("My people"), link=link, part=entry, item=item, local=local,
                base=f"/people/{link.connection.id}/{entry.key}", **await entry.staff_item(db, viewer, item))


# The part is a path parameter here too: a fixed "documents" segment would shadow the item pages above.
@get("/{connection_id:str}/{part:str}/{item_id:str}/download", name="shared_download")
async def shared_download(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                          connection_id: FromPath[str], part: FromPath[str], item_id: FromPath[str]) -> Response[Any]:
    if part != documents.PART.key:
        raise NotFoundException()
    viewer = current_viewer(request)
    link = await policy.shared_with_me(db, viewer, connection_id, documents.PART)
    item = await policy.readable(db, viewer, documents.PART, item_id, action="download",
                                 owner_id=link.connection.survivor_id)
    return file_response(request, item)


# A photo or PDF of a journal entry shared with this staff member: read through the entry (a look is logged).
@get("/{connection_id:str}/{part:str}/{item_id:str}/files/{file_id:str}", name="shared_journal_file")
async def shared_journal_file(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                              connection_id: FromPath[str], part: FromPath[str], item_id: FromPath[str],
                              file_id: FromPath[str]) -> Response[Any]:
    if part != journal.PART.key:
        raise NotFoundException()
    viewer = current_viewer(request)
    link = await policy.shared_with_me(db, viewer, connection_id, journal.PART)
    entry = await policy.readable(db, viewer, journal.PART, item_id, action="download",
                                  owner_id=link.connection.survivor_id)
    return await journal.file_download(request, db, entry, file_id)


router = Router(
    path="/people",
    guards=[staff_only],
    route_handlers=[my_people, show_code, person, ask, end, shared_part, shared_item, shared_download,
                    shared_journal_file],
)
