"""A live connection as one side sees it (`Link`), with the share cards in force on it (`Card`), and how a
staff member is named to a survivor: "Amira Haddad · caseworker · Safe Harbor" (their display name, never their
username). What `portal.policy.connections` returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.i18n import _
from portal.models import Connection, Role, User


def role_label(role: str) -> str:
    return _("caseworker") if role == Role.CASEWORKER else _("peer mentor")


def person_label(name: str, role: str, organisation: str = "") -> str:
    """A staff member as the survivor sees them: "Amira Haddad · caseworker · Safe Harbor" (the organisation
    left out while it has no name; "Caseworker · Safe Harbor" while they have none: never their username)."""
    if not name:
        return " · ".join(part for part in (role_label(role).capitalize(), organisation) if part)
    if organisation:
        return _("{name} · {role} · {organisation}").format(name=name, role=role_label(role), organisation=organisation)
    return _("{name} · {role}").format(name=name, role=role_label(role))


@dataclass(frozen=True)
class Profile:
    """What a survivor reads about a staff member before connecting and after: name, role, organisation, and
    what they help with, in their own words."""

    name: str
    role: str
    organisation: str
    helps_with: str

    @property
    def shown_name(self) -> str:
        """Their name, or their role while they have not given one (never their username)."""
        return self.name or role_label(self.role).capitalize()

    @property
    def role_name(self) -> str:
        return role_label(self.role)


def profile_of(staff: User, organisation: str) -> Profile:
    return Profile(staff.display_name, staff.role, organisation, staff.helps_with)


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
    staff_organisation: str = ""

    @property
    def person(self) -> str:
        return person_label(self.staff_name, self.staff_role, self.staff_organisation)

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
