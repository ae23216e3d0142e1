"""A live connection as one side sees it (`Link`), with the share cards in force on it (`Card`), and how a
staff member is named to a survivor: "Ana (caseworker)". What `portal.policy.connections` returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.i18n import _
from portal.models import Connection, Role


def role_label(role: str) -> str:
    return _("caseworker") if role == Role.CASEWORKER else _("peer mentor")


def person_label(name: str, role: str) -> str:
    """A staff member as the survivor sees them: "Ana (caseworker)"."""
    return _("{name} ({role})").format(name=name, role=role_label(role))


@dataclass(frozen=True)
class Card:
    """A share card in force, ready to be said as a sentence."""

    id: str
    part: str
    item_id: str | None
    created_at: datetime
    ends_at: datetime | None
    include_notes: bool = False


@dataclass(frozen=True)
class Link:
    """A live connection as one side sees it: who is on the other side, and the cards in force."""

    connection: Connection
    staff_name: str
    staff_role: str
    cards: list[Card]

    @property
    def person(self) -> str:
        return person_label(self.staff_name, self.staff_role)

    @property
    def parts(self) -> list[str]:
        """The keys of the whole parts shared on this connection (pages list them in the registry's order)."""
        return sorted({card.part for card in self.cards if card.item_id is None})

    @property
    def item_parts(self) -> list[str]:
        """Parts of which only single items are shared on this connection."""
        return sorted({card.part for card in self.cards if card.item_id is not None} - set(self.parts))

    @property
    def part_cards(self) -> dict[str, Card]:
        """The card in force for each whole part shared (the one that ends last, should there be two)."""
        found: dict[str, Card] = {}
        for card in self.cards:
            if card.item_id is None:
                held = found.get(card.part)
                if held is None or (held.ends_at is not None and (card.ends_at is None or card.ends_at > held.ends_at)):
                    found[card.part] = card
        return found
