"""Dates as people type them (YYYY-MM-DD from a date field, checked against a span of years), and dates and
times as people read them, in their own language (never in ISO form)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache, lru_cache

from babel import Locale
from babel.dates import DateTimePattern, get_date_format, match_skeleton, parse_pattern

from portal.i18n import _, babel_locale


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


# ----- dates and times as people read them, in their own language ----------------------------------


@cache
def _patterns(locale: Locale) -> tuple[DateTimePattern, DateTimePattern]:
    """A language's medium date and its 24-hour time ("Hm"), looked up and parsed once, as format_date and
    format_skeleton would each time."""
    skeleton = "Hm" if "Hm" in locale.datetime_skeletons else match_skeleton("Hm", locale.datetime_skeletons)
    return (parse_pattern(get_date_format("medium", locale=locale)),
            parse_pattern(locale.datetime_skeletons[skeleton]))


def day(value: date | datetime) -> str:
    """A date as people read it in the request's language: "Dec 5, 2026", "5 dic 2026"."""
    return _day(babel_locale(), value.date() if isinstance(value, datetime) else value)


def clock(value: datetime) -> str:
    """A time of day, 24-hour, in the request's language: "14:30" (a moment without a zone read as UTC)."""
    return _clock(babel_locale(), value.hour, value.minute)


# The same few dates and times are shown again and again (every look at a list shows its dates again), and Babel
# works each one out field by field: each is kept once worked out, a day by its date, a time by its hour and minute.
@lru_cache(maxsize=4096)
def _day(locale: Locale, value: date) -> str:
    return _patterns(locale)[0].apply(value, locale)


@lru_cache(maxsize=4096)  # 1,440 minutes in a day, for each language
def _clock(locale: Locale, hour: int, minute: int) -> str:
    return _patterns(locale)[1].apply(time(hour, minute, tzinfo=UTC), locale)


def moment(value: datetime) -> str:
    """A date and a time: "Dec 5, 2026, 14:30"."""
    return _("{day}, {time}").format(day=day(value), time=clock(value))
