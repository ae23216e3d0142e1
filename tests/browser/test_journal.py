"""The journal in Chromium: an entry written, refused once and kept, changed (its earlier version shown), with no
axe-core violation on the empty list, the list with entries, the form (also after a refused submit) and an entry
with an earlier version, in English, Spanish and Arabic; the caseworker it is shared with reads the earlier
version too. Fields are found by their ids, so the same steps work in every language."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal import i18n
from portal.models import Role
from tests.browser.helpers import axe_violations
from tests.browser.test_languages import html_language, set_language_cookie, sign_in_in, sign_up_in
from tests.conftest import make_connection, make_user, sql

DAY = (date.today() - timedelta(days=10)).isoformat()


def _problems(page, where: str, language: str) -> list[str]:  # type: ignore[no-untyped-def]
    shown = html_language(page)
    found = [] if shown == (language, i18n.direction(language)) else [f"{where}: not in {language}: {shown}"]
    return found + [f"{language} {where}: {violation}" for violation in axe_violations(page)]


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_journal_pages_have_no_accessibility_violations(axe_page, server, settings, language):
    page = axe_page
    set_language_cookie(page.context, server, language)
    sign_up_in(page, server, language)
    found: list[str] = []

    page.goto(f"{server}/journal")
    assert page.locator(".empty-state").count() == 1
    found += _problems(page, "/journal (empty)", language)

    page.goto(f"{server}/journal/new")
    found += _problems(page, "/journal/new", language)
    page.locator("#happened_on").fill(DAY)
    page.locator("#place").fill("Bus stop")
    page.locator("form[action='/journal'] button[type=submit]").click()  # nothing written: refused
    page.locator("#what-error").wait_for()
    assert page.locator("#place").input_value() == "Bus stop"
    found += _problems(page, "/journal/new (refused)", language)

    page.locator("#what").fill("He took my passport.")
    page.locator("#happened_time").fill("21:30")
    page.locator("form[action='/journal'] button[type=submit]").click()
    page.wait_for_url(f"{server}/journal/*")
    entry = page.url.split("?")[0]

    page.goto(f"{entry}/edit")
    page.locator("#what").fill("He took my passport and my phone.")
    page.locator("form[action$='/edit'] button[type=submit]").click()
    page.wait_for_url(entry)
    page.locator(".journal-versions").wait_for()
    assert "He took my passport." in page.locator(".journal-version").inner_text()
    found += _problems(page, "/journal/{id} (with an earlier version)", language)
    # Adding photos later with none chosen: refused on the entry's own page, the error summary leading to the field.
    page.locator("details#files > summary").click()
    page.locator("form[action$='/files'] button[type=submit]").click()
    page.locator("#file-error").wait_for()
    assert page.locator("details#files[open]").count() == 1
    found += _problems(page, "/journal/{id} (adding no file refused)", language)

    page.goto(f"{server}/journal")
    assert page.locator(".cards .card").count() == 1
    found += _problems(page, "/journal (with entries)", language)

    # The caseworker it is shared with reads the earlier version on their own page.
    make_user(settings, "casey", Role.CASEWORKER)
    entry_id = entry.rsplit("/", 1)[1]
    connection = make_connection(settings, "river", "casey", ("journal",))
    page.context.clear_cookies()
    set_language_cookie(page.context, server, language)
    sign_in_in(page, server, language, "casey")
    page.goto(f"{server}/people/{connection}/journal/{entry_id}")
    assert "He took my passport." in page.locator(".journal-version").inner_text()
    found += _problems(page, "/people/{id}/journal/{id}", language)
    page.goto(f"{server}/people/{connection}/journal")
    found += _problems(page, "/people/{id}/journal", language)
    assert sql(settings, "SELECT count(*) FROM journal_version") == [(1,)]
    assert found == [], "\n".join(found)
