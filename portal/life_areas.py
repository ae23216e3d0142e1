"""Life areas: where the survivor is now in each area of life (Safety, Housing, Health, ...), rated from 1 ("Very
hard right now") to 5 ("Going well"), each with an optional private note. Rated again over time (a monthly
reminder can suggest it), the first and the latest rating are drawn on the server as a wheel (a radar chart) and
each area as a small line, every picture with the same said in words. From the areas rated lowest, an offer to
start a goal there (pre-filled, never made on its own).

One row per rating, one column per area (what any later count of "first against latest" reads). The notes are
one JSON object {area: note}: the part's private notes, None where the policy holds them back.

Every read and change goes through `portal.policy`; titles stay "Waypoint - Life areas"; ids are opaque.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import policy, shares
from portal.dates import day
from portal.forms import form_value, page_number, text_problem
from portal.i18n import _, ngettext
from portal.models import LIFE_AREAS, GoalArea, LifeAreas, PushSettings, utcnow
from portal.reminder_times import next_life_areas
from portal.survivor_part import SurvivorPart
from portal.timezones import local
from portal.viewer import current_viewer, survivor_only, Viewer
from portal.web import ask_before_delete, card, page

PER_PAGE = 20
NOTE_MAX = 400  # per area: eight notes, escaped as JSON, stay inside the column's 8,000 characters
LINE_SIZE = 12  # the ratings each area's line shows: a year of monthly ones
LOW = 2  # an area rated this or lower in the latest rating is offered as a goal
RATE, NOTE = "rate-", "note-"  # the form's field names: "rate-housing", "note-housing"


def area_labels() -> dict[str, str]:
    """Each area's name, in the order they are asked and drawn."""
    return {"safety": _("Safety"), "housing": _("Housing"), "health": _("Health"), "mind": _("Mind and feelings"),
            "money": _("Money"), "work": _("Work and learning"), "legal": _("Legal matters"),
            "people": _("People around me")}


def scale_labels() -> dict[int, str]:
    return {1: _("Very hard right now"), 2: _("Hard"), 3: _("Getting by"), 4: _("Good"), 5: _("Going well")}


def rating_words() -> dict[int, str]:
    """A rating as it is shown everywhere: its number and its words, "5 · Going well"."""
    return {n: f"{n} · {word}" for n, word in scale_labels().items()}


# A life area -> the goal area a goal about it starts in (portal.goals), and the goal's suggested words.
GOAL_AREAS: dict[str, GoalArea] = {
    "safety": GoalArea.SAFETY, "housing": GoalArea.HOUSING, "health": GoalArea.HEALTH, "mind": GoalArea.HEALTH,
    "money": GoalArea.MONEY, "work": GoalArea.WORK, "legal": GoalArea.LEGAL, "people": GoalArea.FAMILY,
}


def goal_titles() -> dict[str, str]:
    return {"safety": _("Feel safer day to day"), "housing": _("Find a steady place to live"),
            "health": _("Look after my health"), "mind": _("Look after how I feel"),
            "money": _("Get on top of my money"), "work": _("Take a step towards work or learning"),
            "legal": _("Move my legal matters forward"), "people": _("Have more people I can count on")}


def ratings_of(item: LifeAreas) -> dict[str, int | None]:
    return {area: getattr(item, area) for area in LIFE_AREAS}


def notes_of(item: LifeAreas) -> dict[str, str] | None:
    """The notes by area; None where they are held back from this viewer ("Notes not shared")."""
    if item.notes is None:
        return None
    try:
        found = json.loads(item.notes)
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {area: note for area in LIFE_AREAS if isinstance(note := found.get(area), str) and note}


def rated_count(item: LifeAreas) -> int:
    return sum(1 for value in ratings_of(item).values() if value is not None)


# ----- the form -------------------------------------------------------------------------------


def _read_form(form: Any) -> tuple[dict[str, Any], dict[str, str], tuple[dict[str, int], dict[str, str]] | None]:
    """What was sent, the problems with it, and (when there are none) the ratings and the notes."""
    keys = [key for key in (form.keys() if hasattr(form, "keys") else []) if isinstance(key, str)]
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    ratings: dict[str, int] = {}
    notes: dict[str, str] = {}
    if any(key.startswith((RATE, NOTE)) and key.split("-", 1)[1] not in LIFE_AREAS for key in keys[:100]):
        errors["areas"] = _("Rate only the areas on this page.")
    words = scale_labels()
    for area in LIFE_AREAS:
        raw = form_value(form, RATE + area, 2)
        note = form_value(form, NOTE + area, NOTE_MAX * 4).strip()
        values[RATE + area], values[NOTE + area] = raw, note
        if raw and raw not in {str(n) for n in words}:
            errors[RATE + area] = _("Choose from 1 to 5, or leave this area out.")
            values[RATE + area] = ""
        elif raw:
            ratings[area] = int(raw)
        if problem := text_problem(note, NOTE_MAX):
            errors[NOTE + area] = problem
        elif note:
            notes[area] = note
    if not ratings and not any(key.startswith(RATE) for key in errors):
        errors.setdefault("areas", _("Rate at least one area."))
    if errors:
        return values, errors, None
    return values, errors, (ratings, notes)


def _form_page(request: Request[Any, Any, Any], item: LifeAreas | None, values: dict[str, Any],
               errors: dict[str, str], status_code: int = 200) -> Template:
    return page(request, "life_areas/form.html", title=_("Life areas"), item=item, values=values, errors=errors,
                areas=area_labels(), scale={str(n): words for n, words in rating_words().items()},
                rate=RATE, note=NOTE, note_max=NOTE_MAX, status_code=status_code)


# ----- the pictures ---------------------------------------------------------------------------

WIDE, HIGH, RADIUS = 440.0, 320.0, 110.0  # the wheel's drawing, and the radius of a 5
CENTRE_X, CENTRE_Y = WIDE / 2, HIGH / 2
LABEL_AT = RADIUS + 14.0
LINE_GAP = 15.0  # between the two lines of a long area name


def _axis_angle(index: int) -> float:
    """The angle of area `index`'s spoke: the first straight up, then round clockwise."""
    return -math.pi / 2 + index * 2 * math.pi / len(LIFE_AREAS)


def _spot(index: int, distance: float) -> tuple[float, float]:
    angle = _axis_angle(index)
    return round(CENTRE_X + distance * math.cos(angle), 1), round(CENTRE_Y + distance * math.sin(angle), 1)


def _two_lines(words: str) -> list[str]:
    """A long area name on two lines, broken at the space nearest its middle, so it fits beside the wheel."""
    if len(words) <= 12 or " " not in words:
        return [words]
    spaces = [index for index, char in enumerate(words) if char == " "]
    cut = min(spaces, key=lambda index: abs(index - len(words) / 2))
    return [words[:cut], words[cut + 1:]]


def _label(index: int, words: str) -> tuple[float, str, list[tuple[float, float, str]]]:
    """An area's name at the end of its spoke: the anchor and each line's place."""
    x, y = _spot(index, LABEL_AT)
    lines = _two_lines(words)
    if abs(x - CENTRE_X) < 1:  # straight up or down: above or below the spoke's end
        anchor = "middle"
        top = y - (len(lines) - 1) * LINE_GAP if y < CENTRE_Y else y + 10
    else:
        anchor = "start" if x > CENTRE_X else "end"
        top = y + 4 - (len(lines) - 1) * LINE_GAP / 2
    return x, anchor, [(x, round(top + number * LINE_GAP, 1), line) for number, line in enumerate(lines)]


@dataclass(frozen=True)
class Shape:
    """One rating on the wheel: its rated areas' points (in the areas' order) and the polygon through them."""

    points: list[tuple[float, float, str, int]]  # x, y, area, rating
    polygon: str


def _shape(item: LifeAreas) -> Shape:
    points = [(*_spot(index, RADIUS * value / 5), area, value)
              for index, area in enumerate(LIFE_AREAS) if (value := getattr(item, area)) is not None]
    return Shape(points, " ".join(f"{x},{y}" for x, y, _area, _value in points))


@dataclass(frozen=True)
class Row:
    """One line of the wheel's table: an area, its first and latest rating in words, and the change."""

    area: str
    first: str
    latest: str
    change: str


@dataclass(frozen=True)
class Wheel:
    first: LifeAreas | None  # None when there is only one rating
    latest: LifeAreas
    first_shape: Shape | None
    latest_shape: Shape
    rings: list[str]  # the guide polygons of 1 to 5
    spokes: list[tuple[float, float]]
    labels: list[tuple[float, str, list[tuple[float, float, str]]]]  # x, anchor, and each line's x, y, words
    rows: list[Row]


def wheel(first: LifeAreas | None, latest: LifeAreas | None) -> Wheel | None:
    if latest is None:
        return None
    if first is not None and first.id == latest.id:
        first = None
    words, names = rating_words(), area_labels()
    rows = []
    for area in LIFE_AREAS:
        before, now = (getattr(first, area) if first is not None else None), getattr(latest, area)
        change = ""
        if before is not None and now is not None:
            change = _("Better") if now > before else _("Harder") if now < before else _("The same")
        rows.append(Row(names[area], words[before] if before is not None else _("Not rated"),
                        words[now] if now is not None else _("Not rated"), change))
    rings = [" ".join("{},{}".format(*_spot(index, RADIUS * level / 5)) for index in range(len(LIFE_AREAS)))
             for level in range(1, 6)]
    spokes = [_spot(index, RADIUS) for index in range(len(LIFE_AREAS))]
    labels = [_label(index, names[area]) for index, area in enumerate(LIFE_AREAS)]
    return Wheel(first, latest, _shape(first) if first is not None else None, _shape(latest), rings, spokes, labels,
                 rows)


LINE_WIDTH, LINE_HEIGHT, LINE_PAD = 240.0, 80.0, 8.0


@dataclass(frozen=True)
class AreaLine:
    """One area's ratings over time, oldest first, as a small line drawing, and the same in words."""

    area: str
    label: str
    points: list[tuple[float, float, int]]
    line: str
    summary: str


def area_lines(newest_first: list[LifeAreas]) -> list[AreaLine]:
    words, names = rating_words(), area_labels()
    found = []
    for area in LIFE_AREAS:
        values = [value for item in reversed(newest_first) if (value := getattr(item, area)) is not None]
        if not values:
            continue
        step = (LINE_WIDTH - 2 * LINE_PAD) / max(len(values) - 1, 1)
        rise = (LINE_HEIGHT - 2 * LINE_PAD) / 4
        points = [(round(LINE_PAD + index * step, 1), round(LINE_PAD + (5 - value) * rise, 1), value)
                  for index, value in enumerate(values)]
        said = ", ".join(words[value] for value in values)
        summary = ngettext("{area}, rated once: {ratings}.",
                           "{area}, the last {num} ratings, oldest to newest: {ratings}.",
                           len(values)).format(area=names[area], num=len(values), ratings=said)
        found.append(AreaLine(area, names[area], points, " ".join(f"{x},{y}" for x, y, _v in points), summary))
    return found


def goal_offers(latest: LifeAreas | None) -> list[tuple[str, str]]:
    """From the latest rating, the areas rated 1 or 2, lowest first: (the offer's words, its /goals/new address)."""
    if latest is None:
        return []
    names, titles = area_labels(), goal_titles()
    low = sorted((value, index, area) for index, area in enumerate(LIFE_AREAS)
                 if (value := getattr(latest, area)) is not None and value <= LOW)
    return [(_("Start a goal about {area}").format(area=names[area]),
             "/goals/new?" + urlencode({"area": GOAL_AREAS[area].value, "title": titles[area]}))
            for _value, _index, area in low]


# ----- pages ----------------------------------------------------------------------------------


async def _first_and_recent(db: AsyncSession, viewer: Viewer, owner_id: int) -> tuple[Any, list[Any]]:
    recent, _more = await policy.shown(db, viewer, NEWEST_FIRST, owner_id,
                                        per_page=LINE_SIZE, log=False)
    oldest, _more = await policy.shown(db, viewer, OLDEST_FIRST, owner_id,
                                        per_page=1, log=False)
    return (oldest[0] if oldest else None), recent


async def history(db: AsyncSession, viewer: Viewer, owner_id: int, number: int) -> dict[str, Any]:
    """A page of ratings `viewer` may see, newest first, with the wheel and each area's line: what a list shows."""
    items, has_next = await policy.shown(db, viewer, NEWEST_FIRST, owner_id,
                                          page=number, per_page=PER_PAGE)
    first, recent = await _first_and_recent(db, viewer, owner_id)
    latest = recent[0] if recent else None
    return {"items": items, "has_next": has_next, "page_number": number, "wheel": wheel(first, latest),
            "lines": area_lines(recent), "wide": WIDE, "high": HIGH, "line_width": LINE_WIDTH,
            "line_height": LINE_HEIGHT, "rated_count": rated_count, "local": local}


async def latest_rated_at(db: AsyncSession, viewer: Viewer) -> datetime | None:
    """When the viewer last rated their life areas (for the monthly reminder), or None."""
    items, _more = await policy.shown(db, viewer, NEWEST_FIRST, viewer.user_id, per_page=1, log=False)
    return items[0].created_at if items else None


@get("/", name="life_areas")
async def index(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    context = await history(db, viewer, viewer.user_id, page_number(request))
    return page(request, "life_areas/list.html", title=_("Life areas"),
                seen=await shares.seen_by(db, viewer.user_id, PART),
                offers=goal_offers(context["wheel"].latest if context["wheel"] else None), **context)


@get("/new", name="new_life_areas")
async def new(request: Request[Any, Any, Any]) -> Template:
    return _form_page(request, None, {}, {})


@post("/")
async def create(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    viewer = current_viewer(request)
    values, errors, found = _read_form(await request.form())
    if found is None:
        return _form_page(request, None, values, errors, 400)
    item = LifeAreas(owner_id=viewer.user_id)
    _fill(item, *found)
    db.add(item)
    await db.flush()
    # The monthly reminder, when it is on, comes a month after this rating.
    prefs = await db.get(PushSettings, viewer.user_id)
    if prefs is not None and prefs.life_areas:
        prefs.life_areas_next_at = next_life_areas(prefs, viewer.time_zone, item.created_at, utcnow())
        db.add(prefs)
    return Redirect(f"/life-areas/{item.id}?saved=1", status_code=303)


def _fill(item: LifeAreas, ratings: dict[str, int], notes: dict[str, str]) -> None:
    for area in LIFE_AREAS:
        setattr(item, area, ratings.get(area))
    item.notes = json.dumps(notes, ensure_ascii=False)


@get("/{item_id:str}/edit")
async def edit(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str]) -> Template:
    """A past rating can be put right (a slip of the finger); a new rating is the way to say things changed."""
    item = await policy.changeable(db, current_viewer(request), PART, item_id)
    notes = notes_of(item) or {}
    values = {**{RATE + area: str(value) if value is not None else "" for area, value in ratings_of(item).items()},
              **{NOTE + area: notes.get(area, "") for area in LIFE_AREAS}}
    return _form_page(request, item, values, {})


@post("/{item_id:str}/edit")
async def update(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 item_id: FromPath[str]) -> Response[Any]:
    item = await policy.changeable(db, current_viewer(request), PART, item_id)
    values, errors, found = _read_form(await request.form())
    if found is None:
        return _form_page(request, item, values, errors, 400)
    _fill(item, *found)
    db.add(item)
    return Redirect(f"/life-areas/{item.id}", status_code=303)


def _item_context(item: LifeAreas) -> dict[str, Any]:
    return {"item": item, "areas": area_labels(), "words": rating_words(), "ratings": ratings_of(item),
            "area_notes": notes_of(item)}


@get("/{item_id:str}", name="life_areas_item")
async def show(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str]) -> Template:
    item = await policy.readable(db, current_viewer(request), PART, item_id)
    return page(request, "life_areas/detail.html", title=_("Life areas"), **_item_context(item),
                **await shares.item_sharing(request, db, PART, item), saved=request.query_params.get("saved") == "1")


@get("/{item_id:str}/card")
async def show_card(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                    item_id: FromPath[str]) -> Response[Any]:
    item = await policy.readable(db, current_viewer(request), PART, item_id)
    return card(request, "life_areas/_card.html", f"/life-areas/{item.id}", item=item, rated_count=rated_count,
                local=local)


@get("/{item_id:str}/delete")
async def confirm_delete(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                         item_id: FromPath[str]) -> Template:
    viewer = current_viewer(request)
    item = await policy.changeable(db, viewer, PART, item_id)
    return ask_before_delete(
        request, title=_("Life areas"), heading=_("Delete this rating?"), item_id=item.id, list_href="/life-areas",
        message=_("Your rating of your life areas from {date} will be gone for good. This cannot be undone.").format(
            date=day(local(item.created_at, viewer.time_zone))),
    )


@post("/{item_id:str}/delete")
async def remove(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 item_id: FromPath[str]) -> Response[Any]:
    return await shares.remove_item(request, db, PART, item_id, _("Rating deleted."))


@post("/{item_id:str}/private")
async def mark_private(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                       item_id: FromPath[str]) -> Response[Any]:
    return await shares.set_private(request, db, PART, item_id)


router = Router(
    path="/life-areas",
    guards=[survivor_only],
    route_handlers=[index, new, create, show, show_card, mark_private, edit, update, confirm_delete, remove],
)


# ----- the registry entry: how the rest of the portal knows life areas ------------------------------


async def _staff_list(db: AsyncSession, viewer: Viewer, owner_id: int, request: Request[Any, Any, Any],
                      number: int) -> tuple[list[Any], bool, dict[str, Any]]:
    context = await history(db, viewer, owner_id, number)
    items, has_next = context.pop("items"), context.pop("has_next")
    del context["page_number"], context["local"]
    return items, has_next, context


async def _staff_item(db: AsyncSession, viewer: Viewer, item: LifeAreas) -> dict[str, Any]:
    context = _item_context(item)
    del context["item"]
    return context


async def _export_notes(db: AsyncSession, item: LifeAreas) -> dict[str, Any]:
    return {"notes": notes_of(item)}


PART = SurvivorPart(
    key="life_areas", model=LifeAreas, path="/life-areas", router=router, label=lambda: _("Life areas"),
    phrase=lambda: _("your life areas"), title="created_at", notes="notes", staff_list=_staff_list,
    staff_item=_staff_item, list_template="life_areas/_shared_card.html", list_intro="life_areas/_shared_intro.html",
    item_template="life_areas/_shared_item.html", export_about=lambda: _("your ratings of your life areas"),
    export_extra=_export_notes,
)

NEWEST_FIRST = policy.Listing(PART, order_by=[col(LifeAreas.created_at).desc()])
OLDEST_FIRST = policy.Listing(PART, order_by=[col(LifeAreas.created_at).asc()])
