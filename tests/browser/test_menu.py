"""The menu on a phone: one "Menu" button in a one-row header, a disclosure that opens by pointer, by keyboard
(Enter or Space) and without JavaScript; the current section marked for everyone (aria-current); on a wide
screen the whole menu shows without the button. Every page beginning within the top 18% of a phone's screen
is checked page by page in tests/browser/test_reflow.py."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import _loopback_only
from tests.browser.helpers import sign_up

TAB_LIMIT = 10


def _menu(page):  # type: ignore[no-untyped-def]
    return page.locator("details.menu")


def test_the_menu_opens_with_the_keyboard_and_marks_the_current_section(page, server, hosts_seen):
    sign_up(page, server)
    page.goto(f"{server}/goals")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Check-ins")).to_be_hidden()  # closed: the page comes first
    for _ in range(TAB_LIMIT):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "SUMMARY":
            break
    expect(page.locator("summary:focus")).to_have_text("Menu")
    page.keyboard.press("Enter")
    expect(_menu(page)).to_have_attribute("open", "")
    expect(nav.get_by_role("link", name="Goals")).to_have_attribute("aria-current", "page")
    expect(nav.locator("[aria-current]")).to_have_count(1)
    for _ in range(TAB_LIMIT):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Check-ins":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}/check-ins")
    expect(_menu(page)).not_to_have_attribute("open", "")  # each page starts with the menu closed
    expect(page.locator('nav a[href="/check-ins"]')).to_have_attribute("aria-current", "page")  # shown on opening
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_the_menu_works_without_javascript(browser, server, hosts_seen):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    _loopback_only(context, hosts_seen)
    page = context.new_page()
    sign_up(page, server)
    page.goto(f"{server}/home")
    menu = page.get_by_text("Menu", exact=True)
    expect(menu).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Sharing")).to_be_hidden()
    menu.click()
    nav.get_by_role("link", name="Sharing").click()
    page.wait_for_url(f"{server}/sharing")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sharing")
    menu.click()
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
    context.close()


def test_a_wide_screen_shows_the_whole_menu_without_the_button(browser, server, hosts_seen):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    _loopback_only(context, hosts_seen)
    page = context.new_page()
    sign_up(page, server)
    page.goto(f"{server}/home")
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Home", "Goals", "Appointments", "Documents", "Check-ins", "Messages", "Sharing", "Settings"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    expect(nav.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    # The Exit now button (top right on a wide screen) covers no part of the menu.
    exit_box = page.locator("#exit-now").bounding_box()
    for link in nav.get_by_role("link").all() + [nav.get_by_role("button", name="Sign out")]:
        box = link.bounding_box()
        assert box and exit_box
        apart = (box["x"] + box["width"] <= exit_box["x"] or exit_box["x"] + exit_box["width"] <= box["x"]
                 or box["y"] + box["height"] <= exit_box["y"] or exit_box["y"] + exit_box["height"] <= box["y"])
        assert apart, (link.inner_text(), box, exit_box)
    context.close()
