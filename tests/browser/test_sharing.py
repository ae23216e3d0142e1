"""Sharing in Chromium, two people on two phones: a caseworker shows a code, the survivor connects with
it, shares goals for a week, the caseworker reads the goal (never changes it) and that look is listed in
Who has looked; Stop all sharing denies the caseworker's very next request, and can be undone for ten seconds. Every sharing and My people
page passes axe-core; connecting and saving work without JavaScript; nothing ever leaves localhost."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from portal.models import Role
from tests.browser.conftest import _loopback_only
from tests.browser.helpers import axe_violations as _axe_violations
from tests.browser.helpers import DAY, open_menu, shown_day, sign_in, sign_up
from tests.conftest import make_connection, make_user

GOAL = "Find a course"
SHARED = re.compile(rf"^Ana · caseworker · Safe Harbor can see your goals until {DAY}\. Your notes stay private\.$")


def _phone(browser, hosts_seen: list[str], **options):  # type: ignore[no-untyped-def]
    """A second person's own phone: a separate context, cookies and all."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, **options)
    _loopback_only(context, hosts_seen)
    return context


def _show_code(staff, server: str, settings) -> str:  # type: ignore[no-untyped-def]
    make_user(settings, "Ana", Role.CASEWORKER)
    sign_in(staff, server, "Ana")
    open_menu(staff)
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
    open_menu(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sharing").click()
    page.get_by_label("Connection code").fill(code)
    page.get_by_role("button", name="Connect", exact=True).click()
    page.get_by_role("heading", name="Connect with Ana?").wait_for()


def _confirm(page, label: str = "Rivers") -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Your name for them").fill(label)
    page.get_by_role("button", name="Connect", exact=True).click()
    page.get_by_text("Connected. Nothing is shared until you choose below.").wait_for()


def _share_goals_for_a_week(page):  # type: ignore[no-untyped-def]
    card = page.locator("li.card").filter(has=page.get_by_role("heading", name="Ana · caseworker · Safe Harbor"))
    expect(card.get_by_text("Ana · caseworker · Safe Harbor cannot see anything of yours.")).to_be_visible()
    card.get_by_label("Goals", exact=True).check()
    card.get_by_label("Until, Goals").select_option(label="1 week")
    card.get_by_role("button", name="Save sharing").click()
    page.get_by_text("Saved. It takes effect at once.").wait_for()
    sentence = card.get_by_text(SHARED)
    expect(sentence).to_be_visible()
    until = shown_day(SHARED.match(sentence.inner_text()).group(1))  # type: ignore[union-attr]
    assert abs((until - (datetime.now(UTC) + timedelta(days=7)).date()).days) <= 1, until  # local date, ±1 day
    return card


def _open_rivers_goal(staff) -> None:  # type: ignore[no-untyped-def]
    open_menu(staff)
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
        expect(page.get_by_text(f"Ana · caseworker · Safe Harbor opened “{GOAL}” in your goals")).to_be_visible()
        page.clock.install()  # the page's timers run on a clock the test moves on
        page.goto(f"{server}/sharing")

        def stop_all() -> None:
            page.get_by_text("Stop all sharing", exact=True).click()  # asks once more before it happens
            page.get_by_role("button", name="Yes, stop all sharing now").click()
            page.get_by_text("All sharing has stopped.").wait_for()

        stop_all()
        assert staff.goto(staff.url).status == 404  # type: ignore[union-attr]
        page.get_by_role("button", name="Undo").click()  # changed their mind within the ten seconds
        page.get_by_text("Undone: your sharing is back as it was.").wait_for()
        assert staff.goto(staff.url).status == 200  # type: ignore[union-attr]
        stop_all()
        expect(page.get_by_role("button", name="Undo")).to_be_visible()
        page.clock.fast_forward(10_500)
        expect(page.get_by_role("button", name="Undo")).to_have_count(0)  # the offer is gone with its time
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
        page.get_by_text(f"Ana · caseworker · Safe Harbor opened “{GOAL}” in your goals").wait_for()
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


# ----- one item shared with one person, "Only me", and asking for access -----------------------------

OTHER_GOAL = "Open a bank account"
ITEM_SHARED = re.compile(rf"Ana · caseworker · Safe Harbor can see this until {DAY}\.")
STOP_ITEM = "Stop sharing this with Ana · caseworker · Safe Harbor"


def _goal_titled(page, server: str, title: str) -> str:  # type: ignore[no-untyped-def]
    """A goal of the survivor's own, by the form; its id (the last part of its page's path)."""
    page.goto(f"{server}/goals/new")
    page.get_by_label("Goal", exact=True).fill(title)
    page.get_by_label("Area").select_option("education")
    page.get_by_role("button", name="Save goal").click()
    page.get_by_role("heading", name=title).wait_for()
    return page.url.rsplit("/", 1)[1]


def _connected_pair(page, staff, server: str, settings,  # type: ignore[no-untyped-def]
                    parts: tuple[str, ...] = ()) -> str:
    """River (page) signed up and Ana (staff) signed in on her own phone, connected directly; the connection id."""
    sign_up(page, server)
    make_user(settings, "Ana", Role.CASEWORKER)
    sign_in(staff, server, "Ana")
    return make_connection(settings, "river", "Ana", parts)


def _share_this_for_a_week(page):  # type: ignore[no-untyped-def]
    """On an item's page: open "Share this with…", choose Ana and 1 week, share; the sentence that says so."""
    disclosure = page.locator("details.share-item")
    expect(disclosure).not_to_have_attribute("open", re.compile(".*"))
    expect(page.get_by_label("With", exact=True)).to_be_hidden()  # closed until asked for
    disclosure.locator("summary", has_text="Share this with…").click()
    expect(disclosure).to_have_attribute("open", "")
    page.get_by_label("With", exact=True).select_option(label="Ana · caseworker · Safe Harbor")
    page.get_by_label("Until", exact=True).select_option(label="1 week")
    page.get_by_role("button", name="Share this", exact=True).click()
    sentence = page.locator("ul.sentences li").filter(has_text=ITEM_SHARED)
    expect(sentence).to_have_count(1)
    until = shown_day(ITEM_SHARED.search(sentence.inner_text()).group(1))  # type: ignore[union-attr]
    assert abs((until - (datetime.now(UTC) + timedelta(days=7)).date()).days) <= 1, until  # local date, ±1 day
    expect(page.get_by_text("You and Ana · caseworker · Safe Harbor can see this.", exact=True)).to_be_visible()
    return sentence


def _ask(staff, what: str, why: str) -> None:  # type: ignore[no-untyped-def]
    staff.get_by_label("What you would like to see").select_option(label=what)
    staff.get_by_label("Why you need it").fill(why)
    staff.get_by_role("button", name="Ask", exact=True).click()
    expect(staff.get_by_role("status")).to_have_text(re.compile(r"^\s*Asked\. "))


def _request_card(page, what: str):  # type: ignore[no-untyped-def]
    return page.locator("li.card").filter(has=page.get_by_role("heading", name=f"Ana · caseworker · Safe Harbor asks to see {what}"))


def test_one_item_shared_with_one_person_shows_only_it_and_stop_denies_the_next_request(page, browser, server, settings,
                                                                                      hosts_seen):
    phone_b = _phone(browser, hosts_seen)
    staff = phone_b.new_page()
    try:
        cid = _connected_pair(page, staff, server, settings)
        shared = _goal_titled(page, server, GOAL)
        other = _goal_titled(page, server, OTHER_GOAL)
        assert staff.goto(f"{server}/people/{cid}/goals/{shared}").status == 404  # type: ignore[union-attr]
        page.goto(f"{server}/goals/{shared}")
        expect(page.get_by_text("Only you can see this.", exact=True)).to_be_visible()
        sentence = _share_this_for_a_week(page)
        assert page.url.endswith(f"/goals/{shared}?done=shared"), page.url
        page.goto(f"{server}/goals/{other}")  # the other goal is still hers alone
        expect(page.get_by_text("Only you can see this.", exact=True)).to_be_visible()
        expect(page.locator("ul.sentences")).to_have_count(0)

        assert staff.goto(f"{server}/people/{cid}").status == 200  # type: ignore[union-attr]
        expect(staff.get_by_text("Some items, chosen one by one")).to_be_visible()
        staff.get_by_role("link", name="Goals", exact=True).click()
        staff.get_by_role("heading", name="Rivers: Goals").wait_for()
        expect(staff.get_by_role("link", name=GOAL)).to_be_visible()
        expect(staff.get_by_role("link", name=OTHER_GOAL)).to_have_count(0)
        expect(staff.get_by_text(OTHER_GOAL)).to_have_count(0)
        assert staff.goto(f"{server}/people/{cid}/goals/{other}").status == 404  # type: ignore[union-attr]
        assert staff.goto(f"{server}/people/{cid}/goals/{shared}").status == 200  # type: ignore[union-attr]
        expect(staff.get_by_role("heading", name=GOAL)).to_be_visible()

        page.goto(f"{server}/goals/{shared}")
        sentence.get_by_role("button", name=STOP_ITEM).click()
        page.wait_for_url(re.compile(rf"/goals/{shared}\?done=stopped$"))
        expect(page.locator("ul.sentences li")).to_have_count(0)
        expect(page.get_by_text("Only you can see this.", exact=True)).to_be_visible()
        again = staff.goto(staff.url)  # the caseworker's very next request
        assert again is not None and again.status == 404, again and again.status
        expect(staff.get_by_text(GOAL)).to_have_count(0)
        assert staff.goto(f"{server}/people/{cid}/goals").status == 404  # type: ignore[union-attr]
    finally:
        phone_b.close()
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_only_me_wins_over_the_whole_goals_part_shared(page, browser, server, settings, hosts_seen):
    phone_b = _phone(browser, hosts_seen)
    staff = phone_b.new_page()
    try:
        cid = _connected_pair(page, staff, server, settings, parts=("goals",))
        private = _goal_titled(page, server, GOAL)
        _goal_titled(page, server, OTHER_GOAL)
        assert staff.goto(f"{server}/people/{cid}/goals/{private}").status == 200  # type: ignore[union-attr]
        staff.goto(f"{server}/people/{cid}/goals")
        expect(staff.get_by_role("link", name=GOAL)).to_be_visible()

        page.goto(f"{server}/goals/{private}")
        expect(page.get_by_text("You and Ana · caseworker · Safe Harbor can see this.", exact=True)).to_be_visible()
        page.get_by_role("button", name="Mark as “Only me”").click()
        expect(page.get_by_text("Only you can see this.", exact=True)).to_be_visible()
        expect(page.get_by_role("button", name="Remove “Only me”")).to_be_visible()
        expect(page.get_by_role("button", name="Mark as “Only me”")).to_have_count(0)
        expect(page.get_by_text("You and Ana · caseworker · Safe Harbor can see this.")).to_have_count(0)
        expect(page.get_by_text("Share this with…")).to_have_count(0)  # an Only me item cannot be shared

        again = staff.goto(f"{server}/people/{cid}/goals/{private}")  # the caseworker's very next request
        assert again is not None and again.status == 404, again and again.status
        staff.goto(f"{server}/people/{cid}/goals")
        staff.get_by_role("heading", name="Rivers: Goals").wait_for()
        expect(staff.get_by_role("link", name=OTHER_GOAL)).to_be_visible()  # the rest of the part is still shared
        expect(staff.get_by_text(GOAL)).to_have_count(0)
    finally:
        phone_b.close()
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_a_caseworker_asks_with_a_reason_and_learns_only_approved_or_not_now(page, browser, server, settings,
                                                                            hosts_seen):
    phone_b = _phone(browser, hosts_seen)
    staff = phone_b.new_page()
    try:
        cid = _connected_pair(page, staff, server, settings)
        assert staff.goto(f"{server}/people/{cid}/documents").status == 404  # type: ignore[union-attr]
        staff.goto(f"{server}/people/{cid}")
        expect(staff.get_by_role("heading", name="Ask for access")).to_be_visible()
        _ask(staff, "Documents", "To help you renew your passport")
        expect(staff.get_by_text("Documents: waiting for an answer")).to_be_visible()
        asked_only = staff.goto(f"{server}/people/{cid}/documents")  # asking shares nothing
        assert asked_only is not None and asked_only.status == 404, asked_only and asked_only.status

        open_menu(page)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Sharing").click()
        card = _request_card(page, "your documents")
        expect(card).to_be_visible()
        expect(card.get_by_text("Their reason: “To help you renew your passport”")).to_be_visible()
        card.get_by_label("Until").select_option(label="1 week")
        card.get_by_role("button", name="Approve").click()
        expect(page.get_by_role("status")).to_contain_text("Approved. It takes effect at once")
        expect(_request_card(page, "your documents")).to_have_count(0)
        approved = re.compile(rf"Ana · caseworker · Safe Harbor can see your documents until {DAY}\.")
        expect(page.get_by_text(approved)).to_be_visible()

        staff.goto(f"{server}/people/{cid}")
        expect(staff.get_by_text("Documents: approved")).to_be_visible()
        staff.get_by_role("link", name="Documents", exact=True).click()
        expect(staff.get_by_role("heading", level=1)).to_have_text("Rivers: Documents")
        assert staff.goto(f"{server}/people/{cid}/documents").status == 200  # type: ignore[union-attr]

        staff.goto(f"{server}/people/{cid}")
        askable = staff.get_by_label("What you would like to see")
        expect(askable.locator("option", has_text="Documents")).to_have_count(0)  # shared now, so not askable
        _ask(staff, "Check-ins", "To check in with you each week")
        page.goto(f"{server}/sharing")
        card = _request_card(page, "your check-ins")
        expect(card.get_by_text("Their reason: “To check in with you each week”")).to_be_visible()
        card.get_by_role("button", name="Decline").click()
        expect(page.get_by_role("status")).to_contain_text("Declined.")
        expect(_request_card(page, "your check-ins")).to_have_count(0)
        expect(page.get_by_text("can see your check-ins")).to_have_count(0)

        staff.goto(f"{server}/people/{cid}")
        expect(staff.get_by_text("Check-ins: not now")).to_be_visible()
        expect(staff.get_by_text("Documents: approved")).to_be_visible()
        expect(staff.get_by_text(re.compile("declin", re.IGNORECASE))).to_have_count(0)
        assert staff.goto(f"{server}/people/{cid}/checkins").status == 404  # type: ignore[union-attr]
    finally:
        phone_b.close()
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_item_sharing_only_me_and_asking_have_no_accessibility_violations(axe_page, browser, server, settings,
                                                                          hosts_seen):
    page = axe_page
    phone_b = _phone(browser, hosts_seen, bypass_csp=True)  # bypass_csp only so axe can be injected
    staff = phone_b.new_page()
    try:
        cid = _connected_pair(page, staff, server, settings)
        shared = _goal_titled(page, server, GOAL)
        private = _goal_titled(page, server, OTHER_GOAL)
        page.goto(f"{server}/goals/{shared}")
        sentence = _share_this_for_a_week(page)
        expect(sentence.get_by_role("button", name=STOP_ITEM)).to_be_visible()
        page.locator("details.share-item summary").click()
        expect(page.get_by_label("With", exact=True)).to_be_visible()
        assert _axe_violations(page) == [], "a goal shared with one person, the Share this disclosure open"

        page.goto(f"{server}/goals/{private}")
        page.get_by_role("button", name="Mark as “Only me”").click()
        expect(page.get_by_role("button", name="Remove “Only me”")).to_be_visible()
        assert _axe_violations(page) == [], "a goal marked Only me"

        staff.goto(f"{server}/people/{cid}")
        _ask(staff, "Documents", "To help you renew your passport")
        _ask(staff, "Appointments", "To come with you to the clinic")
        expect(staff.locator("ul.log li")).to_have_count(2)
        expect(staff.get_by_role("button", name="Ask", exact=True)).to_be_visible()
        assert _axe_violations(staff) == [], "the person page with the Ask form and a list of asks"

        page.goto(f"{server}/sharing")
        expect(_request_card(page, "your documents")).to_be_visible()
        assert _axe_violations(page) == [], "Sharing with open requests"
    finally:
        phone_b.close()
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_sharing_one_item_and_only_me_work_without_javascript(browser, server, settings, hosts_seen):
    phone_a, phone_b = (_phone(browser, hosts_seen, java_script_enabled=False) for _ in range(2))
    try:
        page, staff = phone_a.new_page(), phone_b.new_page()
        cid = _connected_pair(page, staff, server, settings)
        shared = _goal_titled(page, server, GOAL)
        private = _goal_titled(page, server, OTHER_GOAL)
        page.goto(f"{server}/goals/{shared}")
        sentence = _share_this_for_a_week(page)
        assert staff.goto(f"{server}/people/{cid}/goals/{shared}").status == 200  # type: ignore[union-attr]
        expect(staff.get_by_role("heading", name=GOAL)).to_be_visible()
        sentence.get_by_role("button", name=STOP_ITEM).click()
        expect(page.locator("ul.sentences li")).to_have_count(0)
        assert staff.goto(staff.url).status == 404  # type: ignore[union-attr]

        page.goto(f"{server}/goals/{private}")
        _share_this_for_a_week(page)
        assert staff.goto(f"{server}/people/{cid}/goals/{private}").status == 200  # type: ignore[union-attr]
        page.get_by_role("button", name="Mark as “Only me”").click()
        expect(page.get_by_text("Only you can see this.", exact=True)).to_be_visible()
        expect(page.get_by_role("button", name="Remove “Only me”")).to_be_visible()
        assert staff.goto(staff.url).status == 404  # type: ignore[union-attr]
        page.get_by_role("button", name="Remove “Only me”").click()
        expect(page.get_by_role("button", name="Mark as “Only me”")).to_be_visible()
    finally:
        phone_a.close()
        phone_b.close()
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)
