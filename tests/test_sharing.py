"""Sharing over HTTP: connection codes, share cards the survivor writes, the caseworker's read-only view,
revocation and expiry on the very next request, "Only me", Who has looked, and who can see what."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from portal.models import Role
from portal.dates import day
from tests.conftest import sql, make_connection, make_user, post_form, sign_in, sign_up
from tests.test_checkins import check_in
from tests.test_documents import PDF, big_file, upload
from tests.test_home import new_goal


def make_item(survivor, part: str, title: str) -> str:  # type: ignore[no-untyped-def]
    """One item of a part, made through the survivor's own forms; its URL."""
    if part == "goals":
        return new_goal(survivor, title)
    if part == "appointments":
        return post_form(survivor, "/appointments", {"what": title, "date": "2030-01-02", "time": "10:00",
                                                      "reminder": "none"}).headers["location"]
    if part == "documents":
        return upload(survivor, PDF, name=title).headers["location"]
    return check_in(survivor, note=title).split("?")[0]


def moment(value) -> datetime:  # type: ignore[no-untyped-def]
    """A time read back with raw SQL: SQLite gives text, PostgreSQL a datetime."""
    value = datetime.fromisoformat(value) if isinstance(value, str) else value
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def share(survivor, cid: str, parts: dict[str, str], notes: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """Save a connection's sharing: each part ticked with its own Until, and the parts whose notes are included."""
    data = {"parts": list(parts), "notes": list(notes), **{f"until-{part}": until for part, until in parts.items()}}
    return post_form(survivor, f"/sharing/{cid}/save", data)


class _Form(HTMLParser):
    """What a browser sends for one form of a page, as the page shows it: ticked boxes, chosen options."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.select = action, False, ""
        self.values: dict[str, list[str]] = {}
        self.first: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.inside = found.get("action") == self.action
        elif not self.inside:
            return
        elif tag == "input" and found.get("type") == "checkbox" and "checked" in found:
            self.values.setdefault(found["name"] or "", []).append(found.get("value") or "on")
        elif tag == "select":
            self.select = found.get("name") or ""
        elif tag == "option" and self.select:
            self.first.setdefault(self.select, found.get("value") or "")
            if "selected" in found:
                self.values[self.select] = [found.get("value") or ""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            self.values.setdefault(self.select, [self.first.get(self.select, "")])
            self.select = ""


def form_as_shown(survivor, cid: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """The connection's sharing form on the Sharing page, as a browser would send it untouched."""
    parser = _Form(f"/sharing/{cid}/save")
    parser.feed(survivor.get("/sharing").text)
    assert parser.values, "no sharing form for this connection"
    return parser.values


def show_code(staff) -> str:  # type: ignore[no-untyped-def]
    page = post_form(staff, "/people/code").text
    match = re.search(r'<p class="code" translate="no">([A-Z2-9]{4}-[A-Z2-9]{4})</p>', page)
    assert match, page
    return match.group(1)


def connect(survivor, code: str, label: str = "Rivers"):  # type: ignore[no-untyped-def]
    asked = post_form(survivor, "/sharing/connect", {"code": code})
    assert asked.status_code == 200, asked.text
    return post_form(survivor, "/sharing/connect/confirm", {"code": code, "label": label})


def connection_id(staff) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'href="/people/([A-Za-z0-9_-]{16})"', staff.get("/people").text)
    assert match
    return match.group(1)


def test_connecting_by_code_shares_nothing_until_the_survivor_chooses(pair, settings):
    survivor, staff = pair
    goal = new_goal(survivor, "Get my ID card back")
    code = show_code(staff)
    asked = post_form(survivor, "/sharing/connect", {"code": code.lower().replace("-", " ")})
    assert "Connect with Ana?" in asked.text and "Caseworker · Safe Harbor" in asked.text
    done = post_form(survivor, "/sharing/connect/confirm", {"code": code, "label": "Rivers"})
    assert done.status_code == 303 and done.headers["location"] == "/sharing?done=connected"
    sharing = survivor.get("/sharing").text
    assert "Ana · caseworker · Safe Harbor" in sharing and "Ana · caseworker · Safe Harbor cannot see anything of yours." in sharing
    cid = connection_id(staff)
    people = staff.get("/people").text
    assert "Rivers" in people and "river" not in people and "Shares nothing with you right now." in people
    assert "Rivers shares nothing with you right now." in staff.get(f"/people/{cid}").text
    assert staff.get(f"/people/{cid}/goals").status_code == 404
    assert staff.get(f"/people/{cid}/goals/{goal.rsplit('/', 1)[1]}").status_code == 404
    assert sql(settings, "SELECT count(*) FROM access_log")[0][0] == 0


def test_a_code_works_once_for_15_minutes_and_wrong_codes_say_nothing(pair, third_client, settings):
    survivor, staff = pair
    code = show_code(staff)
    assert connect(survivor, code).status_code == 303
    sign_up(third_client, "sea")
    used = post_form(third_client, "/sharing/connect", {"code": code})
    assert used.status_code == 400 and "This code does not work" in used.text and "Ana" not in used.text
    stale = show_code(staff)
    sql(settings, "UPDATE connection_code SET expires_at = :t WHERE used_at IS NULL", t=datetime.now(UTC) - timedelta(seconds=1))
    assert "This code does not work" in post_form(third_client, "/sharing/connect", {"code": stale}).text
    older = show_code(staff)
    newest = show_code(staff)  # a new code voids the one before
    assert "This code does not work" in post_form(third_client, "/sharing/connect", {"code": older}).text
    assert post_form(third_client, "/sharing/connect", {"code": newest}).status_code == 200
    # Guessing: after a few wrong codes, even a right one waits.
    for _ in range(5):
        post_form(third_client, "/sharing/connect", {"code": "AAAA-AAAA"})
    waited = post_form(third_client, "/sharing/connect", {"code": newest})
    assert waited.status_code == 400 and "Too many tries" in waited.text
    assert sql(settings, "SELECT count(*) FROM connection")[0][0] == 1


def test_the_name_the_caseworker_sees_is_needed_and_kept_short(pair):
    survivor, staff = pair
    code = show_code(staff)
    assert post_form(survivor, "/sharing/connect", {"code": code}).status_code == 200
    empty = post_form(survivor, "/sharing/connect/confirm", {"code": code, "label": " "})
    assert empty.status_code == 400 and "Write the name this person will see for you." in empty.text
    long = post_form(survivor, "/sharing/connect/confirm", {"code": code, "label": "<b>x</b>" * 20})
    assert long.status_code == 400 and "60 characters or fewer" in long.text and "&lt;b&gt;x" in long.text


def test_a_shared_part_is_read_only_logged_and_stops_on_the_very_next_request(pair, settings):
    survivor, staff = pair
    goal = new_goal(survivor, "Find a course")
    connect(survivor, show_code(staff))
    cid = connection_id(staff)
    saved = share(survivor, cid, {"goals": "week", "documents": "week"})
    assert saved.status_code == 303
    week = day((datetime.now(UTC) + timedelta(days=7)).date())
    sharing = survivor.get("/sharing").text
    assert f"Ana · caseworker · Safe Harbor can see your goals until {week}. Your notes stay private." in sharing
    assert f"Ana · caseworker · Safe Harbor can see your documents until {week}.</li>" in sharing  # documents have no notes
    assert f'<option value="keep" selected>As now: until {week}</option>' in sharing  # the form shows what is in force
    people = staff.get("/people")
    assert people.status_code == 200 and "Shares with you: Goals, Documents" in people.text
    assert "You and Ana · caseworker · Safe Harbor can see this." in survivor.get(goal).text
    assert "You and Ana · caseworker · Safe Harbor can see your goals" in survivor.get("/goals").text
    assert "Only you can see your check-ins." in survivor.get("/check-ins").text

    item = goal.rsplit("/", 1)[1]
    assert "Find a course" in staff.get(f"/people/{cid}/goals").text
    page = staff.get(f"/people/{cid}/goals/{item}")
    assert page.status_code == 200 and "Find a course" in page.text and "<title>Waypoint – My people</title>" in page.text
    assert "/edit" not in page.text and "Delete" not in page.text  # read-only
    assert staff.get(f"/people/{cid}/checkins").status_code == 404  # not shared
    # The caseworker cannot change anything of the survivor's, whatever is shared.
    assert post_form(staff, f"{goal}/edit", {"title": "x", "area": "work"}).status_code == 404

    log = survivor.get("/sharing/log").text
    assert "Ana · caseworker · Safe Harbor opened “Find a course” in your goals" in log
    assert "Ana · caseworker · Safe Harbor looked at your goals" in log

    # Revoked in one browser: denied on the caseworker's very next request.
    post_form(survivor, "/sharing/stop-all")
    assert staff.get(f"/people/{cid}/goals/{item}").status_code == 404
    assert staff.get(f"/people/{cid}/goals").status_code == 404
    assert "Only you can see this." in survivor.get(goal).text


def _undo_form(page: str) -> str:
    """The moment the page's Undo button would send, or "" when the page offers no Undo."""
    found = re.search(r'action="/sharing/stop-all/undo".*?name="at" value="(\d+)"', page, re.S)
    return found.group(1) if found else ""


def test_stop_all_sharing_can_be_undone_for_ten_seconds_and_gives_back_exactly_what_was_stopped(pair, third_client,
                                                                                              settings):
    survivor, staff = pair
    goal = new_goal(survivor, "Find a course").rsplit("/", 1)[1]
    document = make_item(survivor, "documents", "Passport").rsplit("/", 1)[1]
    connect(survivor, show_code(staff))
    cid = connection_id(staff)
    share(survivor, cid, {"goals": "month"}, notes=("goals",))
    post_form(survivor, "/sharing/item", {"part": "documents", "item_id": document, "connection": cid, "until": "week"})
    before = sql(settings, "SELECT part, item_id, ends_at, include_notes FROM share_grant WHERE revoked_at IS NULL"
                           " ORDER BY part")
    assert len(before) == 2

    stopped = post_form(survivor, "/sharing/stop-all")
    page = survivor.get(stopped.headers["location"]).text
    assert "All sharing has stopped." in page and "You can undo this for 10 seconds." in page
    at = _undo_form(page)
    assert at and staff.get(f"/people/{cid}/goals/{goal}").status_code == 404
    # Another survivor's Undo with this moment gives them nothing and gives nothing back of this survivor's.
    make_user(settings, "other_one", Role.SURVIVOR)
    sign_in(third_client, "other_one")
    assert post_form(third_client, "/sharing/stop-all/undo", {"at": at}).headers["location"] == "/sharing?done=restored"
    assert staff.get(f"/people/{cid}/goals/{goal}").status_code == 404

    undone = post_form(survivor, "/sharing/stop-all/undo", {"at": at})
    assert "Undone: your sharing is back as it was." in survivor.get(undone.headers["location"]).text
    assert staff.get(f"/people/{cid}/goals/{goal}").status_code == 200
    assert staff.get(f"/people/{cid}/documents/{document}").status_code == 200
    post_form(survivor, "/sharing/stop-all/undo", {"at": at})  # pressed twice: given back once
    after = sql(settings, "SELECT part, item_id, ends_at, include_notes FROM share_grant WHERE revoked_at IS NULL"
                          " ORDER BY part")
    assert after == before  # the same parts, items, ends and notes choice; the stop itself stays on record
    assert len(sql(settings, "SELECT id FROM share_grant WHERE revoked_at IS NOT NULL")) == 2

    # More than ten seconds after: refused in words, nothing given back, and the page no longer offers it.
    stopped = post_form(survivor, "/sharing/stop-all")
    at = _undo_form(survivor.get(stopped.headers["location"]).text)
    stops = [(row[0], moment(row[1])) for row in sql(settings, "SELECT id, revoked_at FROM share_grant"
                                                                  " WHERE revoked_at IS NOT NULL")]
    last = max(when for _id, when in stops)
    for card_id, when in stops:
        if when == last:  # the cards of this stop, as if stopped eleven seconds ago
            sql(settings, "UPDATE share_grant SET revoked_at = :late WHERE id = :id", id=card_id,
                late=when - timedelta(seconds=11))
    late = str(int(at) - 11_000_000)
    refused = post_form(survivor, "/sharing/stop-all/undo", {"at": late})
    assert "It is too late to undo." in survivor.get(refused.headers["location"]).text
    assert staff.get(f"/people/{cid}/goals/{goal}").status_code == 404
    assert _undo_form(survivor.get(f"/sharing?done=stopped&at={late}").text) == ""
    for bad in ("", "soon", "9" * 30, "-5"):
        assert post_form(survivor, "/sharing/stop-all/undo", {"at": bad}).headers["location"] == "/sharing?done=too-late"


def test_expired_and_unchecked_cards_end_access(pair, settings):
    survivor, staff = pair
    goal = new_goal(survivor, "Open a bank account").rsplit("/", 1)[1]
    connect(survivor, show_code(staff))
    cid = connection_id(staff)
    share(survivor, cid, {"goals": "stop"})
    assert "until you stop it" in survivor.get("/sharing").text
    assert staff.get(f"/people/{cid}/goals/{goal}").status_code == 200
    sql(settings, "UPDATE share_grant SET ends_at = :t", t=datetime.now(UTC) - timedelta(seconds=1))
    assert staff.get(f"/people/{cid}/goals/{goal}").status_code == 404
    share(survivor, cid, {"goals": "month"})
    assert staff.get(f"/people/{cid}/goals/{goal}").status_code == 200
    post_form(survivor, f"/sharing/{cid}/save", {"until-goals": "month"})  # nothing ticked: nothing shared
    assert staff.get(f"/people/{cid}/goals/{goal}").status_code == 404
    assert share(survivor, cid, {"goals": "forever"}).status_code == 400
    # "As now" is only a choice for a part already shared; a ticked part with no Until is refused.
    assert share(survivor, cid, {"goals": "keep"}).status_code == 400
    assert post_form(survivor, f"/sharing/{cid}/save", {"parts": "goals"}).status_code == 400
    assert staff.get(f"/people/{cid}/goals/{goal}").status_code == 404


@pytest.mark.parametrize("part", ["goals", "appointments", "documents", "checkins"])
def test_only_me_wins_over_a_shared_part(pair, settings, part):
    survivor, staff = pair
    url = make_item(survivor, part, "Private plan")
    item = url.rsplit("/", 1)[1]
    cid = make_connection(settings, "river", "Ana", (part,))
    assert staff.get(f"/people/{cid}/{part}/{item}").status_code == 200
    assert "You and Ana · caseworker · Safe Harbor can see this." in survivor.get(url).text
    assert post_form(survivor, f"{url}/private", {"private": "1"}).status_code == 303
    page = survivor.get(url).text
    assert "Only you can see this." in page and "Remove “Only me”" in page
    assert staff.get(f"/people/{cid}/{part}/{item}").status_code == 404
    assert "Private plan" not in staff.get(f"/people/{cid}/{part}").text
    assert post_form(staff, f"{url}/private", {"private": "0"}).status_code == 404  # only the owner decides
    post_form(survivor, f"{url}/private", {"private": "0"})
    assert staff.get(f"/people/{cid}/{part}/{item}").status_code == 200


def test_ending_the_connection_from_either_side_ends_every_card(pair, settings):
    survivor, staff = pair
    goal = new_goal(survivor, "Learn to swim").rsplit("/", 1)[1]
    cid = make_connection(settings, "river", "Ana", ("goals",))
    assert staff.get(f"/people/{cid}/goals/{goal}").status_code == 200
    assert post_form(staff, f"/people/{cid}/end").status_code == 303
    assert staff.get(f"/people/{cid}").status_code == 404
    assert "No connections yet." in survivor.get("/sharing").text
    cid = make_connection(settings, "river", "Ana", ("goals",))
    assert post_form(survivor, f"/sharing/{cid}/end").status_code == 303
    assert staff.get(f"/people/{cid}/goals/{goal}").status_code == 404
    assert sql(settings, "SELECT count(*) FROM share_grant WHERE revoked_at IS NULL")[0][0] == 0


def test_a_shared_document_downloads_byte_identical_and_the_download_is_logged(pair, settings):
    survivor, staff = pair
    content = big_file(300_000)
    url = upload(survivor, content, name="Passport").headers["location"]
    cid = make_connection(settings, "river", "Ana", ("documents",))
    item = url.rsplit("/", 1)[1]
    download = staff.get(f"/people/{cid}/documents/{item}/download")
    assert download.status_code == 200 and download.content == content
    assert download.headers["cache-control"] == "no-store"
    assert "Ana · caseworker · Safe Harbor downloaded your document “Passport”" in survivor.get("/sharing/log").text
    # The survivor's own downloads are never logged.
    before = sql(settings, "SELECT count(*) FROM access_log")[0][0]
    survivor.get(f"{url}/download")
    assert sql(settings, "SELECT count(*) FROM access_log")[0][0] == before


def test_another_caseworker_and_the_survivors_other_people_see_nothing(pair, third_client, settings):
    survivor, staff = pair
    goal = new_goal(survivor, "Mine").rsplit("/", 1)[1]
    check_in(survivor, note="today")
    cid = make_connection(settings, "river", "Ana", ("goals", "checkins"))
    make_user(settings, "Bobby", Role.MENTOR)
    sign_in(third_client, "Bobby")
    for path in (f"/people/{cid}", f"/people/{cid}/goals", f"/people/{cid}/goals/{goal}", f"/people/{cid}/checkins"):
        assert third_client.get(path).status_code == 404, path
    assert post_form(third_client, f"/people/{cid}/end").status_code == 404
    # A connection to the same survivor shares nothing by itself.
    other = make_connection(settings, "river", "Bobby")
    assert third_client.get(f"/people/{other}/goals/{goal}").status_code == 404
    # Only the survivor reads their log; staff and other survivors get 404 for it.
    assert third_client.get("/sharing/log").status_code == 404
    assert staff.get("/sharing").status_code == 404


def test_who_has_looked_filters_by_person_and_says_when_an_item_is_gone(pair, third_client, settings):
    survivor, staff = pair
    goal = new_goal(survivor, "Gone soon").rsplit("/", 1)[1]
    cid = make_connection(settings, "river", "Ana", ("goals",))
    make_user(settings, "Bobby", Role.MENTOR)
    sign_in(third_client, "Bobby")
    bo = make_connection(settings, "river", "Bobby", ("goals",))
    staff.get(f"/people/{cid}/goals/{goal}")
    third_client.get(f"/people/{bo}/goals")
    post_form(survivor, f"/goals/{goal}/delete")
    log = survivor.get("/sharing/log").text
    assert "Ana · caseworker · Safe Harbor opened something in your goals that you have since deleted" in log
    assert "Bobby · peer mentor · Safe Harbor looked at your goals" in log
    only_bo = survivor.get("/sharing/log?person=Bobby").text
    assert "Bobby · peer mentor · Safe Harbor" in only_bo and "Ana · caseworker · Safe Harbor opened" not in only_bo


def test_every_caseworker_look_is_in_who_has_looked_and_nothing_else_is(pair, settings):
    survivor, staff = pair
    urls = {
        "goals": new_goal(survivor, "Goal seen"),
        "appointments": post_form(survivor, "/appointments", {"what": "Clinic seen", "date": "2030-01-02", "time": "10:00",
                                                               "reminder": "none"}).headers["location"],
        "documents": upload(survivor, PDF, name="Paper seen").headers["location"],
        "checkins": check_in(survivor, note="seen").split("?")[0],
    }
    cid = make_connection(settings, "river", "Ana", tuple(urls))
    # The survivor's own looks are never logged.
    for url in urls.values():
        survivor.get(url)
    survivor.get("/home")
    staff.get("/people")
    staff.get(f"/people/{cid}")
    assert sql(settings, "SELECT count(*) FROM access_log")[0][0] == 0
    looks = []
    for part, url in urls.items():
        item = url.rsplit("/", 1)[1]
        assert staff.get(f"/people/{cid}/{part}").status_code == 200
        assert staff.get(f"/people/{cid}/{part}/{item}").status_code == 200
        looks += [(part, None, "list"), (part, item, "item")]
    item = urls["documents"].rsplit("/", 1)[1]
    assert staff.get(f"/people/{cid}/documents/{item}/download").status_code == 200
    looks.append(("documents", item, "download"))
    staff.get(f"/people/{cid}/goals/{'x' * 16}")  # a miss shows nothing, and logs nothing
    rows = sql(settings, "SELECT part, item_id, action, viewer_name, viewer_role FROM access_log ORDER BY id")
    assert [(part, item_id, action) for part, item_id, action, _name, _role in rows] == looks
    assert {(name, role) for *_rest, name, role in rows} == {("Ana", "caseworker")}
    log = survivor.get("/sharing/log").text
    assert log.split("<ul class=\"log\">")[1].split("</ul>")[0].count("<li>") == len(looks)
    for text in ("opened “Goal seen” in your goals", "opened “Clinic seen” in your appointments",
                 "opened “Paper seen” in your documents", "downloaded your document “Paper seen”",
                 "opened your check-in of", "looked at your check-ins"):
        assert f"Ana · caseworker · Safe Harbor {text}" in log, text


def test_a_caseworker_asks_with_a_reason_and_learns_only_approved_or_not_now(pair, settings):
    survivor, staff = pair
    goal = new_goal(survivor, "Asked about").rsplit("/", 1)[1]
    cid = make_connection(settings, "river", "Ana")
    assert "Ask for access" in staff.get(f"/people/{cid}").text
    empty = post_form(staff, f"/people/{cid}/ask", {"part": "goals", "reason": " "})
    assert empty.status_code == 400 and "Say why you need it" in empty.text
    bad = post_form(staff, f"/people/{cid}/ask", {"part": "secrets", "reason": "x"})
    assert bad.status_code == 400 and "Choose something they do not share" in bad.text
    assert post_form(staff, f"/people/{cid}/ask", {"part": "goals", "reason": "To plan <b>housing</b>"}).status_code == 303
    again = post_form(staff, f"/people/{cid}/ask", {"part": "goals", "reason": "Again"})
    assert again.status_code == 400 and "asked for this already" in again.text
    assert "Goals: waiting for an answer" in staff.get(f"/people/{cid}").text
    inbox = survivor.get("/sharing").text
    assert "Ana · caseworker · Safe Harbor asks to see your goals" in inbox and "To plan &lt;b&gt;housing&lt;/b&gt;" in inbox
    request_id = re.search(r'/sharing/requests/([A-Za-z0-9_-]+)/approve', inbox).group(1)  # type: ignore[union-attr]
    assert staff.get(f"/people/{cid}/goals/{goal}").status_code == 404  # asking shares nothing
    assert post_form(staff, f"/sharing/requests/{request_id}/approve", {"until": "week"}).status_code == 404
    assert post_form(survivor, f"/sharing/requests/{request_id}/approve", {"until": "week"}).status_code == 303
    assert staff.get(f"/people/{cid}/goals/{goal}").status_code == 200
    assert "Goals: approved" in staff.get(f"/people/{cid}").text
    assert post_form(survivor, f"/sharing/requests/{request_id}/decline").status_code == 404  # answered already
    # Declined: the asker learns only "not now", and nothing is shared.
    post_form(staff, f"/people/{cid}/ask", {"part": "checkins", "reason": "To check in with you"})
    second = re.search(r'/sharing/requests/([A-Za-z0-9_-]+)/decline', survivor.get("/sharing").text).group(1)  # type: ignore[union-attr]
    assert post_form(survivor, f"/sharing/requests/{second}/decline").status_code == 303
    person = staff.get(f"/people/{cid}").text
    assert "Check-ins: not now" in person and "decline" not in person.lower()
    assert staff.get(f"/people/{cid}/checkins").status_code == 404


def test_a_flood_of_requests_is_refused_plainly(pair, settings):
    survivor, staff = pair
    cid = make_connection(settings, "river", "Ana")
    for part in ("goals", "appointments", "documents"):
        assert post_form(staff, f"/people/{cid}/ask", {"part": part, "reason": "Please"}).status_code == 303
    flood = post_form(staff, f"/people/{cid}/ask", {"part": "checkins", "reason": "Please"})
    assert flood.status_code == 400 and "up to 3 times a day" in flood.text
    assert sql(settings, "SELECT count(*) FROM access_request")[0][0] == 3


def test_one_item_shared_with_one_person_and_stopped(pair, third_client, settings):
    survivor, staff = pair
    shared = new_goal(survivor, "Shared one")
    other = new_goal(survivor, "Not shared").rsplit("/", 1)[1]
    cid = make_connection(settings, "river", "Ana")
    page = survivor.get(shared).text
    assert "Share this with…" in page and f'<option value="{cid}"' in page
    item = shared.rsplit("/", 1)[1]
    assert post_form(survivor, "/sharing/item", {"part": "goals", "item_id": item, "connection": cid,
                                                 "until": "stop"}).headers["location"] == f"{shared}?done=shared"
    page = survivor.get(shared).text
    assert "Ana · caseworker · Safe Harbor can see this until you stop it." in page and "You and Ana · caseworker · Safe Harbor can see this." in page
    assert "Only you can see this." in survivor.get(f"/goals/{other}").text
    assert "Some items, chosen one by one" in staff.get(f"/people/{cid}").text
    listing = staff.get(f"/people/{cid}/goals").text
    assert "Shared one" in listing and "Not shared" not in listing
    assert staff.get(f"/people/{cid}/goals/{item}").status_code == 200
    assert staff.get(f"/people/{cid}/goals/{other}").status_code == 404
    card = re.search(r'/sharing/cards/([A-Za-z0-9_-]+)/stop', page).group(1)  # type: ignore[union-attr]
    assert post_form(staff, f"/sharing/cards/{card}/stop").status_code == 404  # only the survivor stops it
    assert post_form(survivor, f"/sharing/cards/{card}/stop").headers["location"] == f"{shared}?done=stopped"
    assert staff.get(f"/people/{cid}/goals/{item}").status_code == 404
    # Not an item marked Only me, nor someone else's item, nor to someone else's connection.
    post_form(survivor, f"{shared}/private", {"private": "1"})
    post_form(survivor, "/sharing/item", {"part": "goals", "item_id": item, "connection": cid, "until": "week"})
    assert staff.get(f"/people/{cid}/goals/{item}").status_code == 404
    sign_up(third_client, "sea")
    theirs = new_goal(third_client, "Sea's goal").rsplit("/", 1)[1]
    assert post_form(survivor, "/sharing/item", {"part": "goals", "item_id": theirs, "connection": cid,
                                                 "until": "week"}).status_code == 404
    assert post_form(third_client, "/sharing/item", {"part": "goals", "item_id": theirs, "connection": cid,
                                                     "until": "week"}).status_code == 404
    assert sql(settings, "SELECT count(*) FROM share_grant WHERE revoked_at IS NULL")[0][0] == 0


@pytest.mark.parametrize("part", ["goals", "appointments", "documents", "checkins"])
def test_an_item_shared_until_a_date_shows_the_date_on_its_page(pair, settings, part):
    survivor, staff = pair
    url = make_item(survivor, part, "Dated")
    cid = make_connection(settings, "river", "Ana")
    done = post_form(survivor, "/sharing/item", {"part": part, "item_id": url.rsplit("/", 1)[1], "connection": cid,
                                                 "until": "week"})
    page = survivor.get(done.headers["location"])
    week = day((datetime.now(UTC) + timedelta(days=7)).date())
    assert page.status_code == 200 and f"Ana · caseworker · Safe Harbor can see this until {week}." in page.text
    assert "Shared. It takes effect at once" in page.text
    assert "Ana · caseworker · Safe Harbor can see one item of your" in survivor.get("/sharing").text


def _ends(settings) -> dict[str, datetime | None]:  # type: ignore[no-untyped-def]
    rows = sql(settings, "SELECT part, ends_at FROM share_grant WHERE revoked_at IS NULL AND item_id IS NULL")
    return {part: moment(end) if end is not None else None for part, end in rows}


def test_adding_a_part_never_changes_another_parts_end(pair, settings):
    survivor, staff = pair
    cid = make_connection(settings, "river", "Ana")
    share(survivor, cid, {"goals": "week"})
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    sql(settings, "UPDATE share_grant SET ends_at = :t", t=tomorrow)  # six days later: one day left
    # The survivor ticks Documents for 3 months and touches nothing else on the form.
    form = form_as_shown(survivor, cid)
    assert form["until-goals"] == ["keep"] and form["parts"] == ["goals"]
    post_form(survivor, f"/sharing/{cid}/save", {**form, "parts": ["goals", "documents"], "until-documents": ["3months"]})
    ends = _ends(settings)
    assert abs(ends["goals"] - tomorrow) < timedelta(seconds=1)  # type: ignore[operator]  # untouched: one day left
    assert ends["documents"].date() == (datetime.now(UTC) + timedelta(days=91)).date()  # type: ignore[union-attr]
    page = survivor.get("/sharing").text
    assert f"can see your goals until {day(tomorrow.date())}." in page
    assert f"can see your documents until {day((datetime.now(UTC) + timedelta(days=91)).date())}." in page
    # Saved again as shown (twice, as a double tap would): nothing moves, no card is added.
    cards = sql(settings, "SELECT count(*) FROM share_grant")[0][0]
    for _ in range(2):
        post_form(survivor, f"/sharing/{cid}/save", form_as_shown(survivor, cid))
    assert _ends(settings) == ends and sql(settings, "SELECT count(*) FROM share_grant")[0][0] == cards
    # Changing one part's Until changes that part alone.
    post_form(survivor, f"/sharing/{cid}/save", {**form_as_shown(survivor, cid), "until-documents": ["stop"]})
    assert _ends(settings) == {"goals": ends["goals"], "documents": None}


def test_approving_a_request_never_changes_another_parts_end(pair, settings):
    survivor, staff = pair
    cid = make_connection(settings, "river", "Ana")
    share(survivor, cid, {"goals": "week"})
    week = _ends(settings)["goals"]
    post_form(staff, f"/people/{cid}/ask", {"part": "documents", "reason": "For the visa"})
    request_id = re.search(r"/sharing/requests/([A-Za-z0-9_-]+)/approve", survivor.get("/sharing").text).group(1)  # type: ignore[union-attr]
    assert post_form(survivor, f"/sharing/requests/{request_id}/approve", {"until": "3months"}).status_code == 303
    assert _ends(settings)["goals"] == week
    # And the form, saved as it is now shown, still leaves goals at their week.
    post_form(survivor, f"/sharing/{cid}/save", form_as_shown(survivor, cid))
    ends = _ends(settings)
    assert ends["goals"] == week and ends["documents"].date() == (datetime.now(UTC) + timedelta(days=91)).date()  # type: ignore[union-attr]


def test_a_deleted_or_only_me_item_takes_its_cards_with_it(pair, settings):
    survivor, staff = pair
    cid = make_connection(settings, "river", "Ana")
    first, second = new_goal(survivor, "First"), new_goal(survivor, "Second")
    for url in (first, second):
        post_form(survivor, "/sharing/item", {"part": "goals", "item_id": url.rsplit("/", 1)[1], "connection": cid, "until": "stop"})
    post_form(survivor, f"{first}/delete")
    post_form(survivor, f"{second}/private", {"private": "1"})
    assert "can see this until" not in survivor.get(second).text  # no card shown beside "Only me"
    post_form(survivor, f"{second}/private", {"private": "0"})
    assert staff.get(f"/people/{cid}/goals/{second.rsplit('/', 1)[1]}").status_code == 404  # not shared again
    assert sql(settings, "SELECT count(*) FROM share_grant WHERE revoked_at IS NULL")[0][0] == 0
    assert "one item of your goals" not in survivor.get("/sharing").text


def test_a_deactivated_caseworker_loses_every_connection_for_good(pair, third_client, settings):
    survivor, staff = pair
    goal = new_goal(survivor, "Mine").rsplit("/", 1)[1]
    cid = make_connection(settings, "river", "Ana", ("goals",))
    make_user(settings, "org-admin", Role.ADMIN)
    sign_in(third_client, "org-admin")
    ana = sql(settings, "SELECT id FROM app_user WHERE username = 'Ana'")[0][0]
    assert "connections with people have ended" in post_form(third_client, f"/admin/staff/{ana}/deactivate").text
    assert "No connections yet." in survivor.get("/sharing").text
    post_form(third_client, f"/admin/staff/{ana}/reactivate")
    sign_in(staff, "Ana")
    assert staff.get(f"/people/{cid}/goals/{goal}").status_code == 404
    assert "Only you can see this." in survivor.get(f"/goals/{goal}").text


def test_who_has_looked_keeps_its_filter_from_page_to_page(pair, third_client, settings):
    survivor, staff = pair
    cid = make_connection(settings, "river", "Ana", ("goals",))
    for _ in range(31):
        staff.get(f"/people/{cid}/goals")
    first = survivor.get("/sharing/log?person=Ana").text
    assert first.split('<ul class="log">')[1].split("</ul>")[0].count("<li>") == 30
    assert 'href="?person=Ana&amp;page=2"' in first
    second = survivor.get("/sharing/log?person=Ana&page=2").text
    assert 'href="?person=Ana&amp;page=1"' in second and second.split('<ul class="log">')[1].count("<li>") >= 1


def test_my_people_comes_in_pages_of_20_newest_first(client, settings):
    make_user(settings, "Ana", Role.CASEWORKER)
    sql(settings, "INSERT INTO app_user (username, username_key, role, password_hash, active, created_at, exit_url, "
        "time_zone, idle_minutes, cover_when_hidden, app_name) SELECT 'p' || n, 'p' || n, 'survivor', '', true, "
        "CURRENT_TIMESTAMP, '', 'UTC', 0, true, 'waypoint' FROM (SELECT 1 AS n UNION SELECT 2 UNION SELECT 3) AS few")
    for number in range(25):
        make_connection(settings, ("p1", "p2", "p3")[number % 3], "Ana", label=f"Person {number:02d}")
    sign_in(client, "Ana")
    first = client.get("/people").text
    labels = re.findall(r'<a href="/people/[^"]+">(Person \d\d)</a>', first)
    assert labels == [f"Person {n:02d}" for n in range(24, 4, -1)], labels
    assert 'href="?page=2"' in first and "Newer" not in first
    second = client.get("/people?page=2").text
    assert re.findall(r'<a href="/people/[^"]+">(Person \d\d)</a>', second) == [f"Person {n:02d}" for n in range(4, -1, -1)]
    assert 'href="?page=1"' in second and 'href="?page=3"' not in second


def test_notes_stay_private_until_the_survivor_includes_them(pair, settings):
    survivor, staff = pair
    cid = make_connection(settings, "river", "Ana")
    secret = "Do not tell M."
    goal = post_form(survivor, "/goals", {"title": "Find a flat", "why": secret, "area": "housing",
                                          "target_date": ""}).headers["location"]
    visit = post_form(survivor, "/appointments", {"what": "Clinic", "date": "2030-01-02", "time": "10:00",
                                                  "reminder": "none", "notes": secret}).headers["location"]
    mood = check_in(survivor, note=secret).split("?")[0]
    share(survivor, cid, {"goals": "week", "appointments": "week", "checkins": "week"})
    pages = {part: f"/people/{cid}/{part}/{url.rsplit('/', 1)[1]}"
             for part, url in (("goals", goal), ("appointments", visit), ("checkins", mood))}
    for part, url in pages.items():
        page = staff.get(url).text
        assert secret not in page and "Notes not shared" in page, part
        assert secret not in staff.get(f"/people/{cid}/{part}").text
    assert "Find a flat" in staff.get(pages["goals"]).text and "2030-01-02" in staff.get(pages["appointments"]).text
    sharing = survivor.get("/sharing").text
    assert sharing.count("Your notes stay private.") == 3 and "Your notes are included." not in sharing
    assert staff.get(f"/people/{cid}").text.count("Notes not shared") == 3
    # Include my notes, for goals alone: the goal's note shows, the others stay held back, and no end moves.
    ends = _ends(settings)
    form = form_as_shown(survivor, cid)
    post_form(survivor, f"/sharing/{cid}/save", {**form, "notes": ["goals"]})
    assert _ends(settings) == ends
    assert secret in staff.get(pages["goals"]).text
    assert secret not in staff.get(pages["appointments"]).text and secret not in staff.get(pages["checkins"]).text
    assert "Your notes are included." in survivor.get("/sharing").text
    assert staff.get(f"/people/{cid}").text.count("Notes not shared") == 2
    assert form_as_shown(survivor, cid)["notes"] == ["goals"]
    # One item with its notes: the check-in alone, on its own card.
    post_form(survivor, "/sharing/item", {"part": "checkins", "item_id": mood.rsplit("/", 1)[1], "connection": cid,
                                          "until": "week", "notes": "1"})
    assert secret in staff.get(pages["checkins"]).text
    assert "Your notes are included." in survivor.get(mood).text
    # Marked Only me after it was shared with its notes: nothing of it is seen, notes included.
    post_form(survivor, f"{mood}/private", {"private": "1"})
    assert staff.get(pages["checkins"]).status_code == 404
    # Holding notes back never touched what is stored: the survivor still reads every one.
    for url in (goal, visit, mood):
        assert secret in survivor.get(url).text, url


def test_approving_a_request_can_include_notes(pair, settings):
    survivor, staff = pair
    cid = make_connection(settings, "river", "Ana")
    goal = post_form(survivor, "/goals", {"title": "Find a flat", "why": "Quietly", "area": "housing",
                                          "target_date": ""}).headers["location"].rsplit("/", 1)[1]
    post_form(staff, f"/people/{cid}/ask", {"part": "goals", "reason": "To help with housing"})
    request_id = re.search(r"/sharing/requests/([A-Za-z0-9_-]+)/approve", survivor.get("/sharing").text).group(1)  # type: ignore[union-attr]
    assert post_form(survivor, f"/sharing/requests/{request_id}/approve", {"until": "week", "notes": "1"}).status_code == 303
    assert "Quietly" in staff.get(f"/people/{cid}/goals/{goal}").text


def _waiting_counts(survivor) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """What a waiting request shows: the badge on the Menu button, the badge beside Sharing, Home's next step."""
    home = survivor.get("/home").text
    menu = re.search(r'<summary class="menu__toggle">(.*?)</summary>', home, re.S).group(1)  # type: ignore[union-attr]
    sharing = re.search(r'<a href="/sharing"[^>]*>(.*?)</a>', home, re.S).group(1)  # type: ignore[union-attr]
    step = home.split('aria-labelledby="next-action">')[1].split("</section>")[0]
    return (re.sub(r"<[^>]+>", "", menu).strip(), re.sub(r"<[^>]+>", "", sharing).strip(),
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", step)).strip())


def test_a_waiting_request_shows_on_home_and_in_the_menu_until_answered(pair, settings):
    survivor, staff = pair
    cid = make_connection(settings, "river", "Ana")
    menu, sharing, step = _waiting_counts(survivor)
    assert (menu, sharing) == ("Menu", "Sharing") and "asks to see" not in step
    for part in ("goals", "checkins"):
        assert post_form(staff, f"/people/{cid}/ask", {"part": part, "reason": "To plan together"}).status_code == 303
    menu, sharing, step = _waiting_counts(survivor)
    assert menu == "Menu 2 waiting for you", menu
    assert sharing == "Sharing 2 requests waiting", sharing
    assert step == ("Next 2 requests to see parts of your space are waiting for your answer. "
                    "Answer on the Sharing page"), step
    assert 'href="/sharing#requests"' in survivor.get("/home").text and 'id="requests"' in survivor.get("/sharing").text
    inbox = survivor.get("/sharing").text
    first, second = re.findall(r'/sharing/requests/([A-Za-z0-9_-]+)/approve', inbox)
    assert post_form(survivor, f"/sharing/requests/{first}/approve", {"until": "week"}).status_code == 303
    menu, sharing, step = _waiting_counts(survivor)
    assert (menu, sharing) == ("Menu 1 waiting for you", "Sharing 1 request waiting")
    assert step == "Next Someone you work with asks to see a part of your space. Answer on the Sharing page", step
    assert post_form(survivor, f"/sharing/requests/{second}/decline").status_code == 303
    menu, sharing, step = _waiting_counts(survivor)
    assert (menu, sharing) == ("Menu", "Sharing") and "asks to see" not in step
    # Another survivor never sees river's count; nor does the caseworker who asked.
    assert "waiting" not in re.search(r'<summary class="menu__toggle">(.*?)</summary>',
                                      staff.get("/staff").text, re.S).group(1)  # type: ignore[union-attr]
