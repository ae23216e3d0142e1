"""Export my data: one ZIP of everything about the survivor, readable JSON and the documents themselves.

The ZIP is written while it is sent: rows are read a batch at a time and documents are decrypted a chunk
at a time into the stream, so memory stays flat however large the account is. Asking for it needs the
password again, since it is everything at once.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime
from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.response import Stream
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.account import password_refusal
from portal.settings_page import section_page
from portal import documents, journal, parts, policy
from portal.crypto import open_chunk
from portal.dates import day
from portal.disguise import brand_of
from portal.i18n import _
from portal.survivor_part import SurvivorPart
from portal.models import utcnow
from portal.links import person_label
from portal.timezones import local
from portal.forms import form_value
from portal.viewer import current_viewer, survivor_only, Viewer
from portal.web import Services, services_of

log = logging.getLogger("portal")

# Fields that are the portal's own machinery, not the person's data.
HIDDEN = {"owner_id", "storage_key", "wrapped_key", "key_id", "chunk_count", "remind_at", "warn_at", "steps_total",
          "steps_done"}


class _Sink(io.RawIOBase):
    """Where zipfile writes: the bytes wait here until the response takes them."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _deep(value: Any) -> Any:
    """A value for JSON: dates as ISO text, in lists and dicts too."""
    if isinstance(value, list):
        return [_deep(each) for each in value]
    if isinstance(value, dict):
        return {name: _deep(each) for name, each in value.items()}
    return _plain(value)


def _record(row: SQLModel, **extra: Any) -> dict[str, Any]:
    return {**{name: _plain(value) for name, value in row.model_dump().items() if name not in HIDDEN}, **extra}


def readme(name: str, when: str) -> str:
    """The export's README: what each file holds (one line for each part in the registry)."""
    files = [(part.export_file, part.export_about()) for part in parts.PARTS] + [
        ("messages.json", _("your messages with peer mentors")),
        ("sharing.json",
         _("who you connected with, what you shared with them and until when, and what they asked for")),
        ("who_has_looked.json", _("every time someone else looked at something of yours")),
        ("feedback.json", _("what you told organisations about how their help feels")),
    ]
    lines = "\n".join(f"{file:<20}{about}" if len(file) < 20 else f"{file} {about}" for file, about in files)
    intro = _("Your {name} data, exported {when}.").format(name=name, when=when)
    keep = _("Keep this file somewhere safe: it holds everything in your account, unencrypted.")
    return f"{intro}\n\n{lines}\n\n{keep}\n"


async def _json_array(archive: zipfile.ZipFile, sink: _Sink, name: str,
                      rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    with archive.open(name, "w") as entry:
        entry.write(b"[\n")
        first = True
        async for row in rows:
            entry.write((b"" if first else b",\n") + json.dumps(row, ensure_ascii=False, indent=1).encode())
            first = False
            if sink.parts:
                yield sink.take()
        entry.write(b"\n]\n")
    yield sink.take()


async def _mapped(rows: AsyncIterator[Any], convert: Callable[[Any], Any]) -> AsyncIterator[dict[str, Any]]:
    async for row in rows:
        yield await convert(row)


async def archive_stream(factory: async_sessionmaker[AsyncSession], services: Services, viewer: Viewer,
                         name: str = "Waypoint") -> AsyncIterator[bytes]:
    """The ZIP, piece by piece. It reads with its own database session, since it runs after the handler.
    `name` is the app's name as the person chose it, for the README."""
    sink = _Sink()
    async with factory() as db:
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", readme(name, day(datetime.now().astimezone())))

            for part in parts.PARTS:
                async def record(row: Any, part: SurvivorPart[Any] = part) -> dict[str, Any]:
                    extra = await part.export_extra(db, row)
                    return _record(row, **{field: _deep(value) for field, value in extra.items()})

                rows = _mapped(policy.own_rows(db, viewer, part), record)
                async for piece in _json_array(archive, sink, part.export_file, rows):
                    yield piece

            async for row in policy.own_rows(db, viewer, documents.PART):
                key = services.master_key.open_document_key(row.wrapped_key, row.storage_key, row.key_id)
                name = documents.export_name(row)
                with archive.open(zipfile.ZipInfo(name, date_time=row.created_at.timetuple()[:6]), "w") as entry:
                    position, last = 0, row.chunk_count - 1
                    async for sealed in services.storage.read(row.storage_key, row.chunk_count):
                        entry.write(open_chunk(key, row.storage_key, position, position == last, sealed))
                        position += 1
                        yield sink.take()
                yield sink.take()

            # The journal's photos and PDFs, each under its entry, opened a chunk at a time like documents.
            async for written in policy.own_rows(db, viewer, journal.PART):
                for kept in await journal.files_of(db, written):
                    name = journal.export_name(written, kept)
                    with archive.open(zipfile.ZipInfo(name, date_time=kept.created_at.timetuple()[:6]), "w") as file:
                        async for plain in journal.plaintext(services, kept):
                            file.write(plain)
                            yield sink.take()
                    yield sink.take()

            async def messages() -> AsyncIterator[dict[str, Any]]:
                for connection, who in await policy.threads(db, viewer, ended_too=True):
                    mentor = person_label(*who)
                    history = [{"from": "you" if message.sender_id == viewer.user_id else mentor, "text": message.body,
                                "at": _plain(message.created_at)}
                               async for message in policy.thread_history(db, viewer, connection)]
                    yield {"with": mentor, "connected_at": _plain(connection.created_at),
                           "ended_at": _plain(connection.ended_at), "messages": history}

            async for piece in _json_array(archive, sink, "messages.json", messages()):
                yield piece

            async def sharing() -> AsyncIterator[dict[str, Any]]:
                async for connection, (name, role, organisation), cards, asks in policy.sharing_history(db, viewer):
                    yield {"person": name, "role": role, "organisation": organisation,
                           "name_they_saw": connection.survivor_label,
                           "connected_at": _plain(connection.created_at), "ended_at": _plain(connection.ended_at),
                           "share_cards": [_record(card, connection_id=None) for card in cards],
                           "requests": [_record(ask, connection_id=None) for ask in asks]}

            async for piece in _json_array(archive, sink, "sharing.json", sharing()):
                yield piece

            async def looks() -> AsyncIterator[dict[str, Any]]:
                async for row in policy.own_access_log(db, viewer):
                    yield _record(row, survivor_id=None, viewer_id=None)

            async for piece in _json_array(archive, sink, "who_has_looked.json", looks()):
                yield piece

            async def feedback() -> AsyncIterator[dict[str, Any]]:
                for organisation, answer in await policy.own_feedback(db, viewer):
                    yield {"organisation": organisation, "month": answer.month, "rating": answer.rating,
                           "words": answer.words}

            async for piece in _json_array(archive, sink, "feedback.json", feedback()):
                yield piece
    yield sink.take()  # the ZIP's closing directory


@post("/settings/export", guards=[survivor_only], name="export")
async def export(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    viewer = current_viewer(request)
    if refusal := await password_refusal(request, db, viewer, form_value(await request.form(), "export_password", 1000),
                                         _("That password is not right.")):
        return await section_page(request, db, "data", status_code=400, account_errors={"export_password": refusal})
    services = services_of(request)
    log.info("export for user %s", viewer.user_id)
    # Named like any notes app's export, whatever the app is called: a downloads list is easy to see.
    brand = brand_of(request)
    filename = f"notes-export-{local(utcnow(), viewer.time_zone).date().isoformat()}.zip"
    return Stream(
        archive_stream(services.factory, services, viewer, brand.title),
        status_code=200,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store",
                 "X-Content-Type-Options": "nosniff"},
    )


routes = [export]
