"""Sharing in Chromium, two people on two phones: a caseworker shows a code, the survivor connects with
it, shares goals for a week, the caseworker reads the goal (never changes it) and that look is listed in
Who has looked; Stop all sharing denies the caseworker's very next request. Every sharing and My people
page passes axe-core; connecting and saving work without JavaScript; nothing ever leaves localhost."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import expect

from portal.models import Role
from tests.browser.conftest import _loopback_only
from tests.browser.helpers import axe_violations as _axe_violations
from tests.browser.helpers import sign_in, sign_up
from tests.conftest import make_user

GOAL = "Find a course"
SHARED = re.compile(r"^Ana \(caseworker\) can see your goals until (\d{4}-\d{2}-\d{2})\.$")


def _phone(browser, hosts_seen: list[str], **options):  # type: ignore[no-untyped-def]
    """A second person's own phone: a separate context, cookies and all."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, **options)
    _loopback_only(context, hosts_seen)
    return context


def _show_code(staff, server: str, settings) -> str:  # type: ignore[no-untyped-def]
    make_user(settings, "Ana", Role.CASEWORKER)
    sign_in(staff, server, "Ana")
    staff.get_by_role("navigation", name="Main").get_by_role("link", name="My people").click()
    staff.get_by_role("button", name="Show my connection code").click()
    code = staff.locator("p.code")
    expect(code).to_have_text(re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}$"))
    return code.inner_text()


def _make_goal(page, server: str) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/goals/new")
    page.get_by_label("Goal", exact=True).fill(GOAL)
    page.get_by_label("Area").select_option("education")
    page.get_by_role("button", name="Save goal").click()
    page.get_by_role("heading", name=GOAL).wait_for()
    return page.url


def _ask_to_connect(page, code: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sharing").click()
    page.get_by_label("Connection code").fill(code)
    page.get_by_role("button", name="Connect", exact=True).click()
    page.get_by_role("heading", name="Connect with Ana (caseworker)?").wait_for()


def _confirm(page, label: str = "Rivers") -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Your name for them").fill(label)
    page.get_by_role("button", name="Connect", exact=True).click()
    page.get_by_text("Connected. Nothing is shared until you choose below.").wait_for()


def _share_goals_for_a_week(page):  # type: ignore[no-untyped-def]
    card = page.locator("li.card").filter(has=page.get_by_role("heading", name="Ana (caseworker)"))
    expect(card.get_by_text("Ana (caseworker) cannot see anything of yours.")).to_be_visible()
    card.get_by_label("Goals", exact=True).check()
    card.get_by_label("Until").select_option(label="1 week")
    card.get_by_role("button", name="Save sharing").click()
    page.get_by_text("Saved. It takes effect at once.").wait_for()
    sentence = card.get_by_text(SHARED)
    expect(sentence).to_be_visible()
    until = date.fromisoformat(SHARED.match(sentence.inner_text()).group(1))  # type: ignore[union-attr]
    assert abs((until - (datetime.now(UTC) + timedelta(days=7)).date()).days) <= 1, until  # local date, ±1 day
    return card


def _open_rivers_goal(staff) -> None:  # type: ignore[no-untyped-def]
    staff.get_by_role("navigation", name="Main").get_by_role("link", name="My people").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("My people")
    staff.get_by_role("link", name="Rivers").click()
    staff.get_by_role("heading", name="Rivers", exact=True).wait_for()
    staff.get_by_role("link", name="Goals", exact=True).click()
    staff.get_by_role("heading", name="Rivers: Goals").wait_for()
    staff.get_by_role("link", name=GOAL).click()
    staff.get_by_role("heading", name=GOAL).wait_for()


def test_a_shared_goal_is_read_only_logged_and_stopping_denies_the_next_request(page, browser, server, settings,
                                                                                hosts_seen):
    phone_b = _phone(browser, hosts_seen)
    staff = phone_b.new_page()
    try:
        code = _show_code(staff, server, settings)
        sign_up(page, server)
        goal = _make_goal(page, server)
        _ask_to_connect(page, code)
        _confirm(page)
        _share_goals_for_a_week(page)
        assert staff.goto(f"{server}/people").status == 200  # type: ignore[union-attr]
        expect(staff.get_by_role("link", name="Rivers")).to_be_visible()
        expect(staff.get_by_text("Shares with you: Goals")).to_be_visible()
        _open_rivers_goal(staff)
        assert staff.title() == "Waypoint – My people"
        expect(staff.get_by_role("link", name=re.compile("Change|Delete"))).to_have_count(0)
        expect(staff.get_by_role("button", name=re.compile("Change|Delete|achieved|Pause"))).to_have_count(0)
        page.get_by_role("link", name="Who has looked").click()
        expect(page.get_by_text(f"Ana (caseworker) opened “{GOAL}” in your goals")).to_be_visible()
        page.goto(f"{server}/sharing")
        page.get_by_role("button", name="Stop all sharing").click()
        page.get_by_text("All sharing has stopped.").wait_for()
        again = staff.goto(staff.url)  # the caseworker's very next request
        assert again is not None and again.status == 404, again and again.status
        expect(staff.get_by_text(GOAL)).to_have_count(0)
        page.goto(goal)
        expect(page.get_by_text("Only you can see this.")).to_be_visible()
    finally:
        phone_b.close()
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_sharing_and_my_people_pages_have_no_accessibility_violations(axe_page, browser, server, settings, hosts_seen):
    page = axe_page
    phone_b = _phone(browser, hosts_seen, bypass_csp=True)  # bypass_csp only so axe can be injected
    staff = phone_b.new_page()
    try:
        code = _show_code(staff, server, settings)
        assert _axe_violations(staff) == [], "My people with the code shown"
        sign_up(page, server)
        _make_goal(page, server)
        _ask_to_connect(page, code)
        assert _axe_violations(page) == [], "the connect confirm page"
        page.get_by_role("button", name="Connect", exact=True).click()
        page.locator("#label-error").get_by_text("Write the name this person will see for you.").wait_for()
        assert _axe_violations(page) == [], "the confirm page with an empty name"
        _confirm(page)
        _share_goals_for_a_week(page)
        assert _axe_violations(page) == [], "Sharing with a connection and its share card"
        _open_rivers_goal(staff)
        assert _axe_violations(staff) == [], "a shared goal"
        staff.get_by_role("link", name="Back").click()
        staff.get_by_role("heading", name="Rivers: Goals").wait_for()
        assert _axe_violations(staff) == [], "the shared goals list"
        staff.get_by_role("link", name="Back to Rivers").click()
        staff.get_by_role("heading", name="Shared with you").wait_for()
        assert _axe_violations(staff) == [], "the person page"
        page.get_by_role("link", name="Who has looked").click()
        page.get_by_text(f"Ana (caseworker) opened “{GOAL}” in your goals").wait_for()
        assert _axe_violations(page) == [], "Who has looked with entries"
    finally:
        phone_b.close()
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_connecting_and_saving_sharing_work_without_javascript(browser, server, settings, hosts_seen):
    phone_a, phone_b = (_phone(browser, hosts_seen, java_script_enabled=False) for _ in range(2))
    try:
        staff, page = phone_b.new_page(), phone_a.new_page()
        code = _show_code(staff, server, settings)
        sign_up(page, server)
        _make_goal(page, server)
        _ask_to_connect(page, code)
        _confirm(page)
        card = _share_goals_for_a_week(page)
        expect(card.get_by_label("Goals", exact=True)).to_be_checked()
        _open_rivers_goal(staff)
    finally:
        phone_a.close()
        phone_b.close()
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)
