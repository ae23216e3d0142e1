"""Goals: what a survivor is working towards, with small steps they tick off.

Every read and change goes through `portal.policy`. URLs carry opaque ids only; page titles stay
"Waypoint - Goals". With htmx, step changes swap the step list in place; without JavaScript the
same forms post and come back to the goal's page.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import bindparam, delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import policy, shares
from portal.dates import parse_date, year_span
from portal.i18n import _
from portal.survivor_part import Summary, SurvivorPart
from portal.models import Goal, GoalArea, GoalStatus, GoalStep, utcnow
from portal.forms import form_value, page_number, text_errors, text_problem
from portal.viewer import current_viewer, survivor_only, Viewer
from portal.web import ask_before_delete, card, page, wants_fragment

PER_PAGE = 20
MAX_STEPS = 50
TITLE_MAX = 200
WHY_MAX = 2000
STEP_MAX = 200
TARGET_SPAN = (1, 50)  # target dates: from last year to 50 years ahead


def area_labels() -> dict[str, str]:
    return {
        GoalArea.HOUSING: _("Housing"), GoalArea.HEALTH: _("Health"), GoalArea.LEGAL: _("Legal"),
        GoalArea.EDUCATION: _("Education"), GoalArea.WORK: _("Work"), GoalArea.MONEY: _("Money"),
        GoalArea.FAMILY: _("Family"), GoalArea.SAFETY: _("Safety"), GoalArea.OTHER: _("Other"),
    }



# ----- reading and checking the form ----------------------------------------------------------


def _goal_form(form: Any) -> tuple[dict[str, str], dict[str, str], date | None]:
    values = {
        "title": form_value(form, "title", TITLE_MAX * 4).strip(),
        "why": form_value(form, "why", WHY_MAX * 4).strip(),
        "area": form_value(form, "area", 20),
        "target_date": form_value(form, "target_date", 20),
    }
    errors = text_errors(values, {"title": (TITLE_MAX, _("Write your goal in a few words.")), "why": (WHY_MAX, "")})
    if values["area"] not in [area.value for area in GoalArea]:
        errors["area"] = _("Choose an area.")
    target, problem = parse_date(values["target_date"], *TARGET_SPAN)
    if problem:
        errors["target_date"] = problem
    return values, errors, target


def _form_page(request: Request[Any, Any, Any], goal: Goal | None, values: dict[str, str], errors: dict[str, str],
               status_code: int = 200) -> Template:
    return page(request, "goals/form.html", title=_("Goals"), goal=goal, values=values, errors=errors,
                areas=area_labels(), span=year_span(*TARGET_SPAN), status_code=status_code)


# ----- lists ----------------------------------------------------------------------------------


async def goals_of(db: AsyncSession, viewer: Viewer, owner_id: int, statuses: list[str], page_number: int = 1,
                   per_page: int = PER_PAGE) -> tuple[list[Any], bool]:
    """A page of `owner_id`'s goals with these statuses that `viewer` may see, newest first."""
    return await policy.shown(db, viewer, BY_STATUS, owner_id, params={"statuses": statuses}, page=page_number,
                               per_page=per_page)


async def count_goals(db: AsyncSession, viewer: Viewer, owner_id: int, status: str) -> int:
    return await policy.counted(db, viewer, WITH_STATUS, owner_id, params={"status": status})


@get("/", name="goals")
async def index(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    number = page_number(request)
    goals, has_next = await goals_of(db, viewer, viewer.user_id, [GoalStatus.ACTIVE.value, GoalStatus.PAUSED.value],
                                     number)
    achieved = await count_goals(db, viewer, viewer.user_id, GoalStatus.ACHIEVED.value)
    return page(request, "goals/list.html", title=_("Goals"), goals=goals, page_number=number, has_next=has_next,
                seen=await shares.seen_by(db, viewer.user_id, PART),
                achieved_count=achieved, areas=area_labels())


@get("/achieved", name="achieved_goals")
async def achieved(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer = current_viewer(request)
    number = page_number(request)
    goals, has_next = await goals_of(db, viewer, viewer.user_id, [GoalStatus.ACHIEVED.value], number)
    return page(request, "goals/achieved.html", title=_("Goals"), goals=goals, page_number=number,
                has_next=has_next, areas=area_labels())


# ----- one goal -------------------------------------------------------------------------------


@get("/new", name="new_goal")
async def new(request: Request[Any, Any, Any]) -> Template:
    # A goal offered from elsewhere (a life area rated low) comes filled in: `?area=` only when it is a known
    # area, `?title=` cut to a goal's length (the page escapes it). Nothing is saved until the person saves it.
    query = request.query_params
    area = form_value(query, "area", 20)
    return _form_page(request, None, {"area": area if area in [known.value for known in GoalArea] else "",
                                      "title": form_value(query, "title", TITLE_MAX).strip()}, {})


@post("/")
async def create(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    viewer = current_viewer(request)
    values, errors, target = _goal_form(await request.form())
    if errors:
        return _form_page(request, None, values, errors, 400)
    goal = Goal(owner_id=viewer.user_id, title=values["title"], why=values["why"], area=values["area"],
                target_date=target)
    db.add(goal)
    await db.flush()
    return Redirect(f"/goals/{goal.id}", status_code=303)


async def steps_of(db: AsyncSession, goal: Goal) -> list[GoalStep]:
    return list((await db.exec(
        select(GoalStep).where(GoalStep.goal_id == goal.id).order_by(col(GoalStep.position))
    )).all())


async def _goal_page(request: Request[Any, Any, Any], db: AsyncSession, goal: Goal, *, status_code: int = 200,
                     step_error: str = "", step_value: str = "", editing: str = "", edit_error: str = "",
                     edit_value: str = "", focus: str = "") -> Template:
    return page(
        request, "goals/detail.html", title=_("Goals"), fragment="goals/_steps.html", status_code=status_code,
        **await shares.item_sharing(request, db, PART, goal),
        goal=goal, steps=await steps_of(db, goal), areas=area_labels(), step_error=step_error, step_value=step_value,
        editing=editing, edit_error=edit_error, edit_value=edit_value,
        # After a step is changed (or not), focus returns to its Change button.
        focus=focus or request.query_params.get("focus", "")[:policy.MAX_ID_LENGTH],
        celebrate=request.query_params.get("celebrate") == "1" and goal.status == GoalStatus.ACHIEVED.value,
    )


@get("/{item_id:str}", name="goal")
async def show(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                    item_id: FromPath[str]) -> Template:
    goal = await policy.readable(db, current_viewer(request), PART, item_id)
    return await _goal_page(request, db, goal)


@get("/{item_id:str}/card")
async def show_card(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                    item_id: FromPath[str]) -> Response[Any]:
    goal = await policy.readable(db, current_viewer(request), PART, item_id)
    return card(request, "goals/_card.html", f"/goals/{goal.id}", item=goal, areas=area_labels())


@get("/{item_id:str}/edit", name="edit_goal")
async def edit(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                    item_id: FromPath[str]) -> Template:
    goal = await policy.changeable(db, current_viewer(request), PART, item_id)
    values = {"title": goal.title, "why": goal.why, "area": goal.area,
              "target_date": goal.target_date.isoformat() if goal.target_date else ""}
    return _form_page(request, goal, values, {})


@post("/{item_id:str}/edit")
async def update(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                      item_id: FromPath[str]) -> Response[Any]:
    goal = await policy.changeable(db, current_viewer(request), PART, item_id)
    values, errors, target = _goal_form(await request.form())
    if errors:
        return _form_page(request, goal, values, errors, 400)
    goal.title, goal.why, goal.area, goal.target_date = values["title"], values["why"], values["area"], target
    db.add(goal)
    return Redirect(f"/goals/{goal.id}", status_code=303)


@post("/{item_id:str}/status")
async def change_status(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                        item_id: FromPath[str]) -> Response[Any]:
    goal = await policy.changeable(db, current_viewer(request), PART, item_id)
    status = form_value(await request.form(), "status", 20)
    if status not in [s.value for s in GoalStatus]:
        return await _goal_page(request, db, goal, status_code=400)
    celebrate = status == GoalStatus.ACHIEVED.value and goal.status != status
    goal.status = status
    goal.achieved_at = utcnow() if status == GoalStatus.ACHIEVED.value else None
    db.add(goal)
    return Redirect(f"/goals/{goal.id}" + ("?celebrate=1" if celebrate else ""), status_code=303)


@get("/{item_id:str}/delete", name="confirm_delete_goal")
async def confirm_delete(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                         item_id: FromPath[str]) -> Template:
    goal = await policy.changeable(db, current_viewer(request), PART, item_id)
    return ask_before_delete(
        request, title=_("Goals"), heading=_("Delete this goal?"), item_id=goal.id, list_href="/goals",
        message=_("“{title}” and its steps will be gone for good. This cannot be undone.").format(title=goal.title),
    )


@post("/{item_id:str}/delete")
async def remove(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                      item_id: FromPath[str]) -> Response[Any]:
    async def steps_go(goal: Goal) -> None:
        await db.exec(delete(GoalStep).where(col(GoalStep.goal_id) == goal.id))

    return await shares.remove_item(request, db, PART, item_id, _("Goal deleted."), before=steps_go)


# ----- steps ----------------------------------------------------------------------------------


def _after_step_change(request: Request[Any, Any, Any], goal: Goal) -> Redirect | None:
    """Without htmx, go back to the goal's page (the step list is the part htmx swaps)."""
    return None if wants_fragment(request) else Redirect(f"/goals/{goal.id}#steps", status_code=303)


async def _recount(db: AsyncSession, goal: Goal) -> None:
    steps = await steps_of(db, goal)
    goal.steps_total = len(steps)
    goal.steps_done = sum(1 for step in steps if step.done)
    db.add(goal)


@post("/{item_id:str}/steps")
async def add_step(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                   item_id: FromPath[str]) -> Response[Any]:
    goal = await policy.changeable(db, current_viewer(request), PART, item_id)
    text = form_value(await request.form(), "step", STEP_MAX * 4).strip()
    problem = text_problem(text, STEP_MAX, _("Write the step in a few words."))
    if not problem and goal.steps_total >= MAX_STEPS:
        problem = _("A goal can have up to 50 steps.")
    if problem:
        return await _goal_page(request, db, goal, status_code=400, step_error=problem, step_value=text)
    last = (await db.exec(select(func.max(GoalStep.position)).where(GoalStep.goal_id == goal.id))).one()
    db.add(GoalStep(goal_id=goal.id, text=text, position=(last or 0) + 1))
    await db.flush()
    await _recount(db, goal)
    return _after_step_change(request, goal) or await _goal_page(request, db, goal)


async def _step(db: AsyncSession, request: Request[Any, Any, Any], item_id: str, step_id: str) -> tuple[Goal, GoalStep]:
    goal = await policy.changeable(db, current_viewer(request), PART, item_id)
    step = await db.get(GoalStep, step_id) if len(step_id) <= policy.MAX_ID_LENGTH else None
    if step is None or step.goal_id != goal.id:
        raise NotFoundException()
    return goal, step


@post("/{item_id:str}/steps/{step_id:str}/toggle")
async def toggle_step(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str],
                      step_id: FromPath[str]) -> Response[Any]:
    goal, step = await _step(db, request, item_id, step_id)
    step.done = not step.done
    db.add(step)
    await db.flush()
    await _recount(db, goal)
    return _after_step_change(request, goal) or await _goal_page(request, db, goal)


@get("/{item_id:str}/steps/{step_id:str}/edit")
async def edit_step(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str],
                    step_id: FromPath[str]) -> Template:
    """The step list with this one step as a form: in place with htmx, the goal's page without."""
    goal, step = await _step(db, request, item_id, step_id)
    return await _goal_page(request, db, goal, editing=step.id, edit_value=step.text)


@post("/{item_id:str}/steps/{step_id:str}/edit")
async def update_step(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str],
                      step_id: FromPath[str]) -> Response[Any]:
    goal, step = await _step(db, request, item_id, step_id)
    text = form_value(await request.form(), "step", STEP_MAX * 4).strip()
    if problem := text_problem(text, STEP_MAX, _("Write the step in a few words.")):
        return await _goal_page(request, db, goal, status_code=400, editing=step.id, edit_error=problem,
                                edit_value=text)
    step.text = text
    db.add(step)
    await db.flush()
    return _after_step_change(request, goal) or await _goal_page(request, db, goal, focus=step.id)


@post("/{item_id:str}/steps/{step_id:str}/move")
async def move_step(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str],
                    step_id: FromPath[str]) -> Response[Any]:
    goal, step = await _step(db, request, item_id, step_id)
    direction = form_value(await request.form(), "direction", 10)
    steps = await steps_of(db, goal)
    index = next(i for i, s in enumerate(steps) if s.id == step.id)
    other = index - 1 if direction == "up" else index + 1 if direction == "down" else index
    if other != index and 0 <= other < len(steps):
        steps[index].position, steps[other].position = steps[other].position, steps[index].position
        db.add_all([steps[index], steps[other]])
        await db.flush()
    return _after_step_change(request, goal) or await _goal_page(request, db, goal)


@post("/{item_id:str}/steps/{step_id:str}/delete")
async def delete_step(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], item_id: FromPath[str],
                      step_id: FromPath[str]) -> Response[Any]:
    goal, step = await _step(db, request, item_id, step_id)
    await db.delete(step)
    await db.flush()
    await _recount(db, goal)
    return _after_step_change(request, goal) or await _goal_page(request, db, goal)


@post("/{item_id:str}/private")
async def mark_private(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession],
                       item_id: FromPath[str]) -> Response[Any]:
    return await shares.set_private(request, db, PART, item_id)


router = Router(
    path="/goals",
    guards=[survivor_only],
    route_handlers=[index, achieved, new, create, show, show_card, mark_private, edit,
                    update, change_status,
                    confirm_delete, remove, add_step, edit_step, update_step, toggle_step, move_step, delete_step],
)


# ----- the registry entry: how the rest of the portal knows goals ----------------------------------


async def _staff_list(db: AsyncSession, viewer: Viewer, owner_id: int, request: Request[Any, Any, Any],
                      number: int) -> tuple[list[Any], bool, dict[str, Any]]:
    statuses = [GoalStatus.ACTIVE.value, GoalStatus.PAUSED.value, GoalStatus.ACHIEVED.value]
    items, has_next = await goals_of(db, viewer, owner_id, statuses, number)
    return items, has_next, {"areas": area_labels()}


async def _staff_item(db: AsyncSession, viewer: Viewer, item: Goal) -> dict[str, Any]:
    return {"steps": await steps_of(db, item), "areas": area_labels()}


async def _export_steps(db: AsyncSession, item: Goal) -> dict[str, Any]:
    steps = await steps_of(db, item)
    return {"steps": [{**step.model_dump(), "goal_id": None} for step in steps]}


PART = SurvivorPart(
    key="goals", model=Goal, path="/goals", router=router, label=lambda: _("Goals"), phrase=lambda: _("your goals"),
    title="title", notes="why", staff_list=_staff_list, staff_item=_staff_item, list_template="goals/_shared_card.html",
    item_template="goals/_shared_item.html", export_about=lambda: _("your goals, each with its steps"),
    export_extra=_export_steps,
)

# The goal lists, said once: goals with these statuses (bound parameter "statuses"), newest first.
WITH_STATUS = policy.Listing(PART, where=[col(Goal.status) == bindparam("status")])
BY_STATUS = policy.Listing(PART, where=[col(Goal.status).in_(bindparam("statuses", expanding=True))],
                           order_by=[col(Goal.created_at).desc()])


# The newest active goals with their progress, for Home.
HOME_SUMMARY = Summary(
    PART, "goal", {"id": Goal.id, "private": Goal.private, "at": Goal.created_at, "title": Goal.title,
                   "n1": Goal.steps_done, "n2": Goal.steps_total},
    where=(col(Goal.status) == GoalStatus.ACTIVE.value,), order_by=(col(Goal.created_at).desc(),), limit=3,
    names={"title": "title", "steps_done": "n1", "steps_total": "n2"})
