"""Deleting from a list in Chromium with htmx: the question is asked inside the card, "No" puts the
card back as it was, "Yes" leaves a note where the card was, all without leaving the page; the
in-place question passes axe-core. Without JavaScript the same link is a page (tests of each feature)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import axe_violations as _axe_violations
from tests.browser.helpers import sign_up


def _check_in(page, server: str, note: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/check-ins/new")
    page.get_by_label("3 · Okay").check()
    page.get_by_label("Note").fill(note)
    page.get_by_role("button", name="Save check-in").click()
    page.get_by_text("Thank you for checking in").wait_for()


def test_delete_asks_in_place_and_keeps_or_removes_only_that_card(axe_page, server, hosts_seen):
    page = axe_page
    sign_up(page, server)
    for note in ("First day", "Second day", "Third day"):
        _check_in(page, server, note)
    page.goto(f"{server}/check-ins")
    page.evaluate("window.__samePage = true")
    cards = page.locator("li.card")
    expect(cards).to_have_count(3)
    second = cards.nth(1)
    expect(second).to_contain_text("Second day")

    second.get_by_role("link", name="Delete").click()
    second.get_by_role("heading", name="Delete this check-in?").wait_for()
    # Focus lands on the safe answer, so Enter by mistake changes nothing.
    expect(second.get_by_role("link", name="No, keep it")).to_be_focused()
    assert _axe_violations(page) == []
    second.get_by_role("link", name="No, keep it").click()
    expect(cards.nth(1)).to_contain_text("Second day")
    # The card is back as it was, and the focus with it: a keyboard user is where they were.
    expect(cards.nth(1).get_by_role("link", name="Delete")).to_be_focused()

    cards.nth(1).get_by_role("link", name="Delete").click()
    cards.nth(1).get_by_role("button", name="Yes, delete it").click()
    expect(cards.nth(1)).to_have_text("Check-in deleted.")
    expect(page.locator("#wp-announce")).to_have_text("Check-in deleted.")
    expect(cards.nth(0)).to_contain_text("Third day")
    expect(cards.nth(2)).to_contain_text("First day")
    assert page.evaluate("window.__samePage") is True  # no page load: it all happened in place
    assert page.url == f"{server}/check-ins"
    page.reload()
    expect(page.locator("li.card")).to_have_count(2)
    expect(page.locator("main")).not_to_contain_text("Second day")
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_each_list_deletes_in_place(page, server):
    sign_up(page, server)
    page.goto(f"{server}/goals/new")
    page.get_by_label("Goal", exact=True).fill("Learn to drive")
    page.get_by_label("Area").select_option("work")
    page.get_by_role("button", name="Save goal").click()
    page.get_by_role("heading", name="Learn to drive").wait_for()
    page.goto(f"{server}/appointments/new")
    page.get_by_label("What").fill("Dentist")
    page.get_by_label("Date").fill("2030-03-04")
    page.get_by_label("Time").fill("09:15")
    page.get_by_role("button", name="Save appointment").click()
    page.get_by_role("heading", name="Dentist").wait_for()
    for path, message in (("/goals", "Goal deleted."), ("/appointments", "Appointment deleted.")):
        page.goto(f"{server}{path}")
        page.evaluate("window.__samePage = true")
        card = page.locator("li.card").first
        card.get_by_role("link", name="Delete").click()
        card.get_by_role("button", name="Yes, delete it").click()
        expect(card).to_have_text(message)
        assert page.evaluate("window.__samePage") is True, path
