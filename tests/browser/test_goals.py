"""Goals in Chromium: htmx changes steps in place; without JavaScript the same forms work as pages;
every goals page passes axe-core."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.helpers import axe_violations as _axe_violations
from tests.browser.helpers import sign_up


def _make_goal(page, server: str, title: str = "Find a course") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/goals")
    page.get_by_role("link", name="New goal").first.click()
    page.get_by_label("Goal", exact=True).fill(title)
    page.get_by_label("Why it matters").fill("So I can work")
    page.get_by_label("Area").select_option("education")
    page.get_by_label("Target date").fill("2027-09-01")
    page.get_by_role("button", name="Save goal").click()
    page.get_by_role("heading", name=title).wait_for()


def test_steps_are_added_ticked_and_moved_in_place_with_htmx(page, server):
    sign_up(page, server)
    _make_goal(page, server)
    page.evaluate("window.__samePage = true")
    for text in ("Ask at the library", "Fill in the form"):
        page.get_by_label("Add a step").fill(text)
        page.get_by_role("button", name="Add step").click()
        page.get_by_role("button", name=f"Done: {text}").wait_for()
    page.get_by_text("0 of 2 steps").wait_for()
    page.get_by_role("button", name="Done: Ask at the library").click()
    page.get_by_text("1 of 2 steps").wait_for()
    assert page.get_by_role("button", name="Done: Ask at the library").get_attribute("aria-pressed") == "true"
    page.get_by_role("button", name="Move down: Ask at the library").click()
    # (A locator, not wait_for_function: that evaluates a string, which the page's CSP rightly refuses.)
    expect(page.locator(".tick__text").first).to_have_text("Fill in the form")
    # A step's words can be changed in place.
    page.get_by_role("link", name="Change: Fill in the form").click()
    page.get_by_label("Change this step").fill("Fill in the form and sign it")
    page.get_by_role("button", name="Save step").click()
    expect(page.locator(".tick__text").first).to_have_text("Fill in the form and sign it")
    expect(page.get_by_role("link", name="Change: Fill in the form and sign it")).to_be_focused()
    page.get_by_role("link", name="Change: Ask at the library").click()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("link", name="Change: Ask at the library")).to_be_focused()
    page.get_by_label("Add a step").fill("")
    page.get_by_role("button", name="Add step").click()
    page.get_by_text("Write the step in a few words.").wait_for()
    assert page.evaluate("window.__samePage") is True  # no page load: htmx swapped the list
    assert page.title() == "Waypoint – Goals"


def test_goals_work_without_javascript(browser, server, hosts_seen):
    from tests.browser.conftest import _loopback_only

    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    _loopback_only(context, hosts_seen)
    page = context.new_page()
    try:
        sign_up(page, server)
        _make_goal(page, server, "Open a bank account")
        page.get_by_label("Add a step").fill("Get a letter with my address")
        page.get_by_role("button", name="Add step").click()
        page.get_by_text("0 of 1 step").wait_for()
        page.get_by_role("button", name="Done: Get a letter with my address").click()
        page.get_by_text("1 of 1 step").wait_for()
        page.get_by_role("button", name="Mark as achieved").click()
        page.get_by_text("You did it.").wait_for()
        page.goto(f"{server}/goals/achieved")
        assert page.get_by_role("link", name="Open a bank account").count() == 1
    finally:
        context.close()


def test_goals_pages_have_no_accessibility_violations(axe_page, server):
    page = axe_page
    sign_up(page, server)
    page.goto(f"{server}/goals")
    assert _axe_violations(page) == [], "/goals (empty)"
    page.goto(f"{server}/goals/new")
    page.get_by_role("button", name="Save goal").click()
    page.locator("#title-error").wait_for()
    assert _axe_violations(page) == [], "new goal with errors"
    _make_goal(page, server)
    page.get_by_label("Add a step").fill("one")
    page.get_by_role("button", name="Add step").click()
    page.get_by_text("0 of 1 step").wait_for()
    page.get_by_label("Add a step").fill("two")
    page.get_by_role("button", name="Add step").click()
    page.get_by_text("0 of 2 steps").wait_for()
    assert _axe_violations(page) == [], "goal with steps"
    page.get_by_role("link", name="Change: two").click()
    page.get_by_label("Change this step").fill("")
    page.get_by_role("button", name="Save step").click()
    page.get_by_text("Write the step in a few words.").wait_for()
    assert _axe_violations(page) == [], "a step being changed, with an error"
    goal_url = page.url.split("#")[0].removesuffix("/edit").rsplit("/steps/", 1)[0]
    for path in ("/goals", "/home", goal_url.removeprefix(server) + "/edit", goal_url.removeprefix(server) + "/delete"):
        page.goto(f"{server}{path}")
        assert _axe_violations(page) == [], path
    page.goto(goal_url)
    page.get_by_role("button", name="Mark as achieved").click()
    page.get_by_text("You did it.").wait_for()
    assert _axe_violations(page) == [], "celebration"
    page.goto(f"{server}/goals/achieved")
    assert _axe_violations(page) == [], "/goals/achieved"


def test_appointment_pages_work_without_javascript_and_pass_axe(axe_page, server):
    page = axe_page
    sign_up(page, server)
    page.goto(f"{server}/appointments")
    assert _axe_violations(page) == [], "/appointments (empty)"
    page.get_by_role("link", name="New appointment").click()
    page.get_by_role("button", name="Save appointment").click()
    page.locator("#what-error").wait_for()
    assert _axe_violations(page) == [], "new appointment with errors"
    page.get_by_label("What").fill("Meeting with my lawyer")
    page.get_by_label("Date").fill("2030-06-15")
    page.get_by_label("Time").fill("14:30")
    page.get_by_label("Where").fill("Legal aid office")
    page.get_by_label("Reminder").select_option("1d")
    page.get_by_role("button", name="Save appointment").click()
    page.get_by_role("heading", name="Meeting with my lawyer").wait_for()
    assert _axe_violations(page) == [], "appointment"
    # Plain by default: the phone's calendar says only "Appointment"; the box gives the details.
    with page.expect_download() as download:
        page.get_by_role("button", name="Add to calendar").click()
    assert download.value.suggested_filename == "appointment.ics"
    plain = Path(download.value.path()).read_text()
    assert "SUMMARY:Appointment" in plain and "lawyer" not in plain and "Legal aid" not in plain
    page.get_by_label("Include the details (what, where, with whom)").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Add to calendar").click()
    assert "SUMMARY:Meeting with my lawyer" in Path(download.value.path()).read_text()
    for path in ("/appointments", "/appointments/past", "/home", "/settings/language"):
        page.goto(f"{server}{path}")
        assert _axe_violations(page) == [], path
