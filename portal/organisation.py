"""Organisations, and where each is, and what follows from it: the help lines a survivor sees before an admin adds the
organisation's own (portal.help_lines), and where Exit now leads for anyone who has not chosen their own place.

The exit destination is kept in memory (`ExitDefault`), loaded at start and refreshed every
`ExitDefault.REFRESH` seconds, so Exit now never waits on the database: a change by an admin takes effect at once in
the worker that saved it, and within that time in the others.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.i18n import babel_locale
from portal.models import Organisation

log = logging.getLogger("portal")

# Two-letter regions in the locale data that are not countries (unknown, the EU, the eurozone, the UN, ...).
NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO"})
# An ordinary, busy site of the country, where leaving in a hurry looks like checking the weather.
COUNTRY_EXITS = {"US": "https://www.weather.gov", "GB": "https://www.bbc.co.uk/weather"}


async def host_organisation(db: AsyncSession) -> Organisation | None:
    """The host: the first organisation made, whose country and exit place are the deployment's defaults."""
    return (await db.exec(select(Organisation).order_by(col(Organisation.id)).limit(1))).first()


async def host_id(db: AsyncSession) -> int | None:
    row = await host_organisation(db)
    return row.id if row is not None else None


async def find_organisation(db: AsyncSession, name: str) -> Organisation | str:
    """The organisation called `name`; unnamed, the only one there is (made while there is none). Otherwise what
    is wrong, in words for the command line."""
    if name:
        found = (await db.exec(select(Organisation).where(col(Organisation.name) == name))).first()
        return found if found is not None else "There is no organisation with that name."
    rows = (await db.exec(select(Organisation).limit(2))).all()
    if len(rows) > 1:
        return "There are several organisations: say which with --organisation NAME."
    if rows:
        return rows[0]
    made = Organisation()
    db.add(made)
    await db.flush()
    return made


async def country(db: AsyncSession, organisation_id: int | None = None) -> str:
    """Where the organisation is (the host when none is named; "" until an admin chooses)."""
    row = await db.get(Organisation, organisation_id) if organisation_id is not None else await host_organisation(db)
    return row.country if row is not None else ""


async def set_country(db: AsyncSession, code: str, organisation_id: int | None) -> Organisation:
    """Choose an organisation's country. For the host, the default exit place follows it where the country has
    one and none was set by hand."""
    host = await host_organisation(db)
    organisation = (await db.get(Organisation, organisation_id) if organisation_id is not None else None) \
        or host or Organisation()
    follows = not organisation.exit_url or organisation.exit_url == COUNTRY_EXITS.get(organisation.country)
    if (organisation is host or host is None) and follows:
        organisation.exit_url = COUNTRY_EXITS.get(code, "")
    organisation.country = code
    db.add(organisation)
    return organisation


async def set_exit_url(db: AsyncSession, url: str) -> Organisation:
    """Where Exit now leads for everyone who has not chosen their own place ("": the deployment's setting): the
    host organisation's choice."""
    organisation = await host_organisation(db) or Organisation()
    organisation.exit_url = url
    db.add(organisation)
    return organisation


def country_names() -> dict[str, str]:
    """Every country by its two-letter code, named in the request's language, in alphabetical order."""
    names = {code: name for code, name in babel_locale().territories.items()
             if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES}
    return dict(sorted(names.items(), key=lambda pair: pair[1]))


class ExitDefault:
    """Where Exit now leads by default: the organisation's choice, else the deployment's `PORTAL_EXIT_URL`."""

    REFRESH = 30.0  # seconds

    def __init__(self, configured: str) -> None:
        self.configured = configured
        self.chosen = ""

    @property
    def url(self) -> str:
        return self.chosen or self.configured

    def keep(self, organisation: Organisation) -> None:
        self.chosen = organisation.exit_url

    async def load(self, factory: async_sessionmaker[AsyncSession]) -> None:
        async with factory() as db:
            row = await host_organisation(db)
        self.chosen = row.exit_url if row is not None else ""

    async def refresh_forever(self, factory: async_sessionmaker[AsyncSession]) -> None:
        while True:
            await asyncio.sleep(self.REFRESH)
            try:
                await self.load(factory)
            except Exception:  # the last known place stays; the exit never depends on this
                log.exception("could not refresh the organisation's exit destination")
