"""Journal: dated entries of what happened, in the survivor's own words, for a lawyer or a protection order.

An entry says when it happened (which may differ from when it was written; a time if known), what happened
and where, and may keep photos or PDFs, encrypted in chunks like documents (`portal.uploads`,
`portal.storage`). An entry is never silently rewritten: saving a change keeps the earlier words as a
`JournalVersion`, shown under the entry to the survivor and to anyone it is shared with, so the record can be
trusted. Every read and change goes through `portal.policy` (an entry's versions and files are read only for an
entry the policy has just returned); titles stay "Waypoint - Journal"; ids are opaque; a downloaded file is
named neutrally ("file.pdf").
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template
from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import policy, shares
from portal.crypto import ChunkError, DocumentKeyError, open_chunk
from portal.dates import clock, day, parse_date
from portal.documents import keep_token, file_messages, size_label, spool_dir, today_for
from portal.forms import form_value, page_number, text_errors
from portal.i18n import _
from portal.middleware import csrf_checker
from portal.models import JournalEntry, JournalFile, JournalVersion, utcnow
from portal.storage import MissingChunk
from portal.survivor_part import SurvivorPart
from portal.timezones import local
from portal.uploads import EXTENSIONS, Refused, SealedFile, name_from_file, receive_files
from portal.viewer import current_viewer, survivor_only, Viewer
from portal.web import ask_before_delete, card, page, Services, services_of

log = logging.getLogger("portal")

PER_PAGE = 20
WHAT_MAX = 8000
PLACE_MAX = 300
FILE_NAME_MAX = 200
MAX_FILES = 5  # photos or PDFs sent at once, each up to the documents' size limit
MAX_ENTRY_FILES = 20  # photos or PDFs one entry keeps in all
YEARS_BACK = 80  # what happened may be long ago


def happened(item: JournalEntry | JournalVersion) -> str:
    """When it happened, as people read it: "Dec 5, 2026" or "Dec 5, 2026, 14:30"."""
    if not item.happened_time:
        return day(item.happened_on)
    try:
        at = time.fromisoformat(item.happened_time)
    except ValueError:
        return day(item.happened_on)
    return _("{day}, {time}").format(day=day(item.happened_on), time=clock(datetime.combine(item.happened_on, at)))


# ----- the form -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    happened_on: date
    happened_time: str
    what: str
    place: str


def words_of(item: JournalEntry | JournalVersion) -> Words:
    return Words(item.happened_on, item.happened_time, item.what, item.place)


def _read_fields(fields: Any, zone: str) -> tuple[dict[str, str], dict[str, str], Words | None]:
    values = {
        "happened_on": form_value(fields, "happened_on", 20).strip(),
        "happened_time": form_value(fields, "happened_time", 20).strip(),
        "what": form_value(fields, "what", WHAT_MAX * 4).strip(),
        "place": form_value(fields, "place", PLACE_MAX * 4).strip(),
    }
    errors = text_errors(values, {"what": (WHAT_MAX, _("Write what happened, in your own words.")),
                                  "place": (PLACE_MAX, "")})
    happened_on, problem = parse_date(values["happened_on"], YEARS_BACK, 0)
    if problem:
        errors["happened_on"] = problem
    elif happened_on is None:
        errors["happened_on"] = _("Enter the day it happened. If you are not sure, choose the closest day.")
    elif happened_on > today_for(zone):
        errors["happened_on"] = _("This day has not come yet. Choose the day it happened.")
    if values["happened_time"]:
        try:
            values["happened_time"] = time.fromisoformat(values["happened_time"]).strftime("%H:%M")
        except ValueError:
            errors["happened_time"] = _("Enter a time like 14:30, or leave it empty.")
    if errors or happened_on is None:
        return values, errors, None
    return values, errors, Words(happened_on, values["happened_time"], values["what"], values["place"])


def _form_page(request: Request[Any, Any, Any], item: JournalEntry | None, values: dict[str, str],
               errors: dict[str, str], status_code: int = 200) -> Template:
    viewer = current_viewer(request)
    return page(request, "journal/form.html", title=_("Journal"), item=item, values=values, errors=errors,
                limit_mb=services_of(request).config.upload_max_mb, max_files=MAX_FILES,
                today=today_for(viewer.time_zone), zone=viewer.time_zone, status_code=status_code)


def _file_messages(limit_mb: int) -> dict[str, str]:
    return {**file_messages(limit_mb),
            "too_many": _("You can add up to {n} files at a time.").format(n=MAX_FILES)}


# ----- what an entry holds besides its own words ------------------------------------------------


async def versions_of(db: AsyncSession, entry: JournalEntry) -> list[JournalVersion]:
    """An entry's earlier versions, the most recently replaced first (for an entry the policy returned)."""
    return list((await db.exec(
        select(JournalVersion).where(col(JournalVersion.entry_id) == entry.id)
        .order_by(col(JournalVersion.replaced_at).desc(), col(JournalVersion.id))
    )).all())


async def files_of(db: AsyncSession, entry: JournalEntry) -> list[JournalFile]:
    """An entry's photos and PDFs, oldest first (for an entry the policy returned)."""
    return list((await db.exec(
        select(JournalFile).where(col(JournalFile.entry_id) == entry.id)
        .order_by(col(JournalFile.created_at), col(JournalFile.id))
    )).all())


async def file_of(db: AsyncSession, entry: JournalEntry, file_id: str) -> JournalFile:
    """One of an entry's files (for an entry the policy returned); 404 for any other."""
    if not file_id or len(file_id) > policy.MAX_ID_LENGTH:
        raise NotFoundException()
    found = (await db.exec(
        select(JournalFile).where(col(JournalFile.entry_id) == entry.id, col(JournalFile.id) == file_id)
    )).first()
    if found is None:
        raise NotFoundException()
    return found


async def _details(db: AsyncSession, entry: JournalEntry) -> dict[str, Any]:
    return {"versions": await versions_of(db, entry), "files": await files_of(db, entry), "happened": happened,
            "size_label": size_label}


# ----- pages ----------------------------------------------------------------------------------


ORDER = [col(JournalEntry.happened_on).desc(), col(JournalEntry.happened_time).desc(),
         col(JournalEntry.created_at).desc()]


async def entries_of(db: AsyncSession, viewer: Viewer, owner_id: int, number: int = 1) -> tuple[list[Any], bool]:
    """A page of `owner_id`'s entries that `viewer` may see, the latest to have happened first."""
    return await policy.shown(db, viewer, LATEST_FIRST, owner_id, page=number, per_page=PER_PAGE)


@get("/", name="journal")
async def index(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    number = page_number(request)
    items, has_next = await entries_of(db, viewer, viewer.user_id, number)
    return page(request, "journal/list.html", title=_("Journal"), items=items, page_number=number, has_next=has_next,
                seen=await shares.seen_by(db, viewer.user_id, PART), happened=happened, local=local)


@get("/new", name="new_journal_entry")
async def new(request: Request[Any, Any, Any]) -> Template:
    return _form_page(request, None, {}, {})


# The CSRF middleware would read the whole body before the handler; this handler checks the token
# itself, as the body streams in, before it accepts any of the files (as Documents does).
@post("/", opt={"exclude_from_csrf": True}, request_max_body_size=None)
async def create(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    viewer = current_viewer(request)
    services = services_of(request)
    limit_mb = services.config.upload_max_mb
    try:
        fields, sealed = await receive_files(request, services.master_key, limit_mb * 1024 * 1024,
                                             spool_dir(services), csrf_checker(request), MAX_FILES)
    except Refused as refused:
        if refused.field == "csrf":
            raise PermissionDeniedException() from refused
        keep_token(request)
        values, errors, _words = _read_fields(refused.fields, viewer.time_zone)
        errors["file"] = _file_messages(limit_mb)[refused.reason]
        return _form_page(request, None, values, errors, refused.status)
    keep_token(request)
    try:
        values, errors, words = _read_fields(fields, viewer.time_zone)
        if words is None:
            if sealed:
                errors["file"] = _("Choose the files again: for your safety they were not kept.")
            return _form_page(request, None, values, errors, 400)
        entry = JournalEntry(owner_id=viewer.user_id, happened_on=words.happened_on,
                             happened_time=words.happened_time, what=words.what, place=words.place)
        db.add(entry)
        await db.flush()
        await _keep_files(db, services, entry, sealed)
    finally:
        for each in sealed:
            each.discard()
    return Redirect(f"/journal/{entry.id}?saved=1", status_code=303)


async def _keep_files(db: AsyncSession, services: Services, entry: JournalEntry, sealed: list[SealedFile]) -> None:
    """Store each sealed file's chunks and its row, in the request's transaction (all or nothing)."""
    for each in sealed:
        await services.storage.write(db, each.storage_key, each.chunks())
        db.add(JournalFile(entry_id=entry.id, name=name_from_file(each.filename, FILE_NAME_MAX),
                           media_type=each.media_type, size=each.size, storage_key=each.storage_key,
                           wrapped_key=each.wrapped_key, key_id=each.key_id, chunk_count=len(each.lengths)))
    await db.flush()


async def _entry_page(request: Request[Any, Any, Any], db: AsyncSession, item: JournalEntry, *,
                      file_error: str = "", status_code: int = 200) -> Template:
    return page(request, "journal/detail.html", title=_("Journal"), item=item,
                saved=request.query_params.get("saved") == "1", added=request.query_params.get("added") == "1",
                file_error=file_error, limit_mb=services_of(request).config.upload_max_mb, max_files=MAX_FILES,
                status_code=status_code, **await shares.item_sharing(request, db, PART, item),
                **await _details(db, item))


@get("/{item_id:str}", name="journal_entry")
async def show(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str]) -> Template:
    return await _entry_page(request, db, await policy.readable(db, current_viewer(request), PART, item_id))


# More photos or PDFs for an entry already written (each is shown with the day it was added). Like the
# new-entry form, this handler checks the CSRF token itself as the body streams in.
@post("/{item_id:str}/files", opt={"exclude_from_csrf": True}, request_max_body_size=None)
async def add_files(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                    item_id: FromPath[str]) -> Response[Any]:
    # The token is checked first, as the body streams in (a request without it is refused before anything is
    # looked up); the entry is looked up next, and the files sealed meanwhile are thrown away if it is not theirs.
    services = services_of(request)
    limit_mb = services.config.upload_max_mb
    try:
        _fields, sealed = await receive_files(request, services.master_key, limit_mb * 1024 * 1024,
                                              spool_dir(services), csrf_checker(request), MAX_FILES)
    except Refused as refused:
        if refused.field == "csrf":
            raise PermissionDeniedException() from refused
        keep_token(request)
        item = await policy.changeable(db, current_viewer(request), PART, item_id)
        return await _entry_page(request, db, item, file_error=_file_messages(limit_mb)[refused.reason],
                                 status_code=refused.status)
    keep_token(request)
    try:
        item = await policy.changeable(db, current_viewer(request), PART, item_id)
        problem = ""
        if not sealed:
            problem = _("Choose a photo or a PDF to add.")
        elif len(await files_of(db, item)) + len(sealed) > MAX_ENTRY_FILES:
            problem = _("An entry can keep up to {n} files.").format(n=MAX_ENTRY_FILES)
        if problem:
            return await _entry_page(request, db, item, file_error=problem, status_code=400)
        await _keep_files(db, services, item, sealed)
    finally:
        for each in sealed:
            each.discard()
    return Redirect(f"/journal/{item.id}?added=1#files", status_code=303)


@get("/{item_id:str}/card")
async def show_card(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                    item_id: FromPath[str]) -> Response[Any]:
    item = await policy.readable(db, current_viewer(request), PART, item_id)
    return card(request, "journal/_card.html", f"/journal/{item.id}", item=item, happened=happened, local=local)


@get("/{item_id:str}/edit")
async def edit(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str]) -> Template:
    item = await policy.changeable(db, current_viewer(request), PART, item_id)
    values = {"happened_on": item.happened_on.isoformat(), "happened_time": item.happened_time, "what": item.what,
              "place": item.place}
    return _form_page(request, item, values, {})


@post("/{item_id:str}/edit")
async def update(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 item_id: FromPath[str]) -> Response[Any]:
    viewer = current_viewer(request)
    item = await policy.changeable(db, viewer, PART, item_id)
    values, errors, words = _read_fields(await request.form(), viewer.time_zone)
    if words is None:
        return _form_page(request, item, values, errors, 400)
    # The entry's row lock, and its words read again under it: two saves at once (two tabs, a double tap) run
    # one after the other, and the second keeps the first's words as a version instead of losing them.
    await db.refresh(item, with_for_update=True)
    if words != words_of(item):
        # The earlier words are kept, with when they were written and when they were replaced.
        now = utcnow()
        db.add(JournalVersion(entry_id=item.id, happened_on=item.happened_on, happened_time=item.happened_time,
                              what=item.what, place=item.place, written_at=item.changed_at or item.created_at,
                              replaced_at=now))
        item.happened_on, item.happened_time, item.what, item.place = (words.happened_on, words.happened_time,
                                                                       words.what, words.place)
        item.changed_at = now
        db.add(item)
    return Redirect(f"/journal/{item.id}", status_code=303)


@get("/{item_id:str}/delete")
async def confirm_delete(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                         item_id: FromPath[str]) -> Template:
    item = await policy.changeable(db, current_viewer(request), PART, item_id)
    return ask_before_delete(
        request, title=_("Journal"), heading=_("Delete this entry?"), item_id=item.id, list_href="/journal",
        message=_("Your entry about {date} will be gone for good, with its earlier versions and its files. "
                  "This cannot be undone.").format(date=happened(item)),
    )


@post("/{item_id:str}/delete")
async def remove(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 item_id: FromPath[str]) -> Response[Any]:
    async def files_and_versions_go(item: JournalEntry) -> None:
        storage = services_of(request).storage
        for each in await files_of(db, item):
            await storage.delete(db, each.storage_key)
        await db.exec(delete(JournalFile).where(col(JournalFile.entry_id) == item.id))
        await db.exec(delete(JournalVersion).where(col(JournalVersion.entry_id) == item.id))

    return await shares.remove_item(request, db, PART, item_id, _("Entry deleted."), before=files_and_versions_go)


@post("/{item_id:str}/private")
async def mark_private(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                       item_id: FromPath[str]) -> Response[Any]:
    return await shares.set_private(request, db, PART, item_id)


@get("/{item_id:str}/files/{file_id:str}", name="journal_file")
async def download(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str],
                   file_id: FromPath[str]) -> Response[Any]:
    item = await policy.readable(db, current_viewer(request), PART, item_id, action="download")
    return await file_download(request, db, item, file_id)


async def file_download(request: Request[Any, Any, Any], db: AsyncSession, entry: JournalEntry,
                        file_id: str) -> Response[Any]:
    """One file of an entry the policy has already allowed, decrypted and streamed chunk by chunk."""
    item = await file_of(db, entry, file_id)
    services = services_of(request)
    try:
        key = services.master_key.open_document_key(item.wrapped_key, item.storage_key, item.key_id)
    except DocumentKeyError:
        log.error("journal file %s cannot be opened: its key was wrapped by another master key, or altered", item.id)
        # Back to the entry the file belongs to, on the survivor's own pages or on the caseworker's.
        return page(request, "journal/unreadable.html", title=_("Journal"), status_code=500,
                    back=request.url.path.rsplit("/files/", 1)[0])
    return Stream(
        _plaintext(services, item, key),
        media_type=item.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="file.{EXTENSIONS.get(item.media_type, "bin")}"',
            "Content-Length": str(item.size),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def plaintext(services: Services, item: JournalFile) -> AsyncIterator[bytes]:
    """A file's bytes, opened a chunk at a time (for the export)."""
    key = services.master_key.open_document_key(item.wrapped_key, item.storage_key, item.key_id)
    async for piece in _plaintext(services, item, key):
        yield piece


async def _plaintext(services: Services, item: JournalFile, key: bytes) -> AsyncIterator[bytes]:
    last = item.chunk_count - 1
    position = 0
    try:
        async for sealed in services.storage.read(item.storage_key, item.chunk_count):
            yield open_chunk(key, item.storage_key, position, position == last, sealed)
            position += 1
    except (ChunkError, MissingChunk):
        log.error("journal file %s: chunk %d does not open", item.id, position)
        raise


router = Router(
    path="/journal",
    guards=[survivor_only],
    route_handlers=[index, new, create, show, show_card, mark_private, edit, update, confirm_delete, remove,
                    download, add_files],
)


# ----- the registry entry: how the rest of the portal knows the journal ----------------------------


async def _staff_list(db: AsyncSession, viewer: Viewer, owner_id: int, request: Request[Any, Any, Any],
                      number: int) -> tuple[list[Any], bool, dict[str, Any]]:
    items, has_next = await entries_of(db, viewer, owner_id, number)
    return items, has_next, {"happened": happened}


async def _staff_item(db: AsyncSession, viewer: Viewer, item: JournalEntry) -> dict[str, Any]:
    return await _details(db, item)


def export_name(entry: JournalEntry, item: JournalFile) -> str:
    """Where the export keeps one of an entry's files."""
    return f"journal/{entry.id}/{item.id}.{EXTENSIONS.get(item.media_type, 'bin')}"


async def _export_more(db: AsyncSession, item: JournalEntry) -> dict[str, Any]:
    versions = [{name: value for name, value in version.model_dump().items() if name not in {"id", "entry_id"}}
                for version in await versions_of(db, item)]
    files = [{"name": each.name, "media_type": each.media_type, "size": each.size, "created_at": each.created_at,
              "file": export_name(item, each)} for each in await files_of(db, item)]
    return {"earlier_versions": versions, "files": files}


PART = SurvivorPart(
    key="journal", model=JournalEntry, path="/journal", router=router, label=lambda: _("Journal"),
    phrase=lambda: _("your journal"), title="happened_on", notes=None, staff_list=_staff_list,
    staff_item=_staff_item, list_template="journal/_shared_card.html", item_template="journal/_shared_item.html",
    export_about=lambda: _("your journal entries, each with its earlier versions; their files are in journal/"),
    export_extra=_export_more,
)

LATEST_FIRST = policy.Listing(PART, order_by=ORDER)  # the latest to have happened first
