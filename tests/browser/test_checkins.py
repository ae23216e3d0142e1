"""Check-ins in Chromium: answer the form by pointer or by keyboard alone; saying "not safe" shows
the help lines at once; a missed answer is explained beside the question and what was typed stays;
without JavaScript the same save, change and delete work; every check-ins page passes axe-core;
nothing ever leaves localhost."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.browser.helpers import axe_violations as _axe_violations
from tests.browser.helpers import open_menu, sign_up

NOTE = "Slept badly; my sister visited <3"
DETAIL = re.compile(r"^/check-ins/[A-Za-z0-9_-]{16}$")


def _check_in(page, server: str, feeling: str, safe: str, note: str = "") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/check-ins/new")
    page.get_by_role("group", name="How are you feeling?").get_by_label(feeling, exact=True).check()
    page.get_by_role("group", name="Do you feel safe right now?").get_by_label(safe, exact=True).check()
    page.get_by_label("Note").fill(note)
    page.get_by_role("button", name="Save check-in").click()
    page.get_by_role("heading", name="Check-in", exact=True).wait_for()


def test_a_check_in_saying_not_safe_shows_help_and_the_trend(page, server, hosts_seen):
    sign_up(page, server)
    open_menu(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Check-ins").click()
    page.get_by_role("link", name="New check-in").click()
    page.get_by_role("group", name="How are you feeling?").get_by_label("2 · Low", exact=True).check()
    page.get_by_role("group", name="Do you feel safe right now?").get_by_label("No", exact=True).check()
    page.get_by_label("Food", exact=True).check()
    page.get_by_label("Someone to talk to").check()
    page.get_by_label("Note").fill(NOTE)
    page.get_by_role("button", name="Save check-in").click()
    page.get_by_role("heading", name="You said you do not feel safe. Help is here.").wait_for()
    # No organisation country chosen yet: the emergency number that works across Europe and on most phones.
    expect(page.get_by_role("link", name="Call 112")).to_have_attribute("href", "tel:112")
    assert page.title() == "Waypoint – Check-ins"
    path = urlsplit(page.url).path
    assert DETAIL.match(path), page.url
    assert not any(word in page.url for word in ("Slept", "sister", "food", "talk", "feeling", "safe")), page.url
    page.get_by_role("link", name="Back to check-ins").click()
    caption = page.locator("figure.trend figcaption")
    expect(caption).to_have_text("The first check-in: Low (2 of 5).")
    expect(page.locator("figure.trend svg circle")).to_have_count(1)
    page.goto(f"{server}/home")
    card = page.get_by_role("heading", name="Last check-in").locator("xpath=following-sibling::*[1]")
    expect(card.get_by_role("link", name="Feeling: 2 · Low")).to_be_visible()
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_a_check_in_can_be_made_with_the_keyboard_alone(page, server, hosts_seen):
    sign_up(page, server)
    page.goto(f"{server}/check-ins/new")
    first = page.get_by_label("1 · Very low", exact=True)
    first.focus()
    page.keyboard.press("ArrowDown")  # moves to, and chooses, "2 · Low"
    page.keyboard.press("ArrowDown")  # and on to "3 · Okay"
    expect(page.get_by_label("3 · Okay", exact=True)).to_be_checked()
    expect(page.get_by_label("3 · Okay", exact=True)).to_be_focused()
    button = page.get_by_role("button", name="Save check-in")
    for _ in range(20):  # Tab on through the other questions until the button has the focus
        page.keyboard.press("Tab")
        if button.evaluate("el => el === document.activeElement"):
            break
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_text("Thank you for checking in").wait_for()
    assert DETAIL.match(urlsplit(page.url).path), page.url
    expect(page.get_by_text("3 · Okay")).to_be_visible()
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_a_missing_feeling_is_explained_and_the_note_is_kept(axe_page, server, hosts_seen):
    page = axe_page
    sign_up(page, server)
    page.goto(f"{server}/check-ins/new")
    page.get_by_label("Note").fill("<b>bold</b>")
    page.get_by_role("button", name="Save check-in").click()
    expect(page.locator("#feeling-error")).to_contain_text("Choose how you are feeling, from 1 to 5.")
    assert page.get_by_label("Note").input_value() == "<b>bold</b>"
    assert page.locator("b", has_text="bold").count() == 0  # shown as text, never as markup
    assert _axe_violations(page) == []
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_check_ins_work_without_javascript(browser, server, hosts_seen):
    from tests.browser.conftest import _loopback_only

    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    _loopback_only(context, hosts_seen)
    page = context.new_page()
    try:
        sign_up(page, server)
        _check_in(page, server, "4 · Good", "Yes")
        page.get_by_text("Thank you for checking in. It is saved.").wait_for()
        expect(page.get_by_text("4 · Good")).to_be_visible()
        page.get_by_role("link", name="Change").click()
        page.get_by_role("heading", name="Change check-in").wait_for()
        expect(page.get_by_label("4 · Good", exact=True)).to_be_checked()
        page.get_by_label("5 · Very good", exact=True).check()
        page.get_by_role("button", name="Save check-in").click()
        page.get_by_role("heading", name="Check-in", exact=True).wait_for()
        expect(page.get_by_text("5 · Very good")).to_be_visible()
        page.get_by_role("link", name="Delete").click()
        page.get_by_role("button", name="Yes, delete it").click()
        page.get_by_role("heading", name="Check-ins", exact=True).wait_for()
        assert urlsplit(page.url).path == "/check-ins"
        expect(page.locator(".card")).to_have_count(0)
    finally:
        context.close()
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_check_ins_pages_have_no_accessibility_violations(axe_page, server, hosts_seen):
    page = axe_page
    sign_up(page, server)
    for feeling, safe in (("3 · Okay", "Yes"), ("4 · Good", "Not sure"), ("1 · Very low", "No")):
        _check_in(page, server, feeling, safe, "A note")
    page.get_by_role("heading", name="You said you do not feel safe. Help is here.").wait_for()
    assert _axe_violations(page) == [], "check-in with the help panel"
    detail = page.url
    page.goto(f"{server}/check-ins")
    expect(page.locator("figure.trend svg circle")).to_have_count(3)
    assert _axe_violations(page) == [], "/check-ins with a trend"
    for path in (f"{detail}/edit", f"{detail}/delete", f"{server}/home"):
        page.goto(path)
        assert _axe_violations(page) == [], path
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_the_help_page_has_no_accessibility_violations(axe_page, server, hosts_seen):
    sign_up(axe_page, server)
    axe_page.goto(f"{server}/help")
    axe_page.get_by_role("link", name="Call 112").wait_for()
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)
    assert _axe_violations(axe_page) == []
