"""The error summary in Chromium: a refused form's summary has focus when the page opens, and each of its links
moves focus to its field (a text box, the first choice of a group), with JavaScript and without it. Which forms
show one is in tests/test_error_summary.py."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import _loopback_only
from tests.browser.helpers import axe_violations, sign_up

ACTIVE = "document.activeElement && (document.activeElement.id || document.activeElement.className)"


def _refuse_a_new_goal(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/goals/new")
    page.get_by_role("button", name="Save goal").click()
    page.locator("[data-error-summary]").wait_for()


def test_the_summary_takes_focus_and_its_links_move_focus_to_the_fields(page, server, hosts_seen):
    sign_up(page, server)
    _refuse_a_new_goal(page, server)
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_focused()
    link = summary.get_by_role("link").first
    target = link.get_attribute("href")[1:]  # type: ignore[index]
    link.click()
    assert page.evaluate(ACTIVE) == target
    expect(page.locator(f"#{target}")).to_be_focused()
    expect(page.locator(f"#{target}")).to_be_in_viewport()
    # A group of choices: the link leads to its first choice.
    page.goto(f"{server}/check-ins/new")
    page.get_by_role("button", name="Save check-in").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Choose how you are feeling, from 1 to 5.").click()
    expect(page.get_by_label("1 · Very low", exact=True)).to_be_focused()
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_without_javascript_the_summary_still_leads_to_the_field(browser, server, hosts_seen):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    _loopback_only(context, hosts_seen)
    page = context.new_page()
    sign_up(page, server)
    _refuse_a_new_goal(page, server)
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()  # autofocus, no script needed
    link = summary.get_by_role("link").first
    target = link.get_attribute("href")[1:]  # type: ignore[index]
    link.click()
    expect(page.locator(f"#{target}")).to_be_focused()
    context.close()


def test_a_refused_page_with_its_summary_has_no_accessibility_violations(axe_page, server, hosts_seen):
    sign_up(axe_page, server)
    _refuse_a_new_goal(axe_page, server)
    assert axe_violations(axe_page) == []
