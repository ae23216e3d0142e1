"""The registry of a survivor's parts: one entry each, in the order pages list them.

Sharing, the access rule's callers, a caseworker's or mentor's view, Who has looked, the export and the
tests that sweep every page read this list; a new part is its own module (with its `PART` entry), its
templates, its migration and one line here.
"""

from __future__ import annotations

from typing import Any

from portal import appointments, checkins, documents, goals, journal, life_areas, safety_plan
from portal.survivor_part import SurvivorPart

PARTS: tuple[SurvivorPart[Any], ...] = (goals.PART, appointments.PART, documents.PART, checkins.PART,
                                        safety_plan.PART, life_areas.PART, journal.PART)
BY_KEY: dict[str, SurvivorPart[Any]] = {part.key: part for part in PARTS}


def labels() -> dict[str, str]:
    """Each part's name, by key, in the registry's order: {"goals": "Goals", ...}."""
    return {part.key: part.label() for part in PARTS}


def phrases() -> dict[str, str]:
    """How each part reads inside a sentence, by key: {"goals": "your goals", ...}."""
    return {part.key: part.phrase() for part in PARTS}


def noted() -> list[str]:
    """The keys of the parts whose items have the survivor's private notes (held back unless a card includes them)."""
    return [part.key for part in PARTS if part.notes is not None]
