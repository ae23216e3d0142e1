"""The main pages as a person first sees them on a 390 × 844 phone, one picture each for a survivor, a caseworker, a peer
mentor and an admin, taken by this test from a small, realistic space built over HTTP.

Every run takes every picture (so each page must open and draw); with WAYPOINT_SCREENS=1 they are written to
docs/screens/ as well, which the README links. The last test fails when a picture named here is missing from
docs/screens/ or from its index."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from portal.models import Role
from tests.browser.conftest import _loopback_only
from tests.browser.helpers import sign_in as browser_sign_in
from tests.conftest import make_connection, make_user, post_form, sign_in, sign_up, sql
from tests.test_checkins import check_in
from tests.test_documents import PDF, upload
from tests.test_home import new_goal
from tests.test_journal import entry_url, write_entry

SCREENS_DIR = Path(__file__).resolve().parents[2] / "docs" / "screens"
PHONE = {"width": 390, "height": 844}
# Who, the picture's name, the page (with {goal}, {person}, {thread} filled in from the space built below).
SCREENS = [
    ("survivor", "home", "/home"),
    ("survivor", "goals", "/goals"),
    ("survivor", "goal", "{goal}"),
    ("survivor", "check-ins", "/check-ins"),
    ("survivor", "documents", "/documents"),
    ("survivor", "safety-plan", "/safety-plan"),
    ("survivor", "life-areas", "/life-areas"),
    ("survivor", "journal-entry", "{entry}"),
    ("survivor", "sharing", "/sharing"),
    ("survivor", "messages", "/messages/{thread}"),
    ("survivor", "settings", "/settings"),
    ("survivor", "settings-safety", "/settings/safety"),
    ("survivor", "help", "/help"),
    ("caseworker", "home", "/staff"),
    ("caseworker", "people", "/people"),
    ("caseworker", "person", "/people/{person}"),
    ("caseworker", "shared-goals", "/people/{person}/goals"),
    ("mentor", "people", "/people"),
    ("mentor", "messages", "/messages/{thread}"),
    ("admin", "staff", "/admin/staff"),
    ("admin", "help-lines", "/admin/help-lines"),
]
USERNAMES = {"survivor": "amina", "caseworker": "sam", "mentor": "joanne", "admin": "office"}


def _space(client, settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Amina's space: goals with steps, an appointment, a document, check-ins, a safety plan, two ratings of her
    life areas, a journal entry she has changed once, sharing with Sam · caseworker · Safe Harbor who
    has asked for more, and a thread with Jo · peer mentor · Safe Harbor."""
    sign_up(client, "amina")
    goal = new_goal(client, "Get my ID card back")
    for step in ("Find my birth certificate", "Book at the town hall", "Go with Sam"):
        post_form(client, f"{goal}/steps", {"step": step})
    toggle = re.search(r"/steps/([A-Za-z0-9_-]+)/toggle", client.get(goal).text).group(1)  # type: ignore[union-attr]
    post_form(client, f"{goal}/steps/{toggle}/toggle")
    new_goal(client, "Start an English class")
    post_form(client, "/appointments", {"what": "Housing officer", "place": "Town hall, room 4", "date": "2030-01-02",
                                        "time": "10:00", "reminder": "none"})
    upload(client, PDF, name="Birth certificate", expires_on="")
    check_in(client, feeling="3", safe="yes")
    check_in(client, feeling="4", safe="yes", note="Slept well.")
    post_form(client, "/safety-plan", {"person-0-name": "Sister Maria", "person-0-reach": "At the shelter, 555 0101",
                                       "places": "The library on Main Street", "take": ["id", "phone"],
                                       "code_word": "Blue umbrella", "code_with": "Sister Maria"})
    post_form(client, "/life-areas", {"rate-safety": "2", "rate-housing": "1", "rate-health": "3", "rate-mind": "2",
                                      "rate-money": "1", "rate-work": "2", "rate-legal": "1", "rate-people": "3"})
    post_form(client, "/life-areas", {"rate-safety": "4", "rate-housing": "3", "rate-health": "3", "rate-mind": "3",
                                      "rate-money": "2", "rate-work": "3", "rate-legal": "2", "rate-people": "4"})
    entry = entry_url(write_entry(client, "He kept my passport and said I owed him for the journey.",
                                  happened_on="2026-03-14", place="The flat on Station Road"))
    post_form(client, f"{entry}/edit", {"happened_on": "2026-03-14", "happened_time": "21:00", "place": "The flat on "
                                        "Station Road", "what": "He kept my passport and said I owed him 3,000 for "
                                        "the journey. His brother was there."})
    make_user(settings, "sam", Role.CASEWORKER)
    make_user(settings, "joanne", Role.MENTOR)
    make_user(settings, "office", Role.ADMIN)
    person = make_connection(settings, "amina", "sam", ("goals", "appointments"), label="Amina")
    thread = make_connection(settings, "amina", "joanne", label="Amina")
    sql(settings, "INSERT INTO access_request (id, connection_id, part, reason, created_at) "
                  "VALUES ('request-one', :c, 'documents', 'To help with the ID card application', CURRENT_TIMESTAMP)",
        c=person)
    post_form(client, f"/messages/{thread}", {"body": "Thank you for yesterday."})
    client.cookies.clear()
    sign_in(client, "joanne")
    post_form(client, f"/messages/{thread}", {"body": "How did the town hall go?"})
    client.cookies.clear()
    return {"goal": goal, "person": person, "thread": thread, "entry": entry}


def test_the_main_pages_on_a_phone(browser, server, client, settings, hosts_seen, tmp_path):  # type: ignore[no-untyped-def]
    space = _space(client, settings)
    out = SCREENS_DIR if os.environ.get("WAYPOINT_SCREENS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    for who in USERNAMES:
        context = browser.new_context(viewport=PHONE)
        _loopback_only(context, hosts_seen)
        page = context.new_page()
        browser_sign_in(page, server, USERNAMES[who])
        for role, name, path in SCREENS:
            if role != who:
                continue
            url = server + path.format(**space)
            if page.url != url:  # signing in lands on Home: taken as it first shows (a caseworker's lists what changed)
                response = page.goto(url)
                assert response is not None and response.status == 200, (who, path)
            page.screenshot(path=str(out / f"{who}-{name}.png"))  # the first screen, as the phone shows it
        context.close()
    assert set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_docs_screens_holds_every_picture_and_lists_it():
    index = (SCREENS_DIR / "README.md").read_text()
    for who, name, _path in SCREENS:
        picture = f"{who}-{name}.png"
        assert (SCREENS_DIR / picture).is_file(), picture
        assert f"]({picture})" in index, picture
    readme = (SCREENS_DIR.parents[1] / "README.md").read_text()
    assert "](docs/screens/README.md)" in readme


@pytest.fixture(autouse=True)
def _no_stray_pictures():  # type: ignore[no-untyped-def]
    """Pictures in docs/screens/ that no test takes would go stale unseen."""
    yield
    named = {f"{who}-{name}.png" for who, name, _path in SCREENS}
    if SCREENS_DIR.is_dir():
        assert {p.name for p in SCREENS_DIR.glob("*.png")} <= named
