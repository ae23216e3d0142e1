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


def is_zone(name: str) -> bool:
    return name in zone_names()


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


def zone_groups(first_country: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
    """The zones to choose from, by country, in the request's language: [(country, [(zone, city), ...]), ...].
    The organisation's country comes first (the likeliest guess), then the others by name, then UTC."""
    return _zone_groups(current(), first_country)


@cache
def _zone_groups(language: str, first_country: str) -> list[tuple[str, list[tuple[str, str]]]]:
    names = babel_locale(language).territories
    by_country: dict[str, list[tuple[str, str]]] = {}
    for zone, code in zone_countries().items():
        by_country.setdefault(code, []).append((zone, _city(zone, language)))
    groups = sorted(((str(names.get(code, code)), sorted(zones, key=lambda pair: pair[1]), code)
                     for code, zones in by_country.items()), key=lambda group: (group[2] != first_country, group[0]))
    return [(country, zones) for country, zones, _code in groups] + [
        (_("Other"), [("UTC", _("Coordinated Universal Time (UTC)"))])]
