"""No date or time is shown in ISO form anywhere a person reads: every page of a survivor with one item of each
part (dated ones included) and of the caseworker they share with, in every language. Dates are for people
("Dec 5, 2026", "5 dic 2026"); only machine-readable attributes (`<time datetime>`, a date input's value and
bounds) keep the ISO form."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from portal.i18n import LANGUAGES
from portal.models import Role
from portal.parts import PARTS
from tests.conftest import make_connection, make_user, post_form, sign_in, sign_up
from tests.part_builders import BUILDERS
from tests.test_documents import PDF, upload

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


class _Text(HTMLParser):
    """The words a person reads: text outside scripts and styles (attributes are never read as text)."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.words.append(data)


def shown(html: str) -> str:
    reader = _Text()
    reader.feed(html)
    return " ".join(reader.words)


def test_the_reader_sees_text_and_not_attributes():
    html = '<p>On <time datetime="2026-12-05">Dec 5, 2026</time><input value="2026-12-06"></p><script>"2026-12-07"</script>'
    assert ISO_DATE.findall(shown(html)) == []
    assert ISO_DATE.findall(shown("<p>Until 2026-12-05.</p>")) == ["2026-12-05"]


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_no_page_shows_a_date_in_iso_form(client, other_client, settings, language):
    sign_up(client, "river")
    items = [BUILDERS[part.key](client, "") for part in PARTS]
    goal = post_form(client, "/goals", {"title": "Dated", "why": "", "area": "work", "target_date": "2030-05-06"})
    papers = upload(client, PDF, expires_on="2030-07-08").headers["location"]
    items += [goal.headers["location"], papers]
    make_user(settings, "ana", Role.CASEWORKER)
    connection = make_connection(settings, "river", "ana", tuple(part.key for part in PARTS))
    client.cookies.set("lang", language)
    pages = ["/home", "/goals", "/appointments", "/appointments?past=1", "/documents", "/check-ins", "/sharing",
             "/sharing/log", "/settings/security", "/settings/reminders", *items, *(f"{item}/edit" for item in items)]
    sign_in(other_client, "ana")
    other_client.cookies.set("lang", language)
    staff_pages = [f"/people/{connection}", *(f"/people/{connection}/{part.key}" for part in PARTS)]
    key_of_path = {part.path: part.key for part in PARTS}
    staff_pages += [f"/people/{connection}/{key_of_path['/' + item.split('/')[1]]}/{item.rsplit('/', 1)[1]}"
                    for item in items]
    found = []
    for browser, paths in ((client, pages), (other_client, staff_pages)):
        for path in paths:
            answer = browser.get(path)
            assert answer.status_code == 200, path
            assert f'lang="{language}"' in answer.text, path
            found += [(path, date) for date in ISO_DATE.findall(shown(answer.text))]
    assert found == []


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_dates_and_times_read_as_babel_writes_them_in_every_language(language):
    # The patterns are looked up and parsed once per language; what they give must stay Babel's own.
    from datetime import UTC, date, datetime, timedelta, timezone

    from babel.dates import format_date, format_skeleton

    from portal import dates, i18n

    moments = [datetime(2026, 12, 5, 14, 30, tzinfo=UTC), datetime(2027, 1, 2, 3, 4),
               datetime(2026, 3, 1, 23, 59, tzinfo=timezone(timedelta(hours=9)))]
    i18n.use(language)
    try:
        locale = i18n.babel_locale()
        for value in [*moments, date(2027, 6, 7)]:
            plain = value.date() if isinstance(value, datetime) else value
            assert dates.day(value) == format_date(plain, format="medium", locale=locale)
        for value in moments:
            assert dates.clock(value) == format_skeleton("Hm", value, locale=locale)
    finally:
        i18n.use("en")
