"""Impact: what an organisation admin may know about the people their staff work with, as totals only.

Only people who said yes to "Count me in anonymous totals" and have a live connection to a staff member of the
admin's organisation are counted (policy's aggregates for Impact), asked again at every request. Figures are per
quarter, never finer. The small-number rule is written once (`suppressed`, `total_of`) and used by the page, its
charts and the CSV alike: a figure drawn from fewer than 5 people is never shown, nor a total one of whose parts
is hidden (it could be subtracted back). There is no organisation in the address: the admin's own is the only
one they can ask about."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import policy
from portal.goals import area_labels as goal_area_labels
from portal.i18n import _
from portal.life_areas import area_labels as life_area_labels
from portal.models import LIFE_AREAS, GoalArea, utcnow
from portal.viewer import admin_only, current_viewer
from portal.web import page

FEWEST = 5  # a figure drawn from fewer distinct people than this is never shown
LONGEST = 12  # quarters in one period, at most
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")

Quarter = tuple[int, int]  # (year, 1-4)


# ----- the small-number rule ------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One number on the page or in the CSV, with the people it is drawn from. `hidden` says why it is not shown:
    "few" (fewer than 5 people) or "part" (a total one of whose parts is hidden); then neither number is kept."""

    value: float | None
    people: int | None
    hidden: str = ""  # "few", "part", or "none" (an average of nobody: there is nothing to show)
    decimals: int = 0

    @property
    def blocked(self) -> bool:
        """Held back by the small-number rule (not merely empty)."""
        return self.hidden in ("few", "part")

    def text(self) -> str:
        if self.hidden == "few":
            return _("fewer than 5")
        if self.hidden == "part":
            return _("not shown")
        if self.hidden:
            return _("none")
        return f"{self.value:.{self.decimals}f}"

    def people_text(self) -> str:
        if self.blocked:
            return self.text()
        return str(self.people)


def suppressed(value: float, people: int, decimals: int = 0) -> Figure:
    """The small-number rule, for every figure: one drawn from 1 to 4 distinct people is shown as "fewer than 5",
    and neither its value nor its number of people is kept, so nothing downstream can print them. A figure drawn
    from nobody is 0 (an average of nobody, nothing): it describes no one."""
    if 0 < people < FEWEST:
        return Figure(None, None, "few", decimals)
    if not people:
        return Figure(0, 0) if not decimals else Figure(None, 0, "none", decimals)
    return Figure(value, people, "", decimals)


def total_of(parts: Sequence[Figure], value: float, people: int) -> Figure:
    """A total, under the same rule, and hidden as well whenever any figure it sums is hidden: otherwise the
    hidden one could be had back by subtracting the others from it."""
    if any(part.blocked for part in parts):
        return Figure(None, None, "part")
    return suppressed(value, people)


# ----- quarters -------------------------------------------------------------------------------


def quarter_of(moment: datetime) -> Quarter:
    return moment.year, (moment.month - 1) // 3 + 1


def shifted(quarter: Quarter, by: int) -> Quarter:
    index = quarter[0] * 4 + quarter[1] - 1 + by
    return index // 4, index % 4 + 1


def label(quarter: Quarter) -> str:
    return f"{quarter[0]}-Q{quarter[1]}"


def bounds(quarter: Quarter) -> tuple[datetime, datetime]:
    """[start, end) of a quarter, in UTC."""
    following = shifted(quarter, 1)
    return (datetime(quarter[0], 3 * quarter[1] - 2, 1, tzinfo=UTC),
            datetime(following[0], 3 * following[1] - 2, 1, tzinfo=UTC))


def parse(text: str) -> Quarter | None:
    found = QUARTER.match(text)
    if not found or not 2000 <= int(found.group(1)) <= 9000:
        return None
    return int(found.group(1)), int(found.group(2))


def period_of(query: Any, now: datetime) -> tuple[list[Quarter], str]:
    """The quarters asked for (?from=2026-Q1&to=2026-Q4), oldest first; by default the last four, this one
    included. A problem comes back in words, and no quarters."""
    current = quarter_of(now)
    first = parse(query.get("from", "")) if query.get("from") else shifted(current, -3)
    last = parse(query.get("to", "")) if query.get("to") else current
    if first is None or last is None:
        return [], _("Choose quarters from the lists.")
    if first > last:
        return [], _("The first quarter must come before the last one.")
    count = (last[0] * 4 + last[1]) - (first[0] * 4 + first[1]) + 1
    if count > LONGEST:
        return [], _("Choose at most 12 quarters (three years).")
    return [shifted(first, n) for n in range(count)], ""


# ----- the figures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Everything the page and the CSV show, each number already under the small-number rule."""

    quarters: list[str]
    people: Figure
    # "set" / "achieved" -> one per quarter: ({goal area: figure}, total of the quarter)
    goals: dict[str, list[tuple[dict[str, Figure], Figure]]]
    checkins: list[tuple[Figure, Figure]]  # per quarter: (check-ins, average feeling)
    life_areas: dict[str, tuple[Figure, Figure]]  # life area -> (first rating average, latest rating average)

    @property
    def shown(self) -> bool:
        """Whether anything but "fewer than 5 people" may be shown at all."""
        return not self.people.blocked


async def figures(db: AsyncSession, viewer: Any, quarters: list[Quarter]) -> Figures:
    period = [bounds(quarter) for quarter in quarters]
    counted = await policy.impact_people(db, viewer)
    # Nobody at all is "fewer than 5 people" too: the page is the same whether 0 or 4 are counted.
    people = suppressed(counted, counted) if counted else Figure(None, None, "few")
    names = [label(quarter) for quarter in quarters]
    if people.blocked:
        return Figures(names, people, {}, [], {})
    goals: dict[str, list[tuple[dict[str, Figure], Figure]]] = {}
    for kind in ("set", "achieved"):
        cells = {(q, area): (n, who) for q, area, n, who in
                 await policy.impact_goals(db, viewer, period, achieved=kind == "achieved", by_area=True)}
        sums = {q: (n, who) for q, _area, n, who in
                await policy.impact_goals(db, viewer, period, achieved=kind == "achieved", by_area=False)}
        goals[kind] = []
        for index in range(len(quarters)):
            by_area = {area.value: suppressed(*cells.get((index, area.value), (0, 0))) for area in GoalArea}
            goals[kind].append((by_area, total_of(list(by_area.values()), *sums.get(index, (0, 0)))))
    found = {q: (n, who, feeling) for q, n, who, feeling in await policy.impact_checkins(db, viewer, period)}
    checkins = []
    for index in range(len(quarters)):
        n, who, feeling = found.get(index, (0, 0, 0.0))
        checkins.append((suppressed(n, who), suppressed(round(feeling, 1), who, 1)))
    life = {area: (suppressed(round(first, 1), who, 1), suppressed(round(latest, 1), who, 1))
            for area, (first, latest, who) in (await policy.impact_life_areas(db, viewer, period, LIFE_AREAS)).items()}
    return Figures(names, people, goals, checkins, life)


def csv_rows(found: Figures) -> list[list[str]]:
    """The CSV's rows: section, period, area, measure, value, people. Fixed words and numbers only."""
    whole = f"{found.quarters[0]}/{found.quarters[-1]}"
    rows = [["section", "period", "area", "measure", "value", "people"],
            ["people", whole, "", "people counted", found.people.text(), found.people.people_text()]]
    if not found.shown:
        return rows
    for kind, per_quarter in found.goals.items():
        for quarter, (by_area, total) in zip(found.quarters, per_quarter, strict=True):
            for area, figure in by_area.items():
                rows.append(["goals", quarter, area, f"goals {kind}", figure.text(), figure.people_text()])
            rows.append(["goals", quarter, "all", f"goals {kind}", total.text(), total.people_text()])
    for quarter, (count, feeling) in zip(found.quarters, found.checkins, strict=True):
        rows.append(["check-ins", quarter, "", "check-ins", count.text(), count.people_text()])
        rows.append(["check-ins", quarter, "", "average feeling", feeling.text(), feeling.people_text()])
    for area, (first, latest) in found.life_areas.items():
        rows.append(["life areas", whole, area, "first rating average", first.text(), first.people_text()])
        rows.append(["life areas", whole, area, "latest rating average", latest.text(), latest.people_text()])
    return rows


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run: one that starts like a formula gets a leading apostrophe."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# ----- charts: bars drawn on the server, as SVG attributes (no inline styles: the CSP forbids them) ---------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # the series, for its colour (static/css/app.css .impact__bar--<kind>)
    text: str
    hidden: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    labels: list[tuple[float, str]]  # (x of the group's middle, its name)


BAR, GAP, PLOT, TOP = 22, 18, 140, 24


def bar_chart(groups: Sequence[tuple[str, Sequence[Figure]]], kinds: Sequence[str], top: float) -> Chart:
    """Grouped bars, one group per quarter (or area), one bar per series; a hidden figure is no bar, and its
    words stand up from the baseline instead."""
    step = BAR * len(kinds) + GAP
    width = max(320, int(GAP + step * len(groups)))
    baseline = TOP + PLOT
    bars, labels = [], []
    for index, (name, row) in enumerate(groups):
        left = GAP + index * step
        labels.append((left + BAR * len(kinds) / 2, name))
        for position, (kind, figure) in enumerate(zip(kinds, row, strict=True)):
            x = left + position * BAR
            if figure.hidden or figure.value is None:
                bars.append(Bar(x, baseline, BAR - 4, 0, kind, figure.text(), True))
                continue
            height = PLOT * (figure.value / top) if top else 0
            bars.append(Bar(x, baseline - height, BAR - 4, height, kind, figure.text(), False))
    return Chart(width, baseline + 30, baseline, bars, labels)


def charts(found: Figures) -> dict[str, Chart]:
    if not found.shown:
        return {}
    goal_rows = [(quarter, [found.goals["set"][n][1], found.goals["achieved"][n][1]])
                 for n, quarter in enumerate(found.quarters)]
    most = max([figure.value or 0 for _q, row in goal_rows for figure in row] + [1])
    names = life_area_labels()
    return {
        "goals": bar_chart(goal_rows, ["set", "achieved"], most),
        "feeling": bar_chart([(quarter, [feeling]) for quarter, (_n, feeling) in zip(found.quarters, found.checkins,
                                                                                       strict=True)], ["feeling"], 5),
        "life_areas": bar_chart([(names[area], list(pair)) for area, pair in found.life_areas.items()],
                                ["first", "latest"], 5),
    }


# ----- routes ---------------------------------------------------------------------------------


def _choices(quarters: list[Quarter], now: datetime) -> dict[str, str]:
    """The quarters the period form offers: five years back to now, and whatever was asked for."""
    current = quarter_of(now)
    earliest = min([shifted(current, -19), *quarters])
    latest = max([current, *quarters])
    count = (latest[0] * 4 + latest[1]) - (earliest[0] * 4 + earliest[1]) + 1
    return {label(shifted(earliest, n)): label(shifted(earliest, n)) for n in range(count)}


@get("/admin/impact", guards=[admin_only], name="impact")
async def impact(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    viewer, now = current_viewer(request), utcnow()
    quarters, problem = period_of(request.query_params, now)
    context: dict[str, Any] = {
        "choices": _choices(quarters, now), "period_error": problem, "found": None, "charts": {},
        "chosen_from": request.query_params.get("from", label(shifted(quarter_of(now), -3))),
        "chosen_to": request.query_params.get("to", label(quarter_of(now))),
        "goal_areas": goal_area_labels(), "life_areas": life_area_labels(),
    }
    if problem:
        return page(request, "admin/impact.html", title=_("Impact"), status_code=400,
                    errors={"from": problem}, **context)
    found = await figures(db, viewer, quarters)
    context.update(found=found, charts=charts(found), errors={},
                   csv_href=f"/admin/impact.csv?from={label(quarters[0])}&to={label(quarters[-1])}")
    return page(request, "admin/impact.html", title=_("Impact"), **context)


@get("/admin/impact.csv", guards=[admin_only], name="impact_csv")
async def impact_csv(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[bytes]:
    quarters, problem = period_of(request.query_params, utcnow())
    if problem:
        return Response(problem.encode(), status_code=400, media_type="text/plain; charset=utf-8")
    out = io.StringIO()
    writer = csv.writer(out)
    for row in csv_rows(await figures(db, current_viewer(request), quarters)):
        writer.writerow([safe_cell(cell) for cell in row])
    name = f"impact-{label(quarters[0])}-{label(quarters[-1])}.csv"
    return Response(out.getvalue().encode(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


routes = [impact, impact_csv]
