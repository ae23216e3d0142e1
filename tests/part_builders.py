"""One way to make an item of each part in the registry, through HTTP as the signed-in survivor. The tests
that must cover every part (the access matrix, the owners-only sweep, tests/test_parts.py) build from here, and
tests/test_parts.py fails when a part in portal.parts has no builder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import post_form
from tests.test_checkins import check_in
from tests.test_documents import PDF, PNG, upload
from tests.test_journal import entry_url, write_entry


def _goal(client: Any, note: str) -> str:
    return str(post_form(client, "/goals", {"title": "A goal", "why": note, "area": "work", "target_date": ""})
               .headers["location"])


def _appointment(client: Any, note: str) -> str:
    return str(post_form(client, "/appointments", {"what": "Clinic", "date": "2030-01-02", "time": "10:00",
                                                   "reminder": "none", "notes": note}).headers["location"])


def _document(client: Any, note: str) -> str:
    return str(upload(client, PDF).headers["location"])  # a document has no notes


def _checkin(client: Any, note: str) -> str:
    return str(check_in(client, note=note).split("?")[0])


def _safety_plan(client: Any, note: str) -> str:
    # One plan each, and no private notes: sent again, it changes the plan already there (same address).
    return str(post_form(client, "/safety-plan", {"person-0-name": "Rosa", "person-0-reach": "555 0101",
                                                  "places": "The library", "take": "phone"}).headers["location"]).split("?")[0]


def _life_areas(client: Any, note: str) -> str:
    data = {"rate-housing": "2", "rate-health": "4", "note-housing": note}
    return str(post_form(client, "/life-areas", data).headers["location"]).split("?")[0]


def _journal(client: Any, note: str) -> str:
    # An entry's words are the record itself, not private notes; it keeps a photo (its file routes need one).
    return entry_url(write_entry(client, "What happened that day.", place="The bus stop", files=(("photo.png", PNG),)))


# Part key -> make one item (with `note` as its private notes, where it has any); returns the item's address.
BUILDERS: dict[str, Callable[[Any, str], str]] = {
    "goals": _goal, "appointments": _appointment, "documents": _document, "checkins": _checkin, "safety_plan": _safety_plan,
    "life_areas": _life_areas, "journal": _journal,
}
