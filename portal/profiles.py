"""Staff profiles, and the survivor's page about each person they are connected with.

A caseworker or peer mentor writes their own profile in Settings: the name the people they work with see (never
their username) and, in their own words, what they help with; the page shows it as survivors will read it. A
survivor reads the profile before connecting (portal.sharing) and afterwards from Sharing, on a page that also asks
how that person's organisation's help feels (portal.feedback): one answer per organisation, which a new one
replaces and which can be taken back. Whose connection it is, is decided in `portal.policy`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import policy
from portal.db import insert_for
from portal.feedback import WORDS_MAX, month_name, rating_label, rating_words
from portal.forms import form_value, text_problem, whole_number
from portal.i18n import _
from portal.links import Link, profile_of
from portal.models import Feedback, User, new_public_id, utcnow
from portal.settings_page import BY_KEY
from portal.viewer import current_viewer, staff_only, survivor_only
from portal.web import page

NAME_MAX = 80
HELPS_WITH_MAX = 300


# ----- a staff member's own profile, in Settings ------------------------------------------------


async def _own_profile_page(request: Request[Any, Any, Any], db: AsyncSession, *, status_code: int = 200,
                            values: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> Template:
    viewer = current_viewer(request)
    user = await db.get(User, viewer.user_id)
    if user is None:  # removed while signed in
        raise NotFoundException()
    section = BY_KEY["profile"]
    return page(request, "settings/profile.html", title=section.title(), status_code=status_code, section=section,
                values=values or {"display_name": user.display_name, "helps_with": user.helps_with},
                errors=errors or {}, profile=profile_of(user, viewer.organisation_name),
                saved=request.query_params.get("done") == "saved" and not errors,
                name_max=NAME_MAX, helps_with_max=HELPS_WITH_MAX)


@get("/settings/profile", guards=[staff_only], name="settings_profile")
async def own_profile(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    return await _own_profile_page(request, db)


@post("/settings/profile", guards=[staff_only], name="save_profile")
async def save_profile(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    form = await request.form()
    # Read a little past the limit, so a name that is too long is refused in words rather than cut short.
    values = {"display_name": " ".join(form_value(form, "display_name", NAME_MAX * 4).split()),
              "helps_with": form_value(form, "helps_with", HELPS_WITH_MAX * 4).strip()}
    errors = {name: problem for name, problem in (
        ("display_name", text_problem(values["display_name"], NAME_MAX,
                                      _("Write your name, as the people you work with know you."))),
        ("helps_with", text_problem(values["helps_with"], HELPS_WITH_MAX)),
    ) if problem}
    if errors:
        return await _own_profile_page(request, db, status_code=400, values=values, errors=errors)
    user = await db.get(User, current_viewer(request).user_id)
    if user is None:
        raise NotFoundException()
    user.display_name, user.helps_with = values["display_name"], values["helps_with"]
    db.add(user)
    return Redirect("/settings/profile?done=saved", status_code=303)


# ----- a survivor's page about someone they are connected with ------------------------------------


async def _staff_of(db: AsyncSession, link: Link) -> User:
    staff = await db.get(User, link.connection.staff_id)
    if staff is None:  # the connection holds its staff member's account
        raise NotFoundException()
    return staff


async def _profile_page(request: Request[Any, Any, Any], db: AsyncSession, connection_id: str, *,
                        status_code: int = 200, values: dict[str, str] | None = None,
                        errors: dict[str, str] | None = None) -> Template:
    viewer = current_viewer(request)
    link = await policy.own_connection(db, viewer, connection_id)
    staff = await _staff_of(db, link)
    answer = None
    if staff.organisation_id is not None:
        found = await policy.own_feedback(db, viewer, staff.organisation_id)
        answer = found[0][1] if found else None
    if values is None:
        values = {"rating": str(answer.rating), "words": answer.words} if answer else {}
    notice = {"sent": _("Thank you. Your answer is sent."),
              "taken-back": _("Your answer is taken back.")}.get(request.query_params.get("done", ""), "")
    return page(request, "sharing/profile.html", title=_("Sharing"), status_code=status_code, link=link,
                profile=profile_of(staff, link.staff_organisation), asks_feedback=staff.organisation_id is not None,
                answer=answer, values=values, errors=errors or {}, notice=notice if not errors else "",
                ratings={str(number): rating_label(number) for number in rating_words()},
                rating_label=rating_label, month_name=month_name, words_max=WORDS_MAX)


@get("/sharing/{connection_id:str}/profile", guards=[survivor_only], name="connection_profile")
async def connection_profile(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                             connection_id: FromPath[str]) -> Template:
    return await _profile_page(request, db, connection_id)


async def _organisation_of(request: Request[Any, Any, Any], db: AsyncSession, connection_id: str) -> int:
    """The organisation of the staff member on one of the survivor's own live connections; 404 for anyone
    else's connection, an ended one, or a staff member with no organisation."""
    link = await policy.own_connection(db, current_viewer(request), connection_id)
    organisation_id = (await _staff_of(db, link)).organisation_id
    if organisation_id is None:
        raise NotFoundException()
    return organisation_id


@post("/sharing/{connection_id:str}/feedback", guards=[survivor_only], name="send_feedback")
async def send_feedback(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                        connection_id: FromPath[str]) -> Response[Any]:
    """One answer per survivor and organisation: a new one replaces the old, in one statement (two at once
    leave one answer)."""
    organisation_id = await _organisation_of(request, db, connection_id)
    form = await request.form()
    raw = form_value(form, "rating", 2)
    words = form_value(form, "words", WORDS_MAX * 4).strip()
    rating = whole_number(raw, 1)
    errors = {}
    if rating not in rating_words():
        errors["rating"] = _("Choose how their help feels, from 1 to 5.")
    if problem := text_problem(words, WORDS_MAX):
        errors["words"] = problem
    if errors or rating is None:
        return await _profile_page(request, db, connection_id, status_code=400,
                                   values={"rating": raw, "words": words}, errors=errors)
    month = utcnow().strftime("%Y-%m")
    answer = {"month": month, "rating": rating, "words": words}
    await db.exec(
        insert_for(db)(Feedback)
        .values(id=new_public_id(), organisation_id=organisation_id, survivor_id=current_viewer(request).user_id,
                **answer)
        .on_conflict_do_update(index_elements=["organisation_id", "survivor_id"], set_=answer)
    )
    return Redirect(f"/sharing/{connection_id}/profile?done=sent#feedback", status_code=303)


@post("/sharing/{connection_id:str}/feedback/remove", guards=[survivor_only], name="take_back_feedback")
async def take_back_feedback(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                             connection_id: FromPath[str]) -> Response[Any]:
    organisation_id = await _organisation_of(request, db, connection_id)
    await db.exec(delete(Feedback).where(col(Feedback.organisation_id) == organisation_id,
                                         col(Feedback.survivor_id) == current_viewer(request).user_id))
    return Redirect(f"/sharing/{connection_id}/profile?done=taken-back#feedback", status_code=303)


@post("/settings/feedback/{feedback_id:str}/remove", guards=[survivor_only], name="take_back_answer")
async def take_back_answer(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                           feedback_id: FromPath[str]) -> Response[Any]:
    """Take back an answer from Settings → Your data: any of the survivor's own, also once the connection it was
    given on has ended (another's answer, or none: 404)."""
    removed = await db.exec(delete(Feedback).where(col(Feedback.id) == feedback_id[:16],
                                                   col(Feedback.survivor_id) == current_viewer(request).user_id))
    if removed.rowcount != 1:
        raise NotFoundException()
    return Redirect("/settings/data?done=feedback#feedback", status_code=303)


routes = [own_profile, save_profile, connection_profile, send_feedback, take_back_feedback, take_back_answer]
