"""One way to make an item of each part in the registry, through HTTP as the signed-in survivor. The tests
that must cover every part (the access matrix, the owners-only sweep, tests/test_parts.py) build from here, and
tests/test_parts.py fails when a part in portal.parts has no builder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import post_form
from tests.test_checkins import check_in
from tests.test_documents import PDF, upload


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


# Part key -> make one item (with `note` as its private notes, where it has any); returns the item's address.
BUILDERS: dict[str, Callable[[Any, str], str]] = {
    "goals": _goal, "appointments": _appointment, "documents": _document, "checkins": _checkin,
}
