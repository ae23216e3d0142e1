"""Where the organisation is, and what follows from it: the help lines a survivor sees before an admin adds the
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


async def _row(db: AsyncSession) -> Organisation | None:
    return (await db.exec(select(Organisation).order_by(col(Organisation.id)).limit(1))).first()


async def country(db: AsyncSession) -> str:
    """Where the organisation is ("" until an admin chooses)."""
    row = await _row(db)
    return row.country if row is not None else ""


async def set_country(db: AsyncSession, code: str) -> Organisation:
    """Choose the country; the exit destination follows it where the country has one and none was set by hand."""
    organisation = await _row(db) or Organisation()
    if not organisation.exit_url or organisation.exit_url == COUNTRY_EXITS.get(organisation.country):
        organisation.exit_url = COUNTRY_EXITS.get(code, "")
    organisation.country = code
    db.add(organisation)
    return organisation


async def set_exit_url(db: AsyncSession, url: str) -> Organisation:
    """Where Exit now leads for everyone who has not chosen their own place ("": the deployment's setting)."""
    organisation = await _row(db) or Organisation()
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
            row = await _row(db)
        self.chosen = row.exit_url if row is not None else ""

    async def refresh_forever(self, factory: async_sessionmaker[AsyncSession]) -> None:
        while True:
            await asyncio.sleep(self.REFRESH)
            try:
                await self.load(factory)
            except Exception:  # the last known place stays; the exit never depends on this
                log.exception("could not refresh the organisation's exit destination")
