"""Life areas in Chromium: rated by keyboard-free clicks on the form's radios, refused when nothing is rated
(the error summary leads to the first area), and every life-areas page (the empty list, the form, the form
after a refused submit, the list with the wheel and the lines, one rating) with no axe-core violation in English,
Spanish and Arabic; in Arabic, on a phone, no page wider than the screen. Nothing leaves localhost."""

from __future__ import annotations

import re

import pytest

from portal import i18n
from tests.browser.helpers import axe_violations
from tests.browser.test_languages import _too_wide, html_language, set_language_cookie, sign_up_in, words

ITEM = re.compile(r"/life-areas/[A-Za-z0-9_-]{16}$")


def _rate(page, server: str, ratings: dict[str, int], language: str) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/life-areas/new")
    for area, value in ratings.items():
        page.locator(f"#rate-{area}-{value}").check()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/life-areas/[A-Za-z0-9_-]{16}\?saved=1$"))
    assert page.get_by_role("heading", name=words(language, "Life areas"), exact=True).count() == 1
    return page.url.split("?")[0]


def _violations(page, where: str, language: str) -> list[str]:  # type: ignore[no-untyped-def]
    shown = html_language(page)
    found = [] if shown == (language, i18n.direction(language)) else [f"{language} {where}: not in {language}"]
    return found + [f"{language} {where}: {violation}" for violation in axe_violations(page)]


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_every_life_areas_page_has_no_accessibility_violations(axe_page, server, language):
    page = axe_page
    set_language_cookie(page.context, server, language)
    sign_up_in(page, server, language)
    found: list[str] = []
    for path in ("/life-areas", "/life-areas/new"):
        page.goto(f"{server}{path}")
        found += _violations(page, path + " (empty)", language)

    # Nothing rated: refused, the summary leads to the first area's first choice, and the page still passes.
    page.goto(f"{server}/life-areas/new")
    page.locator("#note-housing").evaluate("el => el.closest('details').open = true")
    page.locator("#note-housing").fill("Kept words")
    page.locator("main form button[type=submit]").click()
    page.locator("#areas-error").wait_for()
    assert page.locator("#note-housing").input_value() == "Kept words"
    assert page.locator(".error-summary a[href='#rate-safety-1']").count() == 1
    found += _violations(page, "/life-areas/new (refused)", language)

    _rate(page, server, {"safety": 1, "housing": 2, "health": 3, "money": 4}, language)
    item = _rate(page, server, {"safety": 3, "housing": 2, "health": 5, "mind": 1, "people": 4}, language)
    page.goto(item)
    found += _violations(page, "item", language)
    page.goto(f"{server}/life-areas")
    assert page.locator("svg.wheel__svg[role=img] polygon[data-rating=latest]").count() == 1
    assert page.locator("svg.wheel__svg polygon[data-rating=first]").count() == 1
    found += _violations(page, "/life-areas (two ratings)", language)
    assert found == [], "\n".join(found)

    if language == "ar":
        page.set_viewport_size({"width": 390, "height": 844})
        problems = _too_wide(page, server, ["/life-areas", "/life-areas/new", item.split(server, 1)[1]], "ar")
        assert not problems, "\n".join(problems)
