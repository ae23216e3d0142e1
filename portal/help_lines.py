"""Help lines: the numbers a survivor sees when they say they do not feel safe, and on the Help page.

The organisation admin sets them on the **Help lines** page; while none are set, the built-in defaults of
the organisation's country are shown (the United States: the National Human Trafficking Hotline and 911; the
United Kingdom: the Modern Slavery & Exploitation Helpline and 999; anywhere else: 112, and the admin is asked
to add local lines). Showing help never alerts anyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.i18n import _
from portal.models import HelpLine
from portal.config import is_web_address
from portal import policy
from portal.organisation import country, country_names, host_id, host_organisation, set_country, set_exit_url
from portal.forms import form_value, text_errors
from portal.viewer import Viewer, admin_only, current_viewer, viewer_of
from portal.web import page, services_of

MAX_LINES = 10
LABEL_MAX = 120
NUMBER_MAX = 32
# What a phone can dial or text: digits, spaces, and + - ( ) . between them.
NUMBER = re.compile(r"^\+?[0-9][0-9 ()\-.]*[0-9]$|^[0-9]$")


@dataclass(frozen=True)
class Line:
    label: str
    call: str
    text: str
    id: int | None = None

    @property
    def call_href(self) -> str:
        return "tel:" + re.sub(r"[^0-9+]", "", self.call)

    @property
    def text_href(self) -> str:
        return "sms:" + re.sub(r"[^0-9+]", "", self.text)


# The countries whose lines are built in; anywhere else only the emergency number is known.
BUILT_IN = ("US", "GB")


def default_lines(country: str) -> list[Line]:
    """The built-in lines for the organisation's country (112, the emergency number in much of the world,
    where there are none)."""
    if country == "US":
        return [
            Line(_("National Human Trafficking Hotline (24 hours, free, private)"), "1-888-373-7888", "233733"),
            Line(_("In immediate danger: emergency services"), "911", ""),
        ]
    if country == "GB":
        return [
            Line(_("Modern Slavery & Exploitation Helpline (24 hours, free, private)"), "08000 121 700", ""),
            Line(_("In immediate danger: emergency services"), "999", ""),
        ]
    return [Line(_("In immediate danger: emergency services"), "112", "")]





async def saved_lines(db: AsyncSession, organisation_ids: list[int]) -> list[Line]:
    """The lines these organisations set, in their order (the organisations' in the order given)."""
    if not organisation_ids:
        return []
    rows = (await db.exec(select(HelpLine).where(col(HelpLine.organisation_id).in_(organisation_ids))
                          .order_by(col(HelpLine.position), col(HelpLine.id)))).all()
    rank = {organisation_id: place for place, organisation_id in enumerate(organisation_ids)}
    rows = sorted(rows, key=lambda row: rank[row.organisation_id or 0])
    return [Line(row.label, row.call, row.text, row.id) for row in rows]


async def help_lines(db: AsyncSession, viewer: Viewer | None) -> list[Line]:
    """What a person is shown: the lines of the organisations whose staff a survivor is connected with, else the
    built-in lines of the country of the first of them that chose one; with no connection, the host organisation's
    lines, else the built-in lines of the host's country."""
    connected = await policy.connected_organisations(db, viewer) if viewer is not None else []
    if connected:
        if lines := await saved_lines(db, connected):
            return lines
        for organisation_id in connected:
            if where := await country(db, organisation_id):
                return default_lines(where)
    first = await host_organisation(db)
    if first is None:
        return default_lines("")
    return await saved_lines(db, [first.id] if first.id is not None else []) or default_lines(first.country)


@get("/help", name="help")
async def help_page(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return page(request, "help/help.html", title=_("Help"), lines=await help_lines(db, viewer_of(request)))


# ----- the admin's page -----------------------------------------------------------------------


def _read_line(form: Any) -> tuple[dict[str, str], dict[str, str]]:
    values = {name: form_value(form, name, limit * 4).strip()
              for name, limit in (("label", LABEL_MAX), ("call", NUMBER_MAX), ("text", NUMBER_MAX))}
    errors = text_errors(values, {"label": (LABEL_MAX, _("Say who answers, like “Local shelter (24 hours)”."))})
    for name in ("call", "text"):
        if values[name] and (len(values[name]) > NUMBER_MAX or not NUMBER.match(values[name])):
            errors[name] = _("Enter a phone number: digits, spaces and + - ( ) only.")
    if not values["call"] and not values["text"] and "call" not in errors and "text" not in errors:
        errors["call"] = _("Enter a number to call, a number to text, or both.")
    return values, errors


async def _lines_page(request: Request[Any, Any, Any], db: AsyncSession, values: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None, status_code: int = 200,
                      country_error: str = "", exit_error: str = "") -> Template:
    mine = current_viewer(request).organisation_id
    where, exit_default = await country(db, mine), services_of(request).exit_default
    return page(request, "admin/help_lines.html", title=_("Help lines"),
                lines=await saved_lines(db, [mine] if mine is not None else []), hosts=await _hosts(request, db),
                defaults=default_lines(where), values=values or {}, errors=errors or {}, max_lines=MAX_LINES,
                status_code=status_code, country=where, countries=country_names(), built_in=where in BUILT_IN,
                country_error=country_error, exit_error=exit_error, exit_url=exit_default.chosen,
                configured_exit=exit_default.configured)


async def _hosts(request: Request[Any, Any, Any], db: AsyncSession) -> bool:
    """Whether the admin's organisation hosts the deployment (the first made): only its admins choose the
    default exit place, which is everyone's."""
    mine = current_viewer(request).organisation_id
    return mine is not None and mine == await host_id(db)


@get("/admin/help-lines", guards=[admin_only], name="help_lines")
async def lines_page(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await _lines_page(request, db)


@post("/admin/help-lines", guards=[admin_only])
async def add_line(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    values, errors = _read_line(await request.form())
    mine = current_viewer(request).organisation_id
    count, last = (await db.exec(select(func.count(), func.max(HelpLine.position))
                                 .where(col(HelpLine.organisation_id) == mine))).one()
    if count >= MAX_LINES:
        errors["label"] = _("Up to 10 lines can be shown. Remove one first.")
    if errors:
        return await _lines_page(request, db, values, errors, 400)
    db.add(HelpLine(label=values["label"], call=values["call"], text=values["text"], position=(last or 0) + 1,
                    organisation_id=mine))
    return Redirect("/admin/help-lines", status_code=303)


@post("/admin/country", guards=[admin_only])
async def choose_country(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """Where the organisation is: the built-in help lines follow it."""
    code = form_value(await request.form(), "country", 2).upper()
    if code not in country_names():
        return await _lines_page(request, db, status_code=400, country_error=_("Choose a country from the list."))
    chosen = await set_country(db, code, current_viewer(request).organisation_id)
    if await _hosts(request, db):
        services_of(request).exit_default.keep(chosen)
    return Redirect("/admin/help-lines#country", status_code=303)


@post("/admin/exit-place", guards=[admin_only])
async def choose_exit_place(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """Where Exit now leads for everyone who chose no place of their own (empty: the deployment's setting)."""
    if not await _hosts(request, db):
        raise NotFoundException()
    raw = form_value(await request.form(), "exit_url", 1000).strip()
    if raw and not is_web_address(raw):
        return await _lines_page(request, db, status_code=400,
                                 exit_error=_("Enter a web address like https://www.example.com, or leave it empty."))
    services_of(request).exit_default.keep(await set_exit_url(db, raw))
    return Redirect("/admin/help-lines#exit-place", status_code=303)


@post("/admin/help-lines/{line_id:int}/delete", guards=[admin_only])
async def remove_line(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                      line_id: FromPath[int]) -> Response[Any]:
    mine = current_viewer(request).organisation_id
    removed = await db.exec(delete(HelpLine).where(col(HelpLine.id) == line_id, col(HelpLine.organisation_id) == mine))
    if removed.rowcount != 1:  # another organisation's line, or none: not found, nothing said
        raise NotFoundException()
    return Redirect("/admin/help-lines", status_code=303)


routes = [help_page, lines_page, add_line, choose_country, choose_exit_place, remove_line]
