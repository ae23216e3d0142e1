"""Appointments: what, when (in the survivor's own time zone, stored in UTC), where, with whom.

Upcoming and past lists, one appointment as an .ics file for the phone's calendar. Every read and
change goes through `portal.policy`; titles stay "Waypoint - Appointments" (or the name the person
chose); ids are opaque. Calendar files are plain unless the person asks for the details.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import bindparam
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import policy, reminder_times, shares
from portal.dates import parse_date, year_span
from portal.i18n import _
from portal.survivor_part import Summary, SurvivorPart
from portal.models import Appointment, Reminder, utcnow
from portal.timezones import local, to_utc
from portal.forms import form_value, page_number, text_errors
from portal.viewer import current_viewer, survivor_only, Viewer
from portal.web import ask_before_delete, card, page

PER_PAGE = 20
DATE_SPAN = (5, 10)  # appointments: from 5 years back (a record) to 10 years ahead
LIMITS = {"what": 200, "place": 200, "with_whom": 200, "notes": 2000}


def reminder_labels() -> dict[str, str]:
    return {Reminder.NONE: _("No reminder"), Reminder.HOUR_BEFORE: _("1 hour before"),
            Reminder.DAY_BEFORE: _("1 day before")}



def _read_form(form: Any, zone: str) -> tuple[dict[str, str], dict[str, str], datetime | None]:
    values = {name: form_value(form, name, limit * 4).strip() for name, limit in LIMITS.items()}
    values["date"] = form_value(form, "date", 20).strip()
    values["time"] = form_value(form, "time", 20).strip()
    values["reminder"] = form_value(form, "reminder", 8) or Reminder.NONE.value
    needed = {"what": _("Say what the appointment is, in a few words.")}
    errors = text_errors(values, {name: (limit, needed.get(name, "")) for name, limit in LIMITS.items()})
    day, problem = parse_date(values["date"], *DATE_SPAN)
    if problem:
        errors["date"] = problem
    elif day is None:
        errors["date"] = _("Enter the date.")
    at: time | None = None
    try:
        at = time.fromisoformat(values["time"]) if values["time"] else None
    except ValueError:
        errors["time"] = _("Enter a time like 14:30.")
    if at is None and "time" not in errors:
        errors["time"] = _("Enter the time.")
    if values["reminder"] not in [r.value for r in Reminder]:
        errors["reminder"] = _("Choose a reminder.")
    starts_at = None
    if day and at and not errors.get("date") and not errors.get("time"):
        starts_at, problem = to_utc(day, at.replace(second=0, microsecond=0, tzinfo=None), zone)
        if problem:
            errors["time"] = problem
    return values, errors, starts_at


def _form_page(request: Request[Any, Any, Any], item: Appointment | None, values: dict[str, str],
               errors: dict[str, str], status_code: int = 200) -> Template:
    return page(request, "appointments/form.html", title=_("Appointments"), item=item, values=values,
                errors=errors, reminders=reminder_labels(), zone=current_viewer(request).time_zone,
                span=year_span(*DATE_SPAN),
                status_code=status_code)


async def appointments_of(db: AsyncSession, viewer: Viewer, owner_id: int, upcoming: bool, number: int = 1,
                          per_page: int = PER_PAGE) -> tuple[list[Any], bool]:
    """Upcoming (soonest first, including the last hour) or past (latest first) appointments `viewer` may see."""
    return await policy.shown(db, viewer, UPCOMING if upcoming else PAST, owner_id,
                               params={"since": utcnow() - timedelta(hours=1)}, page=number, per_page=per_page)


async def _list_page(request: Request[Any, Any, Any], db: AsyncSession, *, past: bool) -> Template:
    number = page_number(request)
    viewer = current_viewer(request)
    items, has_next = await appointments_of(db, viewer, viewer.user_id, not past, number)
    return page(request, "appointments/list.html", title=_("Appointments"), items=items, past=past,
                seen=await shares.seen_by(db, viewer.user_id, PART),
                page_number=number, has_next=has_next, local=local)


@get("/", name="appointments")
async def index(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await _list_page(request, db, past=False)


@get("/past", name="past_appointments")
async def past(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await _list_page(request, db, past=True)


@get("/new", name="new_appointment")
async def new(request: Request[Any, Any, Any]) -> Template:
    return _form_page(request, None, {"reminder": Reminder.NONE.value}, {})


@post("/")
async def create(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    viewer = current_viewer(request)
    values, errors, starts_at = _read_form(await request.form(), viewer.time_zone)
    if errors or starts_at is None:
        return _form_page(request, None, values, errors, 400)
    item = Appointment(owner_id=viewer.user_id, what=values["what"], starts_at=starts_at, time_zone=viewer.time_zone,
                       place=values["place"], with_whom=values["with_whom"], notes=values["notes"],
                       reminder=values["reminder"])
    item.remind_at = reminder_times.appointment_remind_at(item, utcnow())
    db.add(item)
    await db.flush()
    return Redirect(f"/appointments/{item.id}", status_code=303)


@get("/{item_id:str}", name="appointment")
async def show(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str]) -> Template:
    item = await policy.readable(db, current_viewer(request), PART, item_id)
    return page(request, "appointments/detail.html", title=_("Appointments"), item=item,
                **await shares.item_sharing(request, db, PART, item),
                reminders=reminder_labels())


@get("/{item_id:str}/card")
async def show_card(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                           item_id: FromPath[str]) -> Response[Any]:
    item = await policy.readable(db, current_viewer(request), PART, item_id)
    return card(request, "appointments/_card.html", f"/appointments/{item.id}", item=item, local=local)


@get("/{item_id:str}/edit")
async def edit(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str]) -> Template:
    item = await policy.changeable(db, current_viewer(request), PART, item_id)
    when = local(item.starts_at, current_viewer(request).time_zone)
    values = {"what": item.what, "place": item.place, "with_whom": item.with_whom, "notes": item.notes,
              "date": when.date().isoformat(), "time": when.strftime("%H:%M"), "reminder": item.reminder}
    return _form_page(request, item, values, {})


@post("/{item_id:str}/edit")
async def update(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 item_id: FromPath[str]) -> Response[Any]:
    viewer = current_viewer(request)
    item = await policy.changeable(db, viewer, PART, item_id)
    values, errors, starts_at = _read_form(await request.form(), viewer.time_zone)
    if errors or starts_at is None:
        return _form_page(request, item, values, errors, 400)
    item.what, item.place, item.with_whom, item.notes = (values["what"], values["place"], values["with_whom"],
                                                         values["notes"])
    item.starts_at, item.time_zone, item.reminder = starts_at, viewer.time_zone, values["reminder"]
    item.remind_at = reminder_times.appointment_remind_at(item, utcnow())
    db.add(item)
    return Redirect(f"/appointments/{item.id}", status_code=303)


@get("/{item_id:str}/delete")
async def confirm_delete(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                         item_id: FromPath[str]) -> Template:
    item = await policy.changeable(db, current_viewer(request), PART, item_id)
    return ask_before_delete(
        request, title=_("Appointments"), heading=_("Delete this appointment?"), item_id=item.id,
        list_href="/appointments",
        message=_("“{what}” will be gone for good. This cannot be undone.").format(what=item.what),
    )


@post("/{item_id:str}/delete")
async def remove(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 item_id: FromPath[str]) -> Response[Any]:
    return await shares.remove_item(request, db, PART, item_id, _("Appointment deleted."))


def _ics_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _fold(line: str) -> str:
    """RFC 5545: lines of at most 75 octets, continued with CRLF and a space, never splitting a character."""
    out: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def ics(item: Appointment, with_details: bool = False) -> bytes:
    """The appointment as a calendar file. Plain unless the person asks for the details: the title is
    "Appointment" and nothing says what, where or with whom, since a phone's calendar is easy to see.
    Neither way names the app."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    start = item.starts_at.astimezone(UTC)
    details = "\n".join(part for part in (item.with_whom and _("With: {name}").format(name=item.with_whom),
                                          item.notes) if part)
    plain_title = _("Appointment")  # what the phone's calendar shows: nothing about it
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Calendar//Appointment//EN", "CALSCALE:GREGORIAN",
        "BEGIN:VEVENT", f"UID:{item.id}", f"DTSTAMP:{stamp}",
        f"DTSTART:{start.strftime('%Y%m%dT%H%M%SZ')}",
        f"DTEND:{(start + timedelta(hours=1)).strftime('%Y%m%dT%H%M%SZ')}",
        f"SUMMARY:{_ics_text(item.what if with_details else plain_title)}",
    ]
    if with_details and item.place:
        lines.append(f"LOCATION:{_ics_text(item.place)}")
    if with_details and details:
        lines.append(f"DESCRIPTION:{_ics_text(details)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()


@get("/{item_id:str}/calendar.ics")
async def calendar_file(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                        item_id: FromPath[str]) -> Response[bytes]:
    item = await policy.readable(db, current_viewer(request), PART, item_id)
    return Response(
        ics(item, with_details=request.query_params.get("details") == "1"), media_type="text/calendar; charset=utf-8",
        # A neutral file name: the phone's downloads list may be seen by others.
        headers={"Content-Disposition": 'attachment; filename="appointment.ics"', "Cache-Control": "no-store"},
    )


@post("/{item_id:str}/private")
async def mark_private(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                              item_id: FromPath[str]) -> Response[Any]:
    return await shares.set_private(request, db, PART, item_id)


router = Router(
    path="/appointments",
    guards=[survivor_only],
    route_handlers=[index, past, new, create, show, show_card, mark_private, edit, update,
                    confirm_delete, remove, calendar_file],
)


# ----- the registry entry: how the rest of the portal knows appointments ---------------------------


async def _staff_list(db: AsyncSession, viewer: Viewer, owner_id: int, request: Request[Any, Any, Any],
                      number: int) -> tuple[list[Any], bool, dict[str, Any]]:
    past = request.query_params.get("past") == "1"
    items, has_next = await appointments_of(db, viewer, owner_id, not past, number)
    return items, has_next, {"past": past}


async def _staff_item(db: AsyncSession, viewer: Viewer, item: Appointment) -> dict[str, Any]:
    return {"reminders": reminder_labels()}


PART = SurvivorPart(
    key="appointments", model=Appointment, path="/appointments", router=router, label=lambda: _("Appointments"),
    phrase=lambda: _("your appointments"), title="what", notes="notes", staff_list=_staff_list, staff_item=_staff_item,
    list_template="appointments/_shared_card.html", list_intro="appointments/_shared_intro.html",
    item_template="appointments/_shared_item.html",
    export_about=lambda: _("your appointments (times in UTC, with the time zone you typed them in)"),
)

# The appointment lists, said once: from "since" on (soonest first), or before it (latest first).
UPCOMING = policy.Listing(PART, where=[col(Appointment.starts_at) >= bindparam("since")],
                          order_by=[col(Appointment.starts_at)])
PAST = policy.Listing(PART, where=[col(Appointment.starts_at) < bindparam("since")],
                      order_by=[col(Appointment.starts_at).desc()])


# The viewer's next appointment (from an hour ago on), for Home.
NEXT_SUMMARY = Summary(
    PART, "appointment", {"id": Appointment.id, "private": Appointment.private, "at": Appointment.starts_at,
                          "title": Appointment.what, "place": Appointment.place},
    where=(col(Appointment.starts_at) >= bindparam("appointments_since"),), order_by=(col(Appointment.starts_at),),
    names={"starts_at": "at", "what": "title", "place": "place"},
    params=lambda _viewer: {"appointments_since": utcnow() - timedelta(hours=1)})
