"""Dates as people type them: YYYY-MM-DD from a date field, checked against a span of years."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.i18n import _


def year_span(years_before: int, years_after: int) -> tuple[date, date]:
    """From 1 January `years_before` years ago to 31 December `years_after` years ahead."""
    today = datetime.now(UTC).date()
    return date(today.year - years_before, 1, 1), date(today.year + years_after, 12, 31)


def parse_date(raw: str, years_before: int, years_after: int) -> tuple[date | None, str]:
    """A date typed as YYYY-MM-DD (what date inputs send), or a message saying what is wrong."""
    earliest, latest = year_span(years_before, years_after)
    raw = raw.strip()
    if not raw:
        return None, ""
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return None, _("Enter a real date, like 2027-03-31.")
    if not earliest <= value <= latest:
        return None, _("Choose a date between {start} and {end}.").format(start=earliest.isoformat(),
                                                                          end=latest.isoformat())
    return value, ""
