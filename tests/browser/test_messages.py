"""Messages in Chromium, a survivor and a peer mentor on two phones: what one sends shows on the other's
open thread within seconds, without a reload, and always as text; a quick answer is one tap; the unread
count shows in the navigation; pausing the mentor holds what they send until the survivor resumes. The
thread and the list pass axe-core; nothing ever leaves localhost."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.models import Role
from tests.browser.conftest import _loopback_only
from tests.browser.helpers import axe_violations as _axe_violations
from tests.browser.helpers import open_menu, sign_in, sign_up
from tests.conftest import make_connection, make_user

MENTOR = "mentor-ana"
MENTOR_SEEN = "Mentor Ana · peer mentor · Safe Harbor"  # as the survivor knows her: never her username
MARKUP = "Hello <b>friend</b>"
LIVE = 12_000  # ms: the thread asks every 5 s, so twice that and a little more
LOOPBACK = {"localhost", "127.0.0.1"}
WAIT = 15_000  # ms: the longest any one step may take (Playwright's own default is 30 s)


def _phone(browser, hosts_seen: list[str], **options):  # type: ignore[no-untyped-def]
    """The other person's own phone: a separate context, cookies and all, loopback only."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, **options)
    context.set_default_timeout(WAIT)
    _loopback_only(context, hosts_seen)
    return context


def _survivor_and_mentor(page, mentor, server: str, settings) -> str:  # type: ignore[no-untyped-def]
    """River signs up on `page`, mentor-ana (made by an admin) signs in on `mentor`; they are connected."""
    sign_up(page, server)
    make_user(settings, MENTOR, Role.MENTOR)
    cid = make_connection(settings, "river", MENTOR)
    sign_in(mentor, server, MENTOR)
    return cid


def _thread(page):  # type: ignore[no-untyped-def]
    return page.locator("section#thread")


def _send(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(_thread(page).locator("li.message--mine").last.locator(".message__body")).to_have_text(text)


def test_a_message_shows_on_the_other_phone_without_a_reload_and_as_text(page, browser, server, settings, hosts_seen):
    page.set_default_timeout(WAIT)
    phone_b = _phone(browser, hosts_seen)
    mentor = phone_b.new_page()
    try:
        cid = _survivor_and_mentor(page, mentor, server, settings)
        open_menu(page)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
        page.wait_for_url(f"{server}/messages")
        page.locator("main").get_by_role("link", name=MENTOR_SEEN).click()
        page.wait_for_url(f"{server}/messages/{cid}")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Messages with {MENTOR_SEEN}")
        mentor.goto(f"{server}/messages/{cid}")
        expect(mentor.get_by_role("heading", level=1)).to_have_text("Messages with Rivers")

        url = page.url
        page.evaluate("window.__marker = 1")
        _send(mentor, MARKUP)
        expect(mentor.get_by_label("Message", exact=True)).to_have_value("")

        body = _thread(page).locator("li.message--theirs .message__body")
        expect(body).to_have_text(MARKUP, timeout=LIVE)  # arrived by the poll, not by a reload
        assert page.url == url
        assert page.evaluate("window.__marker") == 1, "the survivor's page was reloaded"
        assert _thread(page).locator("b").count() == 0, "the message was shown as markup"
        assert body.inner_text() == MARKUP
        expect(page.locator("#wp-announce")).to_have_text("1 new message")

        page.get_by_role("group", name="Or tap a quick answer").get_by_role("button", name="I'm OK").click()
        expect(_thread(page).locator("li.message--mine .message__body")).to_have_text("I'm OK")
        expect(page.get_by_label("Message", exact=True)).to_have_value("")
        assert page.evaluate("window.__marker") == 1, "sending reloaded the survivor's page"
        expect(_thread(mentor).locator("li.message--theirs .message__body")).to_have_text("I'm OK", timeout=LIVE)
        assert mentor.evaluate("document.querySelectorAll('#thread').length") == 1  # swapped, never nested
        expect(mentor.get_by_role("button", name="I'm OK")).to_have_count(0)  # quick answers are the survivor's

        # Away from the thread, a new message is counted beside Messages in the navigation.
        page.goto(f"{server}/home")
        expect(page.locator("#unread .badge")).to_have_count(0)
        _send(mentor, "Are you free on Friday?")
        page.reload()
        open_menu(page)
        link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages")
        expect(link.locator(".badge")).to_have_text("1 unread")
        expect(link).to_have_accessible_name("Messages 1 unread")
        link.click()
        page.locator("main").get_by_role("link", name=MENTOR_SEEN).click()
        expect(_thread(page).locator("li.message--theirs").last).to_contain_text("Are you free on Friday?")
        page.goto(f"{server}/home")
        expect(page.locator("#unread .badge")).to_have_count(0)  # read now
    finally:
        phone_b.close()
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)


def test_pausing_holds_the_mentors_messages_until_the_survivor_resumes(page, browser, server, settings, hosts_seen):
    page.set_default_timeout(WAIT)
    phone_b = _phone(browser, hosts_seen)
    mentor = phone_b.new_page()
    try:
        cid = _survivor_and_mentor(page, mentor, server, settings)
        page.goto(f"{server}/messages/{cid}")
        page.get_by_role("button", name="Pause messages").click()
        expect(page.get_by_text(f"You paused {MENTOR_SEEN}.")).to_be_visible()
        expect(page.get_by_role("button", name="Resume messages")).to_be_visible()
        expect(page.get_by_role("button", name="Pause messages")).to_have_count(0)

        mentor.goto(f"{server}/messages/{cid}")
        expect(mentor.get_by_text("Paused. Rivers is taking a break.")).to_be_visible()
        _send(mentor, "While paused")
        expect(_thread(mentor).locator("li.message--mine").last.locator(".meta")).to_contain_text("waiting: paused")

        page.reload()
        expect(page.get_by_role("button", name="Resume messages")).to_be_visible()
        with page.expect_response(lambda r: f"/messages/{cid}/new" in r.url, timeout=LIVE):
            pass  # one round of the thread's polling has come and gone
        expect(page.get_by_text("While paused")).to_have_count(0)
        page.goto(f"{server}/messages")
        expect(page.locator("main")).not_to_contain_text("new message")
        expect(page.locator("#unread .badge")).to_have_count(0)

        page.goto(f"{server}/messages/{cid}")
        page.get_by_role("button", name="Resume messages").click()
        expect(page.get_by_role("button", name="Pause messages")).to_be_visible()
        expect(page.get_by_text(f"You paused {MENTOR_SEEN}.")).to_have_count(0)
        message = _thread(page).locator("li.message--theirs")
        expect(message.locator(".message__body")).to_have_text("While paused")
        expect(message.locator(".meta")).not_to_contain_text("waiting")
        mentor.reload()
        expect(mentor.get_by_text("waiting: paused")).to_have_count(0)
        expect(mentor.get_by_text("Paused. Rivers is taking a break.")).to_have_count(0)
    finally:
        phone_b.close()
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)


def test_the_thread_and_the_list_have_no_accessibility_violations(axe_page, server, settings, hosts_seen):
    page = axe_page
    page.set_default_timeout(WAIT)
    sign_up(page, server)
    make_user(settings, MENTOR, Role.MENTOR)
    cid = make_connection(settings, "river", MENTOR)
    page.goto(f"{server}/messages/{cid}")
    _send(page, "Hello, thank you for connecting.")
    expect(_thread(page).locator("li.message")).to_have_count(1)
    assert _axe_violations(page) == [], "a thread with one message"
    page.goto(f"{server}/messages")
    expect(page.locator("main").get_by_role("link", name=MENTOR_SEEN)).to_be_visible()
    assert _axe_violations(page) == [], "/messages with one thread"
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)
