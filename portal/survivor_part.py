"""What a part of a survivor's life is to the portal (goals, appointments, documents, check-ins, ...): one
`SurvivorPart` says everything the rest of the portal needs to list it, decide who reads it, share it, show
it to staff, export it and delete it, and serve its own pages. Each part's own module makes its entry;
`portal.parts` lists them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Generic, TypeVar

from litestar import Request, Router
from sqlalchemy import Boolean, Date, Integer, String, cast, literal, null, type_coerce
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.viewer import Viewer

Item = TypeVar("Item", bound=SQLModel)

# A staff member's list of one person's items: (db, viewer, owner_id, request, page) -> (items, has_next, context).
StaffList = Callable[[AsyncSession, Viewer, int, Request[Any, Any, Any], int],
                     Awaitable[tuple[list[Any], bool, dict[str, Any]]]]
# What a staff member's page of one item shows besides the item: (db, viewer, item) -> context.
StaffItem = Callable[[AsyncSession, Viewer, Any], Awaitable[dict[str, Any]]]
# What the export adds to one item's record (a goal's steps, a document's file name): (db, item) -> fields.
ExportExtra = Callable[[AsyncSession, Any], Awaitable[dict[str, Any]]]


async def _nothing_more(_db: AsyncSession, _item: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True, eq=False)
class SurvivorPart(Generic[Item]):
    """One part a survivor keeps. Its table has `id` (opaque), `owner_id` and `private` ("Only me")."""

    key: str  # in share cards, the access log, requests and staff addresses: "goals"
    model: type[Item]
    path: str  # the survivor's own pages: "/goals"
    router: Router  # those pages' routes (the app serves every registered part's)
    label: Callable[[], str]  # its name in a list or a heading: "Goals"
    phrase: Callable[[], str]  # its name inside a sentence: "your goals"
    title: str  # the field that names one item in Who has looked (a check-in: its date)
    notes: str | None  # the field of the survivor's private notes, held back from staff unless shared; None: none
    staff_list: StaffList
    staff_item: StaffItem
    list_template: str  # the cards of a staff member's list (a `cards(items)` macro), e.g. "goals/_shared_card.html"
    item_template: str  # the body of a staff member's page of one item, e.g. "goals/_shared_item.html"
    export_about: Callable[[], str]  # one line for the export's README: "your goals, each with its steps"
    export_extra: ExportExtra = field(default=_nothing_more)
    list_intro: str = ""  # what a staff member's list shows above the cards (a trend, a link to past ones)

    @property
    def export_file(self) -> str:
        return f"{self.key}.json"


# ----- a few rows of several parts in one statement (Home) -----------------------------------------

# The columns every part's rows take when several parts are read together: what kind of row, its id, Only me,
# a moment, a day, two words, two numbers, and a total (how many rows the branch matched, before its limit).
SUMMARY_SLOTS: dict[str, Any] = {
    "kind": String(), "id": String(), "private": Boolean(), "at": UTCDateTime(), "day": Date(), "title": String(),
    "place": String(), "n1": Integer(), "n2": Integer(), "total": Integer(),
}


@dataclass(frozen=True, eq=False)
class Summary:
    """Which rows of one part to read with others: `columns` maps slot names of SUMMARY_SLOTS to the part's
    columns (the rest are empty); the owner's own rows that `where` narrows, in `order_by`, at most `limit`."""

    part: SurvivorPart[Any]
    kind: str
    columns: dict[str, Any]
    where: tuple[Any, ...] = ()
    order_by: tuple[Any, ...] = ()
    limit: int = 1
    # What pages read of a row: slot names become the names the part's templates use ({"steps_done": "n1"}).
    names: dict[str, str] = field(default_factory=dict)
    # Whether each row carries, in "total", how many rows `where` matched in all (before the limit).
    counted: bool = False
    # The values of the bound parameters `where` names, for one viewer (statements are built once, with
    # parameters: `where` holds `bindparam("name")`, never a value of one request).
    params: Callable[[Viewer], dict[str, Any]] = field(default=lambda _viewer: {})

    def read(self, row: Any) -> SimpleNamespace:
        return SimpleNamespace(id=row.id, private=row.private,
                               **{name: getattr(row, slot) for name, slot in self.names.items()})

    def select_columns(self, total: Any = None) -> list[Any]:
        found = {"kind": literal(self.kind, String()), **self.columns}
        if total is not None:
            found["total"] = total
        # An empty slot is a NULL cast to the slot's type: PostgreSQL would take an untyped NULL in a subquery for text.
        return [type_coerce(found[name] if name in found else cast(null(), slot), slot).label(name)
                for name, slot in SUMMARY_SLOTS.items()]
