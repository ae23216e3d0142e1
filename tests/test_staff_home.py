"""A caseworker's or mentor's Home over HTTP: what changed in their people's sharing since their last visit
(shares that began, shares stopped or past their end, requests answered "approved" or "not now"), each change
shown once, in the staff member's own time zone; nothing of another staff member's, and nothing that was not
shared (no item's title, no notes)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta


from portal.dates import moment as moment_shown
from portal.models import Role
from portal.timezones import local
from tests.conftest import make_connection, make_user, post_form, sign_in, sign_up, sql, user_id
from tests.test_home import new_goal
from tests.test_sharing import moment, share

NOTHING = "Nothing has changed since your last visit."


def visit(staff) -> tuple[str, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """One visit to Home: its What changed section, and each line of it as (where it leads, what it says)."""
    page = staff.get("/staff")
    assert page.status_code == 200
    section = page.text.split('aria-labelledby="changes-heading"')[1].split("</section>")[0]
    return section, re.findall(r'<a href="(/people/[^"]+)">([^<]+)</a>', section)


def said(staff) -> list[str]:  # type: ignore[no-untyped-def]
    """One visit to Home: what its lines say, newest first."""
    return [text for _href, text in visit(staff)[1]]


def ask(staff, settings, cid: str, part: str) -> str:  # type: ignore[no-untyped-def]
    """The staff member asks for a part; the request's id."""
    asked = post_form(staff, f"/people/{cid}/ask", {"part": part, "reason": "To plan our next meeting"})
    assert asked.status_code == 303
    found = sql(settings, "SELECT id FROM access_request WHERE connection_id = :c AND part = :p", c=cid, p=part)
    return str(found[0][0])


def seen_at(settings, username: str) -> datetime | None:  # type: ignore[no-untyped-def]
    value = sql(settings, "SELECT home_seen_at FROM app_user WHERE id = :u", u=user_id(settings, username))[0][0]
    return None if value is None else moment(value)


def test_what_changed_since_the_last_visit_is_shown_once(pair, settings):
    survivor, staff = pair
    cid = make_connection(settings, "river", "Ana", ("appointments",), label="Dawn")
    assert seen_at(settings, "Ana") is None
    first = staff.get("/staff").text
    assert "What changed in the last 14 days" in first and "Dawn started sharing “Appointments” with you." in first
    visited = seen_at(settings, "Ana")
    assert visited is not None and abs(datetime.now(UTC) - visited) < timedelta(minutes=1)

    goals, checkins = ask(staff, settings, cid, "goals"), ask(staff, settings, cid, "checkins")
    assert post_form(survivor, f"/sharing/requests/{goals}/approve", {"until": "week"}).status_code == 303
    assert post_form(survivor, f"/sharing/requests/{checkins}/decline").status_code == 303
    # Documents shared; appointments no longer ticked, so stopped; goals kept as they are.
    assert share(survivor, cid, {"goals": "keep", "documents": "month"}).status_code == 303

    page = staff.get("/staff").text
    section = page.split('aria-labelledby="changes-heading"')[1].split("</section>")[0]
    lines = re.findall(r'<a href="(/people/[^"]+)">([^<]+)</a>', section)
    assert "What changed since your last visit" in section
    texts = [text for _href, text in lines]  # newest first; the last save made the first two at once
    assert set(texts[:2]) == {"Dawn stopped sharing “Appointments” with you.", "Dawn started sharing “Documents” with you."}
    assert texts[2:] == [
        "Dawn said “not now” to your request to see “Check-ins”.",
        "Dawn approved your request to see “Goals”.",  # said once: not also "started sharing “Goals”"
    ]
    assert {href for href, _text in lines} == {f"/people/{cid}"}
    assert section.count("<time ") == 4
    assert "declin" not in page.lower() and "To plan our next meeting" not in page
    later = seen_at(settings, "Ana")
    assert later is not None and later > visited

    # Shown once: the next visit has nothing new.
    again, lines = visit(staff)
    assert NOTHING in again and lines == [] and "Dawn" not in again


def test_changing_a_shares_end_or_notes_is_not_a_stop_and_a_start(pair, settings):
    survivor, staff = pair
    cid = make_connection(settings, "river", "Ana", label="Dawn")
    assert share(survivor, cid, {"goals": "week"}).status_code == 303
    assert said(staff) == ["Dawn started sharing “Goals” with you."]
    # The survivor saves again with a new end and notes included: the card is replaced, the share goes on.
    assert share(survivor, cid, {"goals": "3months"}, notes=("goals",)).status_code == 303
    assert sql(settings, "SELECT count(*) FROM share_grant WHERE revoked_at IS NOT NULL")[0][0] == 1
    section, lines = visit(staff)
    assert NOTHING in section and lines == []


def test_a_share_reaching_its_end_says_so_in_the_staff_members_time_zone(pair, settings):
    _survivor, staff = pair
    cid = make_connection(settings, "river", "Ana", ("goals",), label="Dawn")
    now = datetime.now(UTC)
    ended = now - timedelta(hours=1, microseconds=1500)
    sql(settings, "UPDATE share_grant SET created_at = :c, ends_at = :e", c=now - timedelta(days=3), e=ended)
    sql(settings, "UPDATE app_user SET home_seen_at = :s, time_zone = 'Asia/Tokyo' WHERE username = 'Ana'",
        s=now - timedelta(hours=2))
    section, lines = visit(staff)
    assert lines == [(f"/people/{cid}", "The time Dawn chose for sharing “Goals” with you has ended.")]
    assert f'datetime="{ended.isoformat()}"' in section
    assert moment_shown(local(ended, "Asia/Tokyo")) in section  # Tokyo's hour (UTC+9), not UTC's
    assert moment_shown(ended) not in section


def test_the_first_visit_shows_the_last_14_days(pair, settings):
    _survivor, staff = pair
    old = make_connection(settings, "river", "Ana", ("goals",), label="Dawn")
    recent = make_connection(settings, "river", "Ana", ("documents",), label="Dusk")
    now = datetime.now(UTC)
    for cid, days in ((old, 20), (recent, 10)):
        sql(settings, "UPDATE share_grant SET created_at = :t WHERE connection_id = :c",
            t=now - timedelta(days=days), c=cid)
    assert visit(staff)[1] == [(f"/people/{recent}", "Dusk started sharing “Documents” with you.")]
    assert NOTHING in visit(staff)[0]


def test_nothing_of_another_staff_member_or_an_ended_connection_shows(pair, third_client, settings):
    survivor, staff = pair
    make_user(settings, "Ben", Role.CASEWORKER)
    make_connection(settings, "river", "Ana", label="Dawn")
    bens = make_connection(settings, "river", "Ben", label="Morning")
    sign_up(third_client, "sea")
    theirs = make_connection(settings, "sea", "Ana", label="Tide")
    assert NOTHING.replace("since your last visit", "in the last 14 days") in visit(staff)[0]
    sign_in(third_client, "Ben")
    assert said(third_client) == []
    asked = ask(third_client, settings, bens, "goals")
    assert post_form(survivor, f"/sharing/requests/{asked}/approve", {"until": "week"}).status_code == 303
    assert share(survivor, bens, {"goals": "keep", "documents": "week"}).status_code == 303
    # Another survivor shares with Ana, then ends the connection (which stops the card): nothing to say.
    at = datetime.now(UTC)
    sql(settings, "INSERT INTO share_grant (id, connection_id, part, created_at, revoked_at, include_notes) "
                  "VALUES ('tidegoals', :c, 'goals', :t, :t, false)", c=theirs, t=at)
    sql(settings, "UPDATE connection SET ended_at = :t WHERE id = :c", t=at, c=theirs)

    section, lines = visit(staff)
    assert NOTHING in section and lines == []
    assert "Morning" not in section and "Tide" not in section and bens not in section and theirs not in section
    # Ben sees his own on his Home.
    assert said(third_client) == ["Morning started sharing “Documents” with you.",
                                  "Morning approved your request to see “Goals”."]


def test_an_item_share_says_one_item_of_a_part_and_never_its_title(pair, settings):
    survivor, staff = pair
    goal = new_goal(survivor, "Find a safe flat near the clinic")
    item = goal.rsplit("/", 1)[1]
    cid = make_connection(settings, "river", "Ana", label="Dawn")
    visit(staff)
    form = {"part": "goals", "item_id": item, "connection": cid, "until": "week", "notes": "1"}
    assert post_form(survivor, "/sharing/item", form).status_code == 303
    section, lines = visit(staff)
    assert lines == [(f"/people/{cid}", "Dawn started sharing one item of “Goals” with you.")]
    assert "safe flat" not in section and item not in section
    # Shared again for longer while the first card is still in force: the same share goes on.
    assert post_form(survivor, "/sharing/item", {**form, "until": "stop"}).status_code == 303
    assert said(staff) == []
    # Stopped, card by card: said once, when the last one stops.
    for (card,) in sql(settings, "SELECT id FROM share_grant WHERE item_id = :i ORDER BY created_at", i=item):
        assert post_form(survivor, f"/sharing/cards/{card}/stop").status_code == 303
    assert said(staff) == ["Dawn stopped sharing one item of “Goals” with you."]
    assert NOTHING in visit(staff)[0]


def test_only_a_caseworker_or_mentor_has_this_home(client, settings):
    sign_up(client, "river")
    assert client.get("/staff", follow_redirects=False).status_code == 404
    assert seen_at(settings, "river") is None
