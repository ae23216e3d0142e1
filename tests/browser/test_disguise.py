"""The name "Notes" in Chromium: chosen in Settings, it is the tab's title and the header at once, and the
sign-in page after a sign-out still says it; Settings with the choice passes axe-core."""

from __future__ import annotations

from tests.browser.helpers import axe_violations as _axe_violations
from tests.browser.helpers import open_menu, sign_up


def test_notes_is_the_name_in_the_tab_and_after_sign_out(axe_page, server):
    page = axe_page
    sign_up(page, server)
    page.goto(f"{server}/settings/safety")
    assert page.title() == "Waypoint – Safety"
    page.get_by_label("Notes, with a notepad icon").check()
    page.get_by_role("button", name="Save safety settings").click()
    page.get_by_text("Saved.").first.wait_for()
    assert page.title() == "Notes – Safety"
    assert page.locator(".brand").inner_text() == "Notes"
    assert _axe_violations(page) == []
    open_menu(page)
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(f"{server}/")
    assert page.title() == "Notes"
    page.goto(f"{server}/sign-in")
    assert page.title() == "Notes – Sign in"
    assert "Waypoint" not in page.locator("header").inner_text()
