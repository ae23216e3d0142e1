"""Every refused form says what is wrong at the top of the page, GOV.UK-style: an error summary with
role="alert" that takes focus, each problem a link to the field it is about (the field's own id, an element that
takes focus), as well as the message beside the field.

"Every" comes from the app's own routes: each POST route is either refused here with bad input, or listed in
NOT_TYPED with why it has nothing a person types (a button, a JSON step of a passkey). A new route that is in
neither fails the last test. Following the links in a browser is in tests/browser/test_error_summary.py."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest

from portal.models import Role
from tests.conftest import make_connection, make_user, post_form, sign_in, sign_up, sql
from tests.test_checkins import check_in
from tests.test_documents import PDF, upload
from tests.test_journal import add_files, entry_url, write_entry
from tests.test_home import new_goal

SUMMARY = re.compile(r'<div class="error-summary" role="alert" tabindex="-1" autofocus data-error-summary[^>]*>(.*?)</div>',
                     re.S)
FOCUSABLE = re.compile(r'<(input|select|textarea|button)\b[^>]*\bid="([^"]+)"|<[a-z0-9]+\b[^>]*\bid="([^"]+)"[^>]*\btabindex="-1"')

# POST routes with nothing a person types: a button that does one thing, a step of a passkey's JSON exchange, or a
# choice from a fixed list that is only ever sent by the page's own buttons.
NOT_TYPED = {
    "/sign-out", "/exit", "/safety/practice", "/language",
    "/admin/staff/{user_id:int}/deactivate", "/admin/staff/{user_id:int}/reactivate", "/admin/staff/{user_id:int}/link",
    "/admin/help-lines/{line_id:int}/delete",
    "/goals/{item_id:str}/status", "/goals/{item_id:str}/steps/{step_id:str}/toggle",
    "/goals/{item_id:str}/steps/{step_id:str}/move", "/goals/{item_id:str}/steps/{step_id:str}/delete",
    "/sharing/connect/confirm", "/sharing/item", "/sharing/cards/{card_id:str}/stop", "/sharing/{connection_id:str}/end",
    "/sharing/requests/{request_id:str}/decline", "/sharing/stop-all", "/sharing/stop-all/undo",
    "/sharing/{connection_id:str}/feedback/remove", "/settings/feedback/{feedback_id:str}/remove",
    "/people/code", "/people/{connection_id:str}/end",
    "/messages/{connection_id:str}/pause", "/messages/{connection_id:str}/resume",
    "/settings/devices", "/settings/devices/{device_id:str}/remove",
    "/settings/sessions/{session_ref:str}/end", "/settings/sessions/end-all",
    "/passkeys/sign-in/options", "/passkeys/sign-in", "/settings/passkeys/options", "/settings/passkeys",
    "/settings/confirm/passkey/options", "/settings/confirm/passkey", "/settings/passkeys/{passkey_id:str}/remove",
    "/settings/counting",  # yes or no from Home's two buttons, or Settings' one checkbox
}
# Every part's own private/delete buttons, from the registry's paths.
NOT_TYPED_ITEM = re.compile(r"^/[a-z-]+/\{item_id:str\}/(private|delete)$")


def problems_of(page: str) -> list[tuple[str, str]]:
    """The summary's links (target id, words), after checking the summary is there and each target can take focus."""
    found = SUMMARY.search(page)
    assert found, page[:3000]
    links = [(target, html.unescape(words)) for target, words in re.findall(r'<a href="#([^"]+)">([^<]+)</a>', found.group(1))]
    assert links, found.group(1)
    focusable = {match[1] or match[2] for match in FOCUSABLE.findall(page)}
    for target, _words in links:
        assert target in focusable, (target, sorted(focusable))
    return links


@pytest.fixture
def river(client, settings):  # type: ignore[no-untyped-def]
    """A survivor with a goal (with a step), an appointment, a document, a check-in, a caseworker connection with a
    request waiting and a mentor thread; and the caseworker and the admin for their own forms."""
    sign_up(client, "river")
    goal = new_goal(client, "A goal")
    post_form(client, f"{goal}/steps", {"step": "A step"})
    step = re.search(r"/steps/([A-Za-z0-9_-]+)/toggle", client.get(goal).text).group(1)  # type: ignore[union-attr]
    appointment = post_form(client, "/appointments", {"what": "Clinic", "date": "2030-01-02", "time": "10:00",
                                                      "reminder": "none"}).headers["location"]
    document = upload(client, PDF).headers["location"]
    checkin = check_in(client).split("?")[0]
    journal = entry_url(write_entry(client))
    plan = post_form(client, "/safety-plan", {"places": "The library"}).headers["location"].split("?")[0]
    life_areas = post_form(client, "/life-areas", {"rate-money": "3"}).headers["location"].split("?")[0]
    make_user(settings, "ana", Role.CASEWORKER)
    make_user(settings, "mo", Role.MENTOR)
    make_user(settings, "boss", Role.ADMIN)
    casework = make_connection(settings, "river", "ana")
    thread = make_connection(settings, "river", "mo")
    sql(settings, "INSERT INTO access_request (id, connection_id, part, reason, created_at) "
                  "VALUES ('request-one', :c, 'goals', 'To help', CURRENT_TIMESTAMP)", c=casework)
    sql(settings, "INSERT INTO passkey (id, user_id, credential_id, public_key, sign_count, name, created_at) "
                  "SELECT 'passkey-one', id, 'credential-one', :key, 0, 'My phone', CURRENT_TIMESTAMP FROM app_user "
                  "WHERE username = 'river'", key=b"not a real key")
    return {"passkey": "passkey-one", "goal": goal, "step": step, "appointment": appointment, "document": document, "checkin": checkin, "journal": journal, "plan": plan,
            "life_areas": life_areas, "casework": casework, "thread": thread}


# (who sends it, route, the address with ids, what is sent, the words the summary must hold)
Case = tuple[str, str, Callable[[dict[str, str]], str], dict[str, Any], str]
CASES: list[Case] = [
    ("out", "/sign-up", lambda w: "/sign-up", {"username": "", "password": ""}, "Enter a username."),
    ("out", "/sign-in", lambda w: "/sign-in", {"username": "river", "password": "not-the-password"}, "do not match"),
    ("out", "/forgot-password", lambda w: "/forgot-password", {"username": "river", "code": "AAAAA-BBBBB", "password": "a-long-new-phrase"}, ""),
    ("out", "/set-password/{token:str}", lambda w: f"/set-password/{w['token']}", {"password": "short"}, "8 characters"),
    ("river", "/settings/exit", lambda w: "/settings/exit", {"exit_url": "javascript:alert(1)"}, "web address"),
    ("river", "/settings/safety", lambda w: "/settings/safety", {"idle_minutes": "7", "app_name": "waypoint"}, "Choose from the lists"),
    ("river", "/settings/time-zone", lambda w: "/settings/time-zone", {"time_zone": "Mars/Base"}, "time zone"),
    ("river", "/settings/reminders", lambda w: "/settings/reminders", {"kinds": "messages", "checkin_time": "25:99"}, "like 18:00"),
    ("river", "/settings/password", lambda w: "/settings/password", {"current_password": "wrong", "new_password": "x"}, "current password"),
    ("river", "/settings/recovery-codes", lambda w: "/settings/recovery-codes", {"password": "wrong"}, "not right"),
    ("river", "/settings/export", lambda w: "/settings/export", {"export_password": "wrong"}, "not right"),
    ("river", "/settings/delete", lambda w: "/settings/delete", {"password": "wrong"}, ""),
    ("river", "/settings/confirm", lambda w: "/settings/confirm", {"password": "wrong", "next": "passkey"}, "not right"),
    ("river", "/settings/passkeys/{passkey_id:str}/rename", lambda w: f"/settings/passkeys/{w['passkey']}/rename", {"name": ""}, "60 characters"),
    ("river", "/goals", lambda w: "/goals", {"title": "", "why": "", "area": "work", "target_date": ""}, ""),
    ("river", "/goals/{item_id:str}/edit", lambda w: f"{w['goal']}/edit", {"title": "", "why": "", "area": "work", "target_date": ""}, ""),
    ("river", "/goals/{item_id:str}/steps", lambda w: f"{w['goal']}/steps", {"step": ""}, ""),
    ("river", "/goals/{item_id:str}/steps/{step_id:str}/edit", lambda w: f"{w['goal']}/steps/{w['step']}/edit", {"step": ""}, ""),
    ("river", "/appointments", lambda w: "/appointments", {"what": "", "date": "", "time": "", "reminder": "none"}, ""),
    ("river", "/appointments/{item_id:str}/edit", lambda w: f"{w['appointment']}/edit", {"what": "", "date": "", "time": "", "reminder": "none"}, ""),
    ("river", "/documents", lambda w: "/documents", {"name": "", "kind": "", "expires_on": ""}, ""),
    ("river", "/documents/{item_id:str}/edit", lambda w: f"{w['document']}/edit", {"name": "", "kind": "id", "expires_on": ""}, ""),
    ("river", "/check-ins", lambda w: "/check-ins", {"note": "no feeling chosen"}, ""),
    ("river", "/journal", lambda w: "/journal", {}, "Write what happened"),
    ("river", "/journal/{item_id:str}/files", lambda w: f"{w['journal']}/files", {}, "Choose a photo or a PDF"),
    ("river", "/journal/{item_id:str}/edit", lambda w: f"{w['journal']}/edit", {"happened_on": "", "what": ""}, "Enter the day"),
    ("river", "/check-ins/{item_id:str}/edit", lambda w: f"{w['checkin']}/edit", {"note": "no feeling chosen"}, ""),
    ("river", "/safety-plan", lambda w: "/safety-plan", {"places": "x" * 2001, "person-1-name": "y" * 81}, "2,000 characters"),
    ("river", "/safety-plan/{item_id:str}/edit", lambda w: f"{w['plan']}/edit", {"take": "a-spaceship"}, "Choose from the list"),
    ("river", "/life-areas", lambda w: "/life-areas", {"rate-safety": "6", "note-money": "x" * 401}, "400 characters"),
    ("river", "/life-areas/{item_id:str}/edit", lambda w: f"{w['life_areas']}/edit", {"note-money": "no area rated"}, "Rate at least one area"),
    ("river", "/sharing/connect", lambda w: "/sharing/connect", {"code": "NOPE-NOPE"}, ""),
    ("river", "/sharing/{connection_id:str}/save", lambda w: f"/sharing/{w['casework']}/save", {"parts": "goals", "until-goals": "forever"}, "until when"),
    ("river", "/sharing/requests/{request_id:str}/approve", lambda w: "/sharing/requests/request-one/approve", {"until": "forever"}, ""),
    ("river", "/messages/{connection_id:str}", lambda w: f"/messages/{w['thread']}", {"body": ""}, ""),
    ("ana", "/people/{connection_id:str}/ask", lambda w: f"/people/{w['casework']}/ask", {"part": "checkins", "reason": ""}, "Say why"),
    ("boss", "/admin/staff", lambda w: "/admin/staff", {"username": "", "role": ""}, ""),
    ("boss", "/admin/organisation-name", lambda w: "/admin/organisation-name", {"organisation_name": " "},
     "Enter your organisation"),
    ("boss", "/admin/help-lines", lambda w: "/admin/help-lines", {"label": "", "call": "", "text": ""}, ""),
    ("boss", "/admin/country", lambda w: "/admin/country", {"country": "XX"}, ""),
    ("boss", "/admin/exit-place", lambda w: "/admin/exit-place", {"exit_url": "javascript:alert(1)"}, ""),
    ("ana", "/settings/profile", lambda w: "/settings/profile", {"display_name": " ", "helps_with": "x" * 301}, "Write your name"),
    ("river", "/sharing/{connection_id:str}/feedback", lambda w: f"/sharing/{w['casework']}/feedback", {"rating": "9", "words": "x" * 1001}, "from 1 to 5"),
]


@pytest.mark.parametrize("case", CASES, ids=[case[1] for case in CASES])
def test_a_refused_form_shows_a_summary_linking_to_its_fields(client, settings, river, case):  # type: ignore[no-untyped-def]
    who, _route, address, data, words = case
    client.cookies.clear()
    world = dict(river)
    if who == "boss" or "{token" in case[1]:
        sign_in(client, "boss")
        made = post_form(client, "/admin/staff", {"username": "new-one", "role": "mentor", "display_name": "New One"})
        world["token"] = re.search(r'/set-password/([^"]+)"', made.text).group(1)  # type: ignore[union-attr]
        if who != "boss":
            client.cookies.clear()
    if who in ("river", "ana"):
        sign_in(client, who)
    if case[1] == "/documents":  # a file form: sent as one, with no file chosen
        response = upload(client, b"", filename="", name="", kind="")
    elif case[1] == "/journal":  # a file form too: sent as one, with no file chosen and nothing written
        response = write_entry(client, "")
    elif case[1] == "/journal/{item_id:str}/files":  # no file chosen
        response = add_files(client, world["journal"], ())
    else:
        response = post_form(client, address(world), data, token_from="/sign-in" if who == "out" else "/safety")
    if response.status_code == 303:  # a refusal told on the page it leads back to
        response = client.get(response.headers["location"])
    assert response.status_code in (200, 400), (response.status_code, response.text[:500])
    links = problems_of(response.text)
    assert words in " ".join(text for _target, text in links), links


def test_every_form_a_person_types_into_is_covered(app):  # type: ignore[no-untyped-def]
    covered = {case[1] for case in CASES}
    routes = {route.path for route in app.routes if "POST" in route.methods}
    missing = sorted(path for path in routes if path not in covered | NOT_TYPED and not NOT_TYPED_ITEM.match(path))
    assert not missing, f"POST routes with no refused-form case and not listed as having nothing typed: {missing}"
    assert not (covered | NOT_TYPED) - routes, "listed routes that no longer exist"
