"""Documents: photos and PDFs of a survivor's papers, encrypted at rest, downloaded only by them.

Uploads stream in through `portal.uploads` (kind judged by content, size limited as it arrives,
sealed chunk by chunk); the chunks and the row are stored together in one transaction through
`portal.storage`. Downloads stream the chunks back, opened one at a time. Every read and change
goes through `portal.policy`; titles stay "Waypoint - Documents" (or the name the person chose);
ids are opaque; the file name a phone saves is neutral ("document.pdf"), because a downloads list
is easy to see.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template
from litestar.utils.scope.state import ScopeState
from sqlalchemy import bindparam
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import policy, reminder_times, shares
from portal.crypto import ChunkError, DocumentKeyError, open_chunk
from portal.dates import parse_date, year_span
from portal.i18n import _
from portal.survivor_part import Summary, SurvivorPart
from portal.models import Document, DocumentKind, utcnow
from portal.storage import MissingChunk
from portal.timezones import local
from portal.uploads import EXTENSIONS, Refused, SealedFile, name_from_file, receive
from portal.forms import form_value, page_number, text_errors
from portal.middleware import csrf_checker
from portal.viewer import current_viewer, survivor_only, Viewer
from portal.web import ask_before_delete, card, page, Services, services_of

log = logging.getLogger("portal")

PER_PAGE = 20
NAME_MAX = 200
EXPIRING_DAYS = 60
EXPIRY_SPAN = (20, 50)  # papers may have expired long ago, or last decades


def kind_labels() -> dict[str, str]:
    return {
        DocumentKind.ID: _("ID"), DocumentKind.IMMIGRATION: _("Immigration"), DocumentKind.LEGAL: _("Legal"),
        DocumentKind.MEDICAL: _("Medical"), DocumentKind.HOUSING: _("Housing"), DocumentKind.WORK: _("Work"),
        DocumentKind.EDUCATION: _("Education"), DocumentKind.OTHER: _("Other"),
    }


def file_messages(limit_mb: int) -> dict[str, str]:
    return {
        "too_big": _("This file is larger than {limit} MB. Choose a smaller file, or a photo at a lower size.").format(
            limit=limit_mb),
        "kind": _("This kind of file cannot be kept here. Choose a PDF or a photo (JPEG, PNG, WebP or HEIC)."),
        "empty": _("This file is empty. Choose another file."),
        "missing": _("Choose a file to upload."),
        "form": _("The upload did not arrive whole. Please choose the file and try again."),
        "disconnected": _("The upload did not arrive whole. Please choose the file and try again."),
    }


def size_label(size: int) -> str:
    if size < 1024 * 1024:
        return _("{n} KB").format(n=max(1, round(size / 1024)))
    return _("{n} MB").format(n=f"{size / (1024 * 1024):.1f}")


def today_for(zone: str) -> date:
    return local(utcnow(), zone).date()


def expiry(item: Document, today: date) -> str:
    """'expired', 'soon' (within 60 days) or ''."""
    if item.expires_on is None:
        return ""
    if item.expires_on < today:
        return "expired"
    return "soon" if item.expires_on <= today + timedelta(days=EXPIRING_DAYS) else ""


# ----- the form -------------------------------------------------------------------------------


def _read_fields(fields: dict[str, str],
                 sealed: SealedFile | None) -> tuple[dict[str, str], dict[str, str], date | None]:
    values = {
        "name": form_value(fields, "name", NAME_MAX * 4).strip(),
        "kind": form_value(fields, "kind", 20),
        "expires_on": form_value(fields, "expires_on", 20).strip(),
    }
    if not values["name"] and sealed is not None:
        values["name"] = name_from_file(sealed.filename, NAME_MAX)
    errors = text_errors(values, {"name": (NAME_MAX, _("Give the document a name, like “Passport”."))})
    if values["kind"] not in [kind.value for kind in DocumentKind]:
        errors["kind"] = _("Choose a type.")
    expires_on, problem = parse_date(values["expires_on"], *EXPIRY_SPAN)
    if problem:
        errors["expires_on"] = problem
    return values, errors, expires_on


def _form_page(request: Request[Any, Any, Any], item: Document | None, values: dict[str, str], errors: dict[str, str],
               status_code: int = 200) -> Template:
    limit_mb = services_of(request).config.upload_max_mb
    return page(request, "documents/form.html", title=_("Documents"), item=item, values=values, errors=errors,
                kinds=kind_labels(), limit_mb=limit_mb, span=year_span(*EXPIRY_SPAN), status_code=status_code)


# ----- lists and one document -----------------------------------------------------------------


async def documents_of(db: AsyncSession, viewer: Viewer, owner_id: int, number: int = 1) -> tuple[list[Any], bool]:
    """A page of `owner_id`'s documents that `viewer` may see, newest first."""
    return await policy.shown(db, viewer, NEWEST_FIRST, owner_id, page=number, per_page=PER_PAGE)


@get("/", name="documents")
async def index(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    number = page_number(request)
    items, has_next = await documents_of(db, viewer, viewer.user_id, number)
    return page(request, "documents/list.html", title=_("Documents"), items=items, page_number=number,
                seen=await shares.seen_by(db, viewer.user_id, PART),
                has_next=has_next, kinds=kind_labels(), expiry=expiry, today=today_for(viewer.time_zone),
                size_label=size_label)


@get("/new", name="new_document")
async def new(request: Request[Any, Any, Any]) -> Template:
    return _form_page(request, None, {"kind": ""}, {})


# The CSRF middleware would read the whole body before the handler; this handler checks the token
# itself, as the body streams in, before it accepts any of the file.
@post("/", opt={"exclude_from_csrf": True}, request_max_body_size=None)
async def create(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    viewer = current_viewer(request)
    services = services_of(request)
    settings = services.config
    messages = file_messages(settings.upload_max_mb)
    try:
        fields, sealed = await receive(request, services.master_key, settings.upload_max_mb * 1024 * 1024,
                                       spool_dir(services), csrf_checker(request))
    except Refused as refused:
        if refused.field == "csrf":
            raise PermissionDeniedException() from refused
        keep_token(request)
        values, errors, _expires_on = _read_fields(refused.fields, None)
        if not values["name"]:
            errors.pop("name", None)  # an empty name was going to come from the file
        errors["file"] = messages[refused.reason]
        return _form_page(request, None, values, errors, refused.status)
    keep_token(request)
    try:
        values, errors, expires_on = _read_fields(fields, sealed)
        if sealed is None:
            errors["file"] = messages["missing"]
        elif errors:
            errors["file"] = _("Choose the file again: for your safety it was not kept.")
        if errors or sealed is None:
            return _form_page(request, None, values, errors, 400)
        item = Document(
            owner_id=viewer.user_id, name=values["name"], kind=values["kind"], expires_on=expires_on,
            media_type=sealed.media_type, size=sealed.size, storage_key=sealed.storage_key,
            wrapped_key=sealed.wrapped_key, key_id=sealed.key_id, chunk_count=len(sealed.lengths),
            warn_at=reminder_times.document_warn_at(expires_on, viewer.time_zone, utcnow()),
        )
        await services.storage.write(db, sealed.storage_key, sealed.chunks())
        db.add(item)
        await db.flush()
    finally:
        if sealed is not None:
            sealed.discard()
    return Redirect(f"/documents/{item.id}", status_code=303)


def keep_token(request: Request[Any, Any, Any]) -> None:
    """Give the form shown again after a refusal this browser's CSRF token. The upload is left out of
    the CSRF middleware (it checks the token itself, as the body streams in), so the middleware never
    put the token where templates read it: the form came back with an empty token, and the corrected
    upload was refused as out of date. The token is the browser's own cookie, checked first."""
    state = ScopeState.from_scope(request.scope)
    cookie = request.cookies.get(services_of(request).csrf.cookie_name, "")
    if csrf_checker(request)(cookie):
        state.csrf_token = cookie


@get("/{item_id:str}", name="document")
async def show(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str]) -> Template:
    viewer = current_viewer(request)
    item = await policy.readable(db, viewer, PART, item_id)
    return page(request, "documents/detail.html", title=_("Documents"), item=item, kinds=kind_labels(),
                **await shares.item_sharing(request, db, PART, item),
                state=expiry(item, today_for(viewer.time_zone)), size_label=size_label)


@get("/{item_id:str}/card")
async def show_card(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                        item_id: FromPath[str]) -> Response[Any]:
    viewer = current_viewer(request)
    item = await policy.readable(db, viewer, PART, item_id)
    return card(request, "documents/_card.html", f"/documents/{item.id}", item=item, kinds=kind_labels(),
                size_label=size_label, expiry=expiry, today=today_for(viewer.time_zone))


@get("/{item_id:str}/edit")
async def edit(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str]) -> Template:
    item = await policy.changeable(db, current_viewer(request), PART, item_id)
    values = {"name": item.name, "kind": item.kind,
              "expires_on": item.expires_on.isoformat() if item.expires_on else ""}
    return _form_page(request, item, values, {})


@post("/{item_id:str}/edit")
async def update(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 item_id: FromPath[str]) -> Response[Any]:
    viewer = current_viewer(request)
    item = await policy.changeable(db, viewer, PART, item_id)
    values, errors, expires_on = _read_fields(dict(await request.form()), None)
    if errors:
        return _form_page(request, item, values, errors, 400)
    item.name, item.kind, item.expires_on = values["name"], values["kind"], expires_on
    item.warn_at = reminder_times.document_warn_at(expires_on, viewer.time_zone, utcnow())
    db.add(item)
    return Redirect(f"/documents/{item.id}", status_code=303)


@get("/{item_id:str}/delete")
async def confirm_delete(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                         item_id: FromPath[str]) -> Template:
    item = await policy.changeable(db, current_viewer(request), PART, item_id)
    return ask_before_delete(
        request, title=_("Documents"), heading=_("Delete this document?"), item_id=item.id, list_href="/documents",
        message=_("“{name}” will be gone for good, with its file. This cannot be undone.").format(name=item.name),
    )


@post("/{item_id:str}/delete")
async def remove(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 item_id: FromPath[str]) -> Response[Any]:
    async def file_goes(item: Document) -> None:
        await services_of(request).storage.delete(db, item.storage_key)

    return await shares.remove_item(request, db, PART, item_id, _("Document deleted."), before=file_goes)


@get("/{item_id:str}/download", name="download_document")
async def download(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                   item_id: FromPath[str]) -> Response[Any]:
    return file_response(request, await policy.readable(db, current_viewer(request), PART, item_id, action="download"))


def file_response(request: Request[Any, Any, Any], item: Document) -> Response[Any]:
    """The decrypted file, streamed chunk by chunk, for a document the policy has already allowed."""
    services = services_of(request)
    try:
        key = services.master_key.open_document_key(item.wrapped_key, item.storage_key, item.key_id)
    except DocumentKeyError:
        log.error("document %s cannot be opened: its key was wrapped by another master key, or altered", item.id)
        return page(request, "documents/unreadable.html", title=_("Documents"), item=item, status_code=500)
    return Stream(
        _plaintext(services, item, key),
        media_type=item.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="document.{EXTENSIONS.get(item.media_type, "bin")}"',
            "Content-Length": str(item.size),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _plaintext(services: Services, item: Document, key: bytes) -> AsyncIterator[bytes]:
    last = item.chunk_count - 1
    position = 0
    try:
        async for sealed in services.storage.read(item.storage_key, item.chunk_count):
            yield open_chunk(key, item.storage_key, position, position == last, sealed)
            position += 1
    except (ChunkError, MissingChunk):
        # The headers are gone already; the short body tells the browser the download failed.
        log.error("document %s: chunk %d does not open", item.id, position)
        raise


# ----- start-up -------------------------------------------------------------------------------


def spool_dir(services: Services) -> Path:
    return services.config.data_dir / "uploads"


async def start_up(services: Services) -> None:
    """Make the folder for sealed uploads in progress, and remove chunks no document owns."""
    spool_dir(services).mkdir(parents=True, exist_ok=True, mode=0o700)
    removed = await services.storage.remove_orphans()
    if removed:
        log.warning("removed %d document chunks that no document owned", removed)


@post("/{item_id:str}/private")
async def mark_private(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                           item_id: FromPath[str]) -> Response[Any]:
    return await shares.set_private(request, db, PART, item_id)


router = Router(
    path="/documents",
    guards=[survivor_only],
    route_handlers=[index, new, create, show, show_card, mark_private, edit, update,
                    confirm_delete, remove, download],
)


# ----- the registry entry: how the rest of the portal knows documents ------------------------------


async def _staff_list(db: AsyncSession, viewer: Viewer, owner_id: int, request: Request[Any, Any, Any],
                      number: int) -> tuple[list[Any], bool, dict[str, Any]]:
    items, has_next = await documents_of(db, viewer, owner_id, number)
    return items, has_next, {"kinds": kind_labels(), "size_label": size_label, "expiry": expiry,
                             "today": today_for(viewer.time_zone)}


async def _staff_item(db: AsyncSession, viewer: Viewer, item: Document) -> dict[str, Any]:
    return {"kinds": kind_labels(), "size_label": size_label, "state": expiry(item, today_for(viewer.time_zone))}


async def _export_file(db: AsyncSession, item: Document) -> dict[str, Any]:
    return {"file": export_name(item)}


def export_name(item: Document) -> str:
    """Where the export keeps the document's file."""
    return f"documents/{item.id}.{EXTENSIONS.get(item.media_type, 'bin')}"


PART = SurvivorPart(
    key="documents", model=Document, path="/documents", router=router, label=lambda: _("Documents"),
    phrase=lambda: _("your documents"),
    title="name", notes=None, staff_list=_staff_list, staff_item=_staff_item,
    list_template="documents/_shared_card.html",
    item_template="documents/_shared_item.html",
    export_about=lambda: _("your documents' names, types and dates; the files are in documents/"),
    export_extra=_export_file,
)

NEWEST_FIRST = policy.Listing(PART, order_by=[col(Document.created_at).desc()])


# The viewer's own documents expired or expiring within 60 days, soonest first (a few), with how many in all, for
# Home.
EXPIRING_SUMMARY = Summary(
    PART, "document", {"id": Document.id, "private": Document.private, "day": Document.expires_on,
                       "title": Document.name},
    where=(col(Document.expires_on) <= bindparam("documents_soon"),), order_by=(col(Document.expires_on),), limit=3,
    counted=True, names={"expires_on": "day", "name": "title", "total": "total"},
    params=lambda viewer: {"documents_soon": today_for(viewer.time_zone) + timedelta(days=EXPIRING_DAYS)})
