"""Time zones: times are typed and shown in the survivor's own zone and stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from portal.i18n import _


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
