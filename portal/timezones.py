"""Time zones: times are typed and shown in the survivor's own zone and stored in UTC. A zone is named in the
person's words ("Japan Time", "hora de Japón"), and offered by country and city, never as "Asia/Tokyo"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import get_timezone_location

from portal.i18n import _, babel_locale, current


@cache
def zone_names() -> tuple[str, ...]:
    named = (name for name in available_timezones() if "/" in name and not name.startswith(("Etc/", "SystemV/")))
    return (*sorted(named), "UTC")


@cache
def _zone_set() -> frozenset[str]:
    return frozenset(zone_names())


def is_zone(name: str) -> bool:
    return name in _zone_set()  # asked for every time shown: a set, not a scan of the 600 names


def to_utc(day: date, at: time, zone_name: str) -> tuple[datetime | None, str]:
    """The UTC moment of a wall-clock time in a zone, or a message when that time does not exist
    there (the hour skipped when clocks go forward)."""
    zone = ZoneInfo(zone_name)
    local = datetime.combine(day, at, tzinfo=zone)
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None, _("The clocks change that night, so this time does not exist. Choose another time.")
    return moment, ""


def local(moment: datetime, zone_name: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone_name if is_zone(zone_name) else "UTC"))


@cache
def zone_countries() -> dict[str, str]:
    """Each zone people live in, with its country's two-letter code (the time zone database's zone.tab)."""
    table = files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            code, _coordinates, zone, *_comment = line.split("\t")
            if zone in zone_names():
                found[zone] = code
    return found


def zone_in_words(zone: str) -> str:
    """The zone named in the request's language: "United States (New York) Time", "hora de Japón"."""
    if not zone or zone == "UTC" or not is_zone(zone):
        return _("Coordinated Universal Time (UTC)")
    return str(get_timezone_location(zone, locale=babel_locale()))


def _city(zone: str, language: str) -> str:
    city = str(get_timezone_location(zone, locale=babel_locale(language), return_city=True))
    return city.rsplit("/", 1)[-1].replace("_", " ")


OTHER = "UTC"  # the "country" of Coordinated Universal Time, for anyone who wants no zone of a place


@cache
def _links() -> dict[str, str]:
    """Old and other names of zones (Asia/Calcutta, US/Eastern) and the zone each names (the database's links)."""
    data = files("tzdata.zoneinfo").joinpath("tzdata.zi").read_text(encoding="utf-8")
    return {alias: target for kind, target, alias in
            (line.split()[:3] for line in data.splitlines() if line.startswith("L ")) if kind == "L"}


def canonical(zone: str) -> str:
    """The zone's own name where it is an old or other name of one (a browser may still give one)."""
    seen = 0
    while zone in _links() and seen < 5:
        zone, seen = _links()[zone], seen + 1
    return zone


def zone_country(zone: str) -> str:
    """The country of a zone, under any of its names ("" for UTC or a zone of no country)."""
    return zone_countries().get(canonical(zone), "")


def countries(first_country: str = "") -> dict[str, str]:
    """The countries that have zones, named in the request's language: the organisation's first (the likeliest
    guess), then the others by name, then UTC."""
    return _countries(current(), first_country)


@cache
def _countries(language: str, first_country: str) -> dict[str, str]:
    names = babel_locale(language).territories
    found = {code: str(names.get(code, code)) for code in set(zone_countries().values())}
    ordered = sorted(found.items(), key=lambda pair: (pair[0] != first_country, pair[1]))
    return {**dict(ordered), OTHER: _("Coordinated Universal Time (UTC)")}


def cities(country: str) -> dict[str, str]:
    """The zones of one country, each named by its city in the request's language, by name: {zone: city}."""
    return _cities(current(), country)


@cache
def _cities(language: str, country: str) -> dict[str, str]:
    if country == OTHER:
        return {"UTC": _("Coordinated Universal Time (UTC)")}
    zones = [(zone, _city(zone, language)) for zone, code in zone_countries().items() if code == country]
    return dict(sorted(zones, key=lambda pair: pair[1]))
