"""The safety plan: what the survivor would do, and who they would call, if things got unsafe.

One plan each, every section optional and in their own words: people I can call, safe places, signs that
things are getting unsafe, what I would take with me (ticked from a short list and from their own papers under
Documents), a code word, and what I will do if… It is private by default and shared like any other part.
It is never printed unless they choose to (print styles hide it; "Print my safety plan" asks first), and the
export warns before download that it holds the plan. Every read and change goes through `portal.policy`;
titles stay "Waypoint - Safety plan"; ids are opaque.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import bindparam
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import documents, policy, shares
from portal.db import insert_for
from portal.forms import form_value, text_errors, text_problem
from portal.i18n import _
from portal.models import Document, SafetyPlan, utcnow
from portal.survivor_part import Summary, SurvivorPart
from portal.viewer import current_viewer, survivor_only, Viewer
from portal.web import ask_before_delete, page

MAX_PEOPLE = 8  # rows of "People I can call"
EMPTY_ROWS = 3  # empty rows offered after the saved ones (no script needed to add one)
NAME_MAX = 80
REACH_MAX = 120
PLACES_MAX = 2000
SIGNS_MAX = 2000
TAKE_OTHER_MAX = 1000
CODE_MAX = 200
PLAN_MAX = 4000
MAX_PAPERS = 100  # papers from Documents that can be ticked (their ids fit the column)
PAPERS_SHOWN = 50  # the newest papers offered in the form, besides those already ticked


def take_labels() -> dict[str, str]:
    """What I would take with me: the fixed list, by the key stored in `SafetyPlan.take`."""
    return {
        "id": _("ID or passport"), "phone": _("Phone and charger"), "money": _("Money or bank card"),
        "medicines": _("Medicines"), "keys": _("Keys"), "papers": _("Important papers"),
        "children": _("Things for my children"),
    }


def _split(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def people_of(item: SafetyPlan) -> list[dict[str, str]]:
    """The plan's people, [{"name": ..., "reach": ...}], whatever the stored text holds."""
    try:
        rows = json.loads(item.people or "[]")
    except ValueError:
        return []
    if not isinstance(rows, list):
        return []
    return [{"name": str(row.get("name", "")), "reach": str(row.get("reach", ""))}
            for row in rows if isinstance(row, dict)]


def take_of(item: SafetyPlan) -> list[str]:
    labels = take_labels()
    return [key for key in _split(item.take) if key in labels]


# ----- the form -------------------------------------------------------------------------------


@dataclass
class Answers:
    people: list[dict[str, str]]
    places: str
    signs: str
    take: list[str]
    take_documents: list[str]
    take_other: str
    code_word: str
    code_with: str
    plan: str


def _read_form(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """What was sent (kept to show again) and what is wrong with it."""
    def picked(name: str, limit: int) -> list[str]:
        found = form.getall(name, []) if hasattr(form, "getall") else []
        return [value[:limit] for value in found if isinstance(value, str)][:MAX_PAPERS + 1]

    people = [{"name": form_value(form, f"person-{i}-name", NAME_MAX * 4).strip(),
               "reach": form_value(form, f"person-{i}-reach", REACH_MAX * 4).strip()} for i in range(MAX_PEOPLE)]
    values: dict[str, Any] = {
        "people": people,
        "places": form_value(form, "places", PLACES_MAX * 4).strip(),
        "signs": form_value(form, "signs", SIGNS_MAX * 4).strip(),
        "take": picked("take", 20),
        "take_documents": picked("take_documents", policy.MAX_ID_LENGTH + 1),
        "take_other": form_value(form, "take_other", TAKE_OTHER_MAX * 4).strip(),
        "code_word": form_value(form, "code_word", CODE_MAX * 4).strip(),
        "code_with": form_value(form, "code_with", CODE_MAX * 4).strip(),
        "plan": form_value(form, "plan", PLAN_MAX * 4).strip(),
    }
    errors = text_errors(values, {"places": (PLACES_MAX, ""), "signs": (SIGNS_MAX, ""),
                                  "take_other": (TAKE_OTHER_MAX, ""), "code_word": (CODE_MAX, ""),
                                  "code_with": (CODE_MAX, ""), "plan": (PLAN_MAX, "")})
    for i, person in enumerate(people):
        if problem := text_problem(person["name"], NAME_MAX):
            errors[f"person-{i}-name"] = problem
        if problem := text_problem(person["reach"], REACH_MAX):
            errors[f"person-{i}-reach"] = problem
    if any(key not in take_labels() for key in values["take"]):
        errors["take"] = _("Choose from the list.")
    if len(values["take_documents"]) > MAX_PAPERS:
        errors["take_documents"] = _("Choose up to {limit} papers.").format(limit=MAX_PAPERS)
    return values, errors


async def _own_papers(db: AsyncSession, viewer: Viewer, ids: list[str]) -> list[Any]:
    """Which of these ids are papers the viewer may read, among the plan owner's own (the owner: their own)."""
    if not ids:
        return []
    found, _more = await policy.shown(db, viewer, PAPERS, viewer.user_id, params={"ids": ids}, per_page=MAX_PAPERS,
                                       log=False)
    return found


async def _checked(db: AsyncSession, viewer: Viewer, form: Any) -> tuple[dict[str, Any], dict[str, str],
                                                                         Answers | None]:
    values, errors = _read_form(form)
    if "take_documents" not in errors:
        mine = {paper.id for paper in await _own_papers(db, viewer, values["take_documents"])}
        if any(paper_id not in mine for paper_id in values["take_documents"]):
            errors["take_documents"] = _("Choose from your own papers in the list.")
    if errors:
        return values, errors, None
    chosen = set(values["take"])
    people = [person for person in values["people"] if person["name"] or person["reach"]]
    return values, errors, Answers(
        people=people, places=values["places"], signs=values["signs"],
        take=[key for key in take_labels() if key in chosen],
        take_documents=list(dict.fromkeys(values["take_documents"])), take_other=values["take_other"],
        code_word=values["code_word"], code_with=values["code_with"], plan=values["plan"])


def _write(item: SafetyPlan, answers: Answers) -> None:
    item.people = json.dumps(answers.people, ensure_ascii=False)
    item.places, item.signs = answers.places, answers.signs
    item.take, item.take_documents = ",".join(answers.take), ",".join(answers.take_documents)
    item.take_other, item.code_word, item.code_with, item.plan = (answers.take_other, answers.code_word,
                                                                 answers.code_with, answers.plan)
    item.updated_at = utcnow()


def _values_of(item: SafetyPlan) -> dict[str, Any]:
    return {"people": people_of(item), "places": item.places, "signs": item.signs, "take": take_of(item),
            "take_documents": _split(item.take_documents), "take_other": item.take_other,
            "code_word": item.code_word, "code_with": item.code_with, "plan": item.plan}


async def _form_page(request: Request[Any, Any, Any], db: AsyncSession, item: SafetyPlan | None,
                     values: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    viewer = current_viewer(request)
    # The rows the form offers: the people saved or typed, then a few empty ones, never more than MAX_PEOPLE.
    # A refused form keeps each row where it was sent, so every message stays beside its own field.
    sent = values.get("people", [])
    if errors:
        last = max((i for i, person in enumerate(sent) if person["name"] or person["reach"]), default=-1)
        people = sent[:last + 1]
    else:
        people = [person for person in sent if person["name"] or person["reach"]][:MAX_PEOPLE]
    rows = people + [{"name": "", "reach": ""}] * min(EMPTY_ROWS, MAX_PEOPLE - len(people))
    ticked = list(values.get("take_documents", []))
    newest, _more = await policy.shown(db, viewer, documents.NEWEST_FIRST, viewer.user_id, per_page=PAPERS_SHOWN,
                                        log=False)
    papers = {paper.id: paper.name for paper in await _own_papers(db, viewer, ticked[:MAX_PAPERS])}
    papers.update((paper.id, paper.name) for paper in newest if paper.id not in papers)
    return page(request, "safety_plan/form.html" if item else "safety_plan/start.html", title=_("Safety plan"),
                item=item, values=values, errors=errors, rows=rows, take_options=take_labels(), papers=papers,
                ticked=ticked, status_code=status_code)


# ----- what a plan shows ------------------------------------------------------------------------


async def shown(db: AsyncSession, viewer: Viewer, item: SafetyPlan) -> dict[str, Any]:
    """What a page of the plan needs besides the plan: its people and ticks, and the names of the ticked papers the
    viewer may read (through the policy). Ticked papers the viewer may not read are not mentioned at all, not
    even counted: a count would tell of documents kept "Only me" or not shared."""
    ids = _split(item.take_documents)
    readable = (await policy.shown(db, viewer, PAPERS, item.owner_id, params={"ids": ids}, per_page=MAX_PAPERS,
                                    log=False))[0] if ids else []
    return {"people": people_of(item), "take_keys": take_of(item), "take_options": take_labels(),
            "papers": [paper.name for paper in readable]}


async def own_plan(db: AsyncSession, viewer: Viewer) -> SafetyPlan | None:
    """The viewer's own plan, if they have made one."""
    found, _more = await policy.listed(db, viewer, LISTING, viewer.user_id, per_page=1)
    return found[0] if found else None


async def _plan_page(request: Request[Any, Any, Any], db: AsyncSession, item: SafetyPlan) -> Template:
    viewer = current_viewer(request)
    return page(request, "safety_plan/plan.html", title=_("Safety plan"), item=item,
                **await shown(db, viewer, item), **await shares.item_sharing(request, db, PART, item),
                saved=request.query_params.get("saved") == "1",
                printing=request.query_params.get("print") == "1")


@get("/", name="safety_plan")
async def index(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    """The plan, or (none yet) a kind word about what it is and the form to start one."""
    item = await own_plan(db, current_viewer(request))
    if item is None:
        return await _form_page(request, db, None, {}, {})
    return await _plan_page(request, db, item)


@post("/")
async def create(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    viewer = current_viewer(request)
    existing = await own_plan(db, viewer)
    values, errors, answers = await _checked(db, viewer, await request.form())
    if answers is None:
        return await _form_page(request, db, existing, values, errors, 400)
    # One plan each: sent again (another tab, a second press), it changes the plan already there. Two first
    # saves at once: the unique index lets one row in (the other insert does nothing), and both write to it.
    if existing is None:
        made = SafetyPlan(owner_id=viewer.user_id)
        _write(made, answers)
        row = {column.name: getattr(made, column.name) for column in SafetyPlan.__table__.columns}  # type: ignore[attr-defined]
        await db.exec(insert_for(db)(SafetyPlan).values(row).on_conflict_do_nothing(index_elements=["owner_id"]))
        existing = await own_plan(db, viewer)
        if existing is None:  # the row is there, made by this request or by the other one
            raise RuntimeError("a safety plan was neither made nor found")
    _write(existing, answers)
    db.add(existing)
    return Redirect(f"/safety-plan/{existing.id}?saved=1", status_code=303)


@get("/{item_id:str}", name="safety_plan_item")
async def show(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str]) -> Template:
    return await _plan_page(request, db, await policy.readable(db, current_viewer(request), PART, item_id))


@get("/{item_id:str}/edit")
async def edit(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str]) -> Template:
    item = await policy.changeable(db, current_viewer(request), PART, item_id)
    return await _form_page(request, db, item, _values_of(item), {})


@post("/{item_id:str}/edit")
async def update(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 item_id: FromPath[str]) -> Response[Any]:
    viewer = current_viewer(request)
    item = await policy.changeable(db, viewer, PART, item_id)
    values, errors, answers = await _checked(db, viewer, await request.form())
    if answers is None:
        return await _form_page(request, db, item, values, errors, 400)
    _write(item, answers)
    db.add(item)
    return Redirect(f"/safety-plan/{item.id}?saved=1", status_code=303)


@get("/{item_id:str}/delete")
async def confirm_delete(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                         item_id: FromPath[str]) -> Template:
    item = await policy.changeable(db, current_viewer(request), PART, item_id)
    return ask_before_delete(
        request, title=_("Safety plan"), heading=_("Delete your safety plan?"), item_id=item.id,
        list_href="/safety-plan",
        message=_("Everything in your safety plan will be gone for good. This cannot be undone."),
    )


@post("/{item_id:str}/delete")
async def remove(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                 item_id: FromPath[str]) -> Response[Any]:
    return await shares.remove_item(request, db, PART, item_id, _("Safety plan deleted."))


@post("/{item_id:str}/private")
async def mark_private(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                       item_id: FromPath[str]) -> Response[Any]:
    return await shares.set_private(request, db, PART, item_id)


router = Router(
    path="/safety-plan",
    guards=[survivor_only],
    route_handlers=[index, create, show, mark_private, edit, update, confirm_delete, remove],
)


# ----- the registry entry: how the rest of the portal knows the safety plan ------------------------


async def _staff_list(db: AsyncSession, viewer: Viewer, owner_id: int, request: Request[Any, Any, Any],
                      number: int) -> tuple[list[SafetyPlan], bool, dict[str, Any]]:
    items, has_next = await policy.listed(db, viewer, LISTING, owner_id, page=number, per_page=1)
    return items, has_next, {}


async def _staff_item(db: AsyncSession, viewer: Viewer, item: SafetyPlan) -> dict[str, Any]:
    return await shown(db, viewer, item)


async def _export_plan(db: AsyncSession, item: SafetyPlan) -> dict[str, Any]:
    """The plan as lists a person can read, not the stored text."""
    return {"people": people_of(item), "take": take_of(item), "take_documents": _split(item.take_documents)}


PART = SurvivorPart(
    key="safety_plan", model=SafetyPlan, path="/safety-plan", router=router, label=lambda: _("Safety plan"),
    phrase=lambda: _("your safety plan"),
    # Who has looked says "opened your safety plan" (one each): the field only tells that it is still there.
    title="updated_at", notes=None, staff_list=_staff_list, staff_item=_staff_item,
    list_template="safety_plan/_shared_card.html", item_template="safety_plan/_shared_item.html",
    export_about=lambda: _("your safety plan"), export_extra=_export_plan,
)

LISTING = policy.Listing(PART)
# Papers kept under Documents with these ids (bound parameter "ids"), newest first.
PAPERS = policy.Listing(documents.PART, where=[col(Document.id).in_(bindparam("ids", expanding=True))],
                        order_by=[col(Document.created_at).desc()])


# Whether the viewer has a safety plan, for Home.
PLAN_SUMMARY = Summary(PART, "plan", {"id": SafetyPlan.id, "private": SafetyPlan.private, "at": SafetyPlan.updated_at},
                       names={"updated_at": "at"})
