"""Aftercare check-ins: how the survivor feels today, whether they feel safe, what would help.

A short form (one answer needed; everything else can be skipped), a history with a small trend
picture drawn on the server, and help shown at once to someone who says they do not feel safe.
Saying so alerts nobody. Every read and change goes through `portal.policy`; titles stay
"Waypoint - Check-ins"; ids are opaque.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import i18n, policy, shares
from portal.dates import day
from portal.help_lines import help_lines
from portal.i18n import _
from portal.survivor_part import Summary, SurvivorPart
from portal.models import CheckIn, SafeAnswer
from portal.timezones import local
from portal.forms import form_value, page_number, text_errors
from portal.viewer import current_viewer, survivor_only, Viewer
from portal.web import ask_before_delete, card, page

PER_PAGE = 20
NOTE_MAX = 2000
TREND_SIZE = 30


def feeling_labels() -> dict[int, str]:
    return {1: _("Very low"), 2: _("Low"), 3: _("Okay"), 4: _("Good"), 5: _("Very good")}


def safe_labels() -> dict[str, str]:
    return {SafeAnswer.YES: _("Yes"), SafeAnswer.NOT_SURE: _("Not sure"), SafeAnswer.NO: _("No")}


def feeling_line(feeling: int, safe: str = "") -> str:
    """A card's line of how the person felt, and whether safe when they said ("Feeling: 3 · Okay · Safe: Yes"), in
    the request's language: a list's cards ask for the same few lines, and making one in the template (two
    translations with values) cost about 6 µs a card."""
    return _feeling_line(i18n.current(), feeling, safe)


@lru_cache(maxsize=256)  # each language, feeling and answer: a few dozen lines, as only these values are ever saved
def _feeling_line(_language: str, feeling: int, safe: str) -> str:
    line = _("Feeling: %(n)s · %(word)s") % {"n": feeling, "word": feeling_labels().get(feeling, "")}
    if safe:
        line += " · " + _("Safe: %(answer)s") % {"answer": safe_labels().get(safe, "")}
    return line


def need_labels() -> dict[str, str]:
    return {"housing": _("Housing"), "food": _("Food"), "health": _("Health"), "legal": _("Legal help"),
            "work": _("Work"), "talk": _("Someone to talk to")}


def needs_of(item: CheckIn) -> list[str]:
    return [need for need in item.needs.split(",") if need in need_labels()]


# ----- the form -------------------------------------------------------------------------------


@dataclass
class Answers:
    feeling: int
    safe: str
    needs: list[str]
    note: str


def _read_form(form: Any) -> tuple[dict[str, Any], dict[str, str], Answers | None]:
    picked = form.getall("needs", []) if hasattr(form, "getall") else []
    values: dict[str, Any] = {
        "feeling": form_value(form, "feeling", 2),
        "safe": form_value(form, "safe", 10),
        "needs": [need for need in picked if isinstance(need, str)][:20],
        "note": form_value(form, "note", NOTE_MAX * 4).strip(),
    }
    errors = text_errors(values, {"note": (NOTE_MAX, "")})
    if values["feeling"] not in {str(n) for n in feeling_labels()}:
        errors["feeling"] = _("Choose how you are feeling, from 1 to 5.")
    if values["safe"] not in {"", *safe_labels()}:
        errors["safe"] = _("Choose one of the answers, or leave this question out.")
    if any(need not in need_labels() for need in values["needs"]):
        errors["needs"] = _("Choose from the list.")
    if errors:
        return values, errors, None
    chosen = set(values["needs"])
    needs = [need for need in need_labels() if need in chosen]
    return values, errors, Answers(int(values["feeling"]), values["safe"], needs, values["note"])


def _form_page(request: Request[Any, Any, Any], item: CheckIn | None, values: dict[str, Any], errors: dict[str, str],
               status_code: int = 200) -> Template:
    return page(request, "checkins/form.html", title=_("Check-ins"), item=item, values=values, errors=errors,
                feelings={str(n): f"{n} · {word}" for n, word in feeling_labels().items()}, safe_answers=safe_labels(),
                needs=need_labels(), status_code=status_code)


# ----- the trend picture ----------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """The last check-ins' feelings, oldest first, as points of a small line drawing, and the same
    said in words for people who cannot see the picture."""

    points: list[tuple[float, float, int]]
    line: str
    summary: str
    # The words at the top and the bottom of the drawing's scale ("5 · Very good", "1 · Very low").
    high: str = ""
    low: str = ""


WIDTH, HEIGHT, PAD = 300.0, 120.0, 10.0


def trend(feelings_newest_first: list[int]) -> Trend | None:
    feelings = list(reversed(feelings_newest_first))
    if not feelings:
        return None
    step = (WIDTH - 2 * PAD) / max(len(feelings) - 1, 1)
    points = [
        (round(PAD + index * step, 1), round(PAD + (5 - feeling) * (HEIGHT - 2 * PAD) / 4, 1), feeling)
        for index, feeling in enumerate(feelings)
    ]
    words = feeling_labels()
    latest, average = feelings[-1], sum(feelings) / len(feelings)
    if len(feelings) == 1:
        summary = _("The first check-in: {word} ({n} of 5).").format(word=words[latest], n=latest)
    else:
        summary = _(
            "The last {count} check-ins, oldest to newest. The first: {first}. The latest: {latest}. "
            "On average: {average} of 5."
        ).format(count=len(feelings), first=words[feelings[0]], latest=words[latest], average=f"{average:.1f}")
    return Trend(points, " ".join(f"{x},{y}" for x, y, _f in points), summary,
                 high=f"5 · {words[5]}", low=f"1 · {words[1]}")


# ----- pages ----------------------------------------------------------------------------------


async def history(db: AsyncSession, viewer: Viewer, owner_id: int, number: int) -> dict[str, Any]:
    """A page of check-ins `viewer` may see, newest first, and the trend of the last 30: what a list page shows."""
    items, has_next = await policy.shown(db, viewer, NEWEST_FIRST, owner_id, page=number, per_page=PER_PAGE)
    # The first page already holds every check-in when there are few; otherwise one more small query.
    recent = items if number == 1 and not has_next else (await policy.shown(
        db, viewer, NEWEST_FIRST, owner_id, per_page=TREND_SIZE, log=False))[0]
    return {"items": items, "has_next": has_next, "page_number": number,
            "trend": trend([item.feeling for item in recent]),
            "feeling_line": feeling_line, "local": local, "width": WIDTH, "height": HEIGHT}


@get("/", name="checkins")
async def index(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    return page(request, "checkins/list.html", title=_("Check-ins"),
                seen=await shares.seen_by(db, viewer.user_id, PART),
                **await history(db, viewer, viewer.user_id, page_number(request)))


@get("/new", name="new_checkin")
async def new(request: Request[Any, Any, Any]) -> Template:
    return _form_page(request, None, {"needs": []}, {})


@post("/")
async def create(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    viewer = current_viewer(request)
    values, errors, answers = _read_form(await request.form())
    if answers is None:
        return _form_page(request, None, values, errors, 400)
    item = CheckIn(owner_id=viewer.user_id, feeling=answers.feeling, safe=answers.safe, needs=",".join(answers.needs),
                   note=answers.note)
    db.add(item)
    await db.flush()
    return Redirect(f"/check-ins/{item.id}?saved=1", status_code=303)


@get("/{item_id:str}", name="checkin")
async def show(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str]) -> Template:
    item = await policy.readable(db, current_viewer(request), PART, item_id)
    lines = await help_lines(db, current_viewer(request)) if item.safe == SafeAnswer.NO else []
    return page(request, "checkins/detail.html", title=_("Check-ins"), item=item, feelings=feeling_labels(),
                **await shares.item_sharing(request, db, PART, item),
                safe_answers=safe_labels(), needs=need_labels(), chosen_needs=needs_of(item),
                saved=request.query_params.get("saved") == "1", lines=lines)


@get("/{item_id:str}/card")
async def show_card(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                       item_id: FromPath[str]) -> Response[Any]:
    item = await policy.readable(db, current_viewer(request), PART, item_id)
    return card(request, "checkins/_card.html", f"/check-ins/{item.id}", item=item, feeling_line=feeling_line,
                local=local)


@get("/{item_id:str}/edit")
async def edit(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str]) -> Template:
    item = await policy.changeable(db, current_viewer(request), PART, item_id)
    values = {"feeling": str(item.feeling), "safe": item.safe, "needs": needs_of(item), "note": item.note}
    return _form_page(request, item, values, {})


@post("/{item_id:str}/edit")
async def update(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 item_id: FromPath[str]) -> Response[Any]:
    item = await policy.changeable(db, current_viewer(request), PART, item_id)
    values, errors, answers = _read_form(await request.form())
    if answers is None:
        return _form_page(request, item, values, errors, 400)
    item.feeling, item.safe, item.needs, item.note = (answers.feeling, answers.safe, ",".join(answers.needs),
                                                      answers.note)
    db.add(item)
    return Redirect(f"/check-ins/{item.id}", status_code=303)


@get("/{item_id:str}/delete")
async def confirm_delete(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                         item_id: FromPath[str]) -> Template:
    viewer = current_viewer(request)
    item = await policy.changeable(db, viewer, PART, item_id)
    return ask_before_delete(
        request, title=_("Check-ins"), heading=_("Delete this check-in?"), item_id=item.id, list_href="/check-ins",
        message=_("The check-in from {date} will be gone for good. This cannot be undone.").format(
            date=day(local(item.created_at, viewer.time_zone))),
    )


@post("/{item_id:str}/delete")
async def remove(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 item_id: FromPath[str]) -> Response[Any]:
    return await shares.remove_item(request, db, PART, item_id, _("Check-in deleted."))


@post("/{item_id:str}/private")
async def mark_private(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                          item_id: FromPath[str]) -> Response[Any]:
    return await shares.set_private(request, db, PART, item_id)


router = Router(
    path="/check-ins",
    guards=[survivor_only],
    route_handlers=[index, new, create, show, show_card, mark_private, edit, update,
                    confirm_delete, remove],
)


# ----- the registry entry: how the rest of the portal knows check-ins ------------------------------


async def _staff_list(db: AsyncSession, viewer: Viewer, owner_id: int, request: Request[Any, Any, Any],
                      number: int) -> tuple[list[Any], bool, dict[str, Any]]:
    context = await history(db, viewer, owner_id, number)
    items, has_next = context.pop("items"), context.pop("has_next")
    del context["page_number"], context["local"]
    return items, has_next, context


async def _staff_item(db: AsyncSession, viewer: Viewer, item: CheckIn) -> dict[str, Any]:
    return {"feelings": feeling_labels(), "safe_answers": safe_labels(), "needs": need_labels(),
            "chosen_needs": needs_of(item)}


PART = SurvivorPart(
    key="checkins", model=CheckIn, path="/check-ins", router=router, label=lambda: _("Check-ins"),
    phrase=lambda: _("your check-ins"), title="created_at", notes="note", staff_list=_staff_list,
    staff_item=_staff_item,
    list_template="checkins/_shared_card.html", list_intro="checkins/_shared_intro.html",
    item_template="checkins/_shared_item.html", export_about=lambda: _("your check-ins"),
)

NEWEST_FIRST = policy.Listing(PART, order_by=[col(CheckIn.created_at).desc()])


# The viewer's newest check-in, for Home.
LAST_SUMMARY = Summary(PART, "checkin", {"id": CheckIn.id, "private": CheckIn.private, "at": CheckIn.created_at,
                                         "n1": CheckIn.feeling},
                       order_by=(col(CheckIn.created_at).desc(),), names={"created_at": "at", "feeling": "n1"})
