"""Every route of the app, asked by every kind of viewer: the owner; caseworkers connected with no card,
with a card for the part, with a card for the item, with a card that has ended, with a card revoked, or
asking for an item marked Only me; another survivor; a caseworker of another survivor; a mentor with no
connection; the owner's peer mentor (who has a message thread with them and no card); the admin of the
organisation all that staff works for, and the admin of another organisation; someone signed out.

`RULES` gives every route of the app a rule; a route without one fails the first test, so a new route
cannot be added without saying who may use it. Reads (GET) are asked by every viewer; state changes
(POST) are asked by every viewer who must be refused (the allowed ones are shown by each feature's tests,
since a matrix that deleted its own fixtures would prove little).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal import policy
from portal.models import Role
from portal.parts import BY_KEY, PARTS, noted
from tests.conftest import (EMPTY_FILE, ORGANISATION, PASSWORD, make_connection, make_user, post_form, sign_in, sign_up, sql,
                            takes_files, user_id)
from tests.part_builders import BUILDERS

VIEWERS = ["owner", "other_survivor", "cw_none", "cw_part", "cw_notes", "cw_item", "cw_expired", "cw_revoked", "only_me",
           "other_caseworker", "mentor", "owners_mentor", "admin", "admin_other", "signed_out"]
ADMINS = {"admin", "admin_other"}  # of the staff's organisation, and of another one
SURVIVORS = {"owner", "other_survivor"}
MENTORS = {"mentor", "owners_mentor"}
STAFF = {"cw_none", "cw_part", "cw_notes", "cw_item", "cw_expired", "cw_revoked", "only_me", "other_caseworker", "mentor",
         "owners_mentor"}
CONNECTED = {"cw_none", "cw_part", "cw_notes", "cw_item", "cw_expired", "cw_revoked", "only_me", "owners_mentor"}  # each to the owner
SHARED = {"cw_part", "cw_notes", "cw_item"}  # a card in force for each part or each item
NOTES_SEEN = {"owner", "cw_notes"}  # the survivor's notes: the owner, and a card that says Include my notes
IN_THREAD = {"owner", "owners_mentor"}  # the two people of the owner's message thread
OK, SEE_OTHER, NOT_FOUND = {200}, {303}, {404}
DENIED_POST = {401, 403, 404}

RULES: dict[str, str] = {
    # Anyone, signed in or not (state changes here are the sign-in and exit flows, tested on their own).
    "GET /": "public", "GET /sign-in": "public", "GET /sign-up": "public", "GET /safety": "public",
    "GET /safety/practice": "public", "GET /offline": "public", "GET /help": "public", "GET /healthz": "public",
    "GET /manifest.webmanifest": "public", "GET /sw.js": "public", "GET /static/{file_path:path}": "public",
    "GET /set-password/{token:str}": "unknown-link", "GET /exit": "exit",
    "POST /sign-in": "auth-flow", "POST /sign-up": "auth-flow", "POST /exit": "auth-flow",
    "POST /set-password/{token:str}": "auth-flow", "POST /safety/practice": "auth-flow",
    # Anyone signed in, about themselves.
    "GET /settings": "signed-in", "GET /settings/safety": "signed-in", "GET /settings/security": "signed-in",
    "GET /settings/reminders": "threads", "GET /settings/language": "signed-in", "GET /settings/data": "survivor", "POST /settings/exit": "signed-in-post", "POST /settings/time-zone": "signed-in-post",
    "POST /settings/safety": "signed-in-post",
    "POST /sign-out": "sign-out",
    "GET /forgot-password": "public", "POST /forgot-password": "auth-flow",
    "POST /settings/password": "signed-in-post", "POST /settings/recovery-codes": "signed-in-post",
    "POST /settings/sessions/{session_ref:str}/end": "signed-in-other", "POST /settings/sessions/end-all": "signed-in-post",
    "POST /passkeys/sign-in/options": "auth-flow", "POST /passkeys/sign-in": "auth-flow",
    "POST /settings/passkeys/options": "signed-in-post", "POST /settings/passkeys": "signed-in-post",
    "POST /settings/passkeys/{passkey_id:str}/rename": "signed-in-other",
    "POST /settings/passkeys/{passkey_id:str}/remove": "signed-in-other",
    "GET /settings/confirm": "signed-in", "POST /settings/confirm": "signed-in-post",
    "POST /settings/confirm/passkey/options": "signed-in-post", "POST /settings/confirm/passkey": "signed-in-post",
    "POST /settings/export": "survivor-post", "GET /settings/delete": "survivor", "POST /settings/delete": "survivor-post",
    # A survivor's own space: lists and forms for any survivor, items for their owner only.
    "GET /home": "survivor-data", "GET /welcome": "survivor", "GET /goals": "survivor-data", "GET /goals/new": "survivor",
    "GET /goals/achieved": "survivor-data", "GET /appointments": "survivor-data", "GET /appointments/new": "survivor",
    "GET /appointments/past": "survivor-data", "GET /documents": "survivor-data", "GET /documents/new": "survivor",
    "GET /check-ins": "survivor-data", "GET /check-ins/new": "survivor", "GET /sharing": "survivor",
    "GET /journal": "survivor-data", "GET /journal/new": "survivor", "POST /journal": "survivor-post",
    "GET /safety-plan": "survivor-data", "POST /safety-plan": "survivor-post",
    "GET /life-areas": "survivor-data", "GET /life-areas/new": "survivor", "POST /life-areas": "survivor-post",
    "GET /sharing/log": "survivor",
    "POST /goals": "survivor-post", "POST /appointments": "survivor-post", "POST /documents": "survivor-post",
    "POST /check-ins": "survivor-post", "POST /sharing/connect": "survivor-post", "POST /sharing/item": "survivor-post",
    "POST /sharing/cards/{card_id:str}/stop": "owner-post",
    "POST /sharing/connect/confirm": "survivor-post", "POST /sharing/stop-all": "survivor-post",
    "POST /sharing/stop-all/undo": "survivor-post",
    "POST /sharing/{connection_id:str}/save": "owner-post", "POST /sharing/{connection_id:str}/end": "owner-post",
    "POST /sharing/requests/{request_id:str}/approve": "owner-post",
    "POST /sharing/requests/{request_id:str}/decline": "owner-post",
    # Staff pages, and what a person shares with them.
    "GET /staff": "staff", "GET /people": "staff", "POST /people/code": "staff-post",
    "GET /people/{connection_id:str}": "person", "POST /people/{connection_id:str}/end": "person-post",
    "POST /people/{connection_id:str}/ask": "person-post",
    "GET /people/{connection_id:str}/{part:str}": "shared-part",
    "GET /people/{connection_id:str}/{part:str}/{item_id:str}": "shared-item",
    "GET /people/{connection_id:str}/{part:str}/{item_id:str}/download": "shared-item",
    "GET /people/{connection_id:str}/{part:str}/{item_id:str}/files/{file_id:str}": "shared-item",
    # Message threads (survivor and peer mentor only), and reminders on the phone.
    "GET /messages": "threads", "GET /unread": "threads", "GET /messages/{connection_id:str}": "thread",
    "GET /messages/{connection_id:str}/new": "thread", "POST /messages/{connection_id:str}": "thread-post",
    "POST /messages/{connection_id:str}/pause": "owner-post", "POST /messages/{connection_id:str}/resume": "owner-post",
    "POST /settings/devices": "threads-post", "POST /settings/devices/{device_id:str}/remove": "device-post",
    "POST /settings/reminders": "threads-post",
    # The organisation admin's pages.
    "GET /admin/staff": "admin", "POST /admin/staff": "admin-post", "GET /admin/help-lines": "admin",
    "POST /admin/help-lines": "admin-post", "POST /admin/country": "admin-post", "POST /admin/exit-place": "host-post",
    "POST /language": "auth-flow",
    "GET /settings/time-zone": "signed-in", "POST /admin/help-lines/{line_id:int}/delete": "admin-own-post",
    "POST /admin/staff/{user_id:int}/deactivate": "admin-own-post", "POST /admin/staff/{user_id:int}/link": "admin-own-post",
    "POST /admin/staff/{user_id:int}/reactivate": "admin-own-post",
    # Staff profiles, the survivor's page about each connection, and feedback to an organisation.
    "GET /settings/profile": "staff", "POST /settings/profile": "staff-change",
    "GET /sharing/{connection_id:str}/profile": "owner-item", "POST /sharing/{connection_id:str}/feedback": "owner-post",
    "POST /sharing/{connection_id:str}/feedback/remove": "owner-post", "GET /admin/feedback": "admin",
    "POST /settings/feedback/{feedback_id:str}/remove": "signed-in-other", "POST /admin/organisation-name": "admin-post",
    # Impact: anonymous totals for an organisation's admin, and the survivor's yes or no to being counted.
    "GET /admin/impact": "admin", "GET /admin/impact.csv": "admin", "POST /settings/counting": "survivor-post",
}
# Every part's own pages, from the registry: /goals/{item_id}, /check-ins/{item_id}, ...
ITEM_ROUTE = re.compile(r"^(GET|POST) (" + "|".join(re.escape(part.path) for part in PARTS) + r")/\{item_id:str\}")
KEY_OF_PATH = {part.path: part.key for part in PARTS}


def rule_of(route: str) -> str:
    """Routes that name one of the owner's items all follow one rule: the owner only."""
    if ITEM_ROUTE.match(route):
        return "owner-item" if route.startswith("GET") else "owner-post"
    return RULES[route]


def expected(rule: str, viewer: str) -> set[int] | None:
    """The statuses a viewer may get for a rule; None where the viewer is allowed to change state (not asked)."""
    signed_out = viewer == "signed_out"
    table: dict[str, set[int] | None] = {
        "public": OK | SEE_OTHER,
        "unknown-link": NOT_FOUND,
        "exit": SEE_OTHER,
        "auth-flow": None,
        "signed-in": SEE_OTHER if signed_out else OK,
        "signed-in-post": DENIED_POST if signed_out else None,
        "sign-out": SEE_OTHER if signed_out else None,  # signing out twice is harmless
        "signed-in-other": DENIED_POST if signed_out else NOT_FOUND,  # nobody has a session with that name
        "survivor": SEE_OTHER if signed_out else (OK if viewer in SURVIVORS else NOT_FOUND),
        "survivor-data": SEE_OTHER if signed_out else (OK if viewer in SURVIVORS else NOT_FOUND),
        "survivor-post": DENIED_POST if signed_out else (None if viewer in SURVIVORS else NOT_FOUND),
        "owner-item": SEE_OTHER if signed_out else (OK | SEE_OTHER if viewer == "owner" else NOT_FOUND),
        "owner-post": DENIED_POST if signed_out else (None if viewer == "owner" else NOT_FOUND),
        "staff": SEE_OTHER if signed_out else (OK if viewer in STAFF else NOT_FOUND),
        "staff-post": DENIED_POST if signed_out else (OK if viewer in STAFF else NOT_FOUND),
        "staff-change": DENIED_POST if signed_out else (None if viewer in STAFF else NOT_FOUND),
        "person": SEE_OTHER if signed_out else (OK if viewer in CONNECTED else NOT_FOUND),
        "person-post": DENIED_POST if signed_out else (None if viewer in CONNECTED else NOT_FOUND),
        "shared-part": SEE_OTHER if signed_out else (OK if viewer in SHARED | {"only_me"} else NOT_FOUND),
        "shared-item": SEE_OTHER if signed_out else (OK if viewer in SHARED else NOT_FOUND),
        "threads": SEE_OTHER if signed_out else (OK if viewer in SURVIVORS | MENTORS else NOT_FOUND),
        "threads-post": DENIED_POST if signed_out else (None if viewer in SURVIVORS | MENTORS else NOT_FOUND),
        "device-post": DENIED_POST if signed_out else NOT_FOUND,  # nobody has a device called that
        "thread": SEE_OTHER if signed_out else (OK | SEE_OTHER if viewer in IN_THREAD else NOT_FOUND),
        "thread-post": DENIED_POST if signed_out else (None if viewer in IN_THREAD else NOT_FOUND),
        "admin": SEE_OTHER if signed_out else (OK if viewer in ADMINS else NOT_FOUND),
        "admin-post": DENIED_POST if signed_out else (None if viewer in ADMINS else NOT_FOUND),
        # A staff account or help line of the staff's organisation, named by id: another organisation's admin gets 404.
        "admin-own-post": DENIED_POST if signed_out else (None if viewer == "admin" else NOT_FOUND),
        # The default exit place is the first organisation's (the host's) to choose.
        "host-post": DENIED_POST if signed_out else (None if viewer == "admin" else NOT_FOUND),
    }
    return table[rule]


def note(part: str, private: bool) -> str:
    """The words of one item's private note, told apart in a page."""
    return f"Do not tell M. ({part}, {'only me' if private else 'shared'})"


def _items(client, private: bool) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One item of every part of the signed-in survivor (a goal with a step), each with its own words in its
    private notes (where the part has notes): part key -> id, and "step"."""
    urls = {part.key: BUILDERS[part.key](client, note(part.key, private)) for part in PARTS}
    post_form(client, f"{urls['goals']}/steps", {"step": "A step"})
    step = re.search(r"/steps/([A-Za-z0-9_-]+)/toggle", client.get(urls["goals"]).text).group(1)  # type: ignore[union-attr]
    if private:
        for key, url in urls.items():
            if not one_each(BY_KEY[key]):
                assert post_form(client, f"{url}/private", {"private": "1"}).status_code == 303
    ids = {key: url.rsplit("/", 1)[1] for key, url in urls.items()}
    if private:
        # A part a person keeps one of (the safety plan) has no second item to mark Only me beside the shared one:
        # here its Only me item is one that does not exist; the part's own tests mark the one plan Only me.
        ids.update({part.key: "only-one-each" for part in PARTS if one_each(part)})
    ids["step"] = step
    # A photo of the journal entry (its builder adds one), for the routes of an entry's files.
    ids["journal_file"] = re.search(r"/files/([A-Za-z0-9_-]+)\"", client.get(urls["journal"]).text).group(1)  # type: ignore[union-attr]
    return ids


def one_each(part) -> bool:  # type: ignore[no-untyped-def]
    """A part a survivor keeps one of (the safety plan): its table has a unique index on the owner alone."""
    return any(index.unique and [column.name for column in index.columns] == ["owner_id"]
               for index in part.model.__table__.indexes)


@pytest.fixture
def world(client, settings):  # type: ignore[no-untyped-def]
    """The owner's items (shared and Only me), and one account for every kind of viewer."""
    sign_up(client, "river")
    shared, private = _items(client, private=False), _items(client, private=True)
    client.cookies.clear()
    sign_up(client, "sea")
    client.cookies.clear()
    names = {"cw_none": "cw-none", "cw_part": "cw-part", "cw_notes": "cw-notes", "cw_item": "cw-item", "cw_expired": "cw-expired",
             "cw_revoked": "cw-revoked", "other_caseworker": "cw-other", "mentor": "a-mentor", "owners_mentor": "rivers-mentor",
             "admin": "org-admin", "admin_other": "other-org-admin"}
    for viewer, name in names.items():
        make_user(settings, name, Role.MENTOR if viewer in MENTORS else Role.ADMIN if viewer in ADMINS else Role.CASEWORKER,
                  organisation="Other Org" if viewer == "admin_other" else ORGANISATION)
    make_user(settings, "other-org-cw", Role.CASEWORKER, organisation="Other Org", display_name="Noor Other-Org")
    for label, organisation in (("Harbor help line", ORGANISATION), ("Other Org help line", "Other Org")):
        sql(settings, "INSERT INTO help_line (organisation_id, label, call, text, position) "
                      "SELECT id, :l, '0100', '', 1 FROM organisation WHERE name = :o", l=label, o=organisation)
    line = sql(settings, "SELECT id FROM help_line WHERE label = 'Harbor help line'")[0][0]
    parts = tuple(BY_KEY)
    connections = {
        "cw_none": make_connection(settings, "river", "cw-none"),
        "cw_part": make_connection(settings, "river", "cw-part", parts),
        "cw_notes": make_connection(settings, "river", "cw-notes", parts, include_notes=True),
        "cw_item": make_connection(settings, "river", "cw-item", item_ids=tuple((key, shared[key]) for key in BY_KEY)),
        "cw_expired": make_connection(settings, "river", "cw-expired", parts, ends_at=datetime.now(UTC) - timedelta(minutes=1)),
        "cw_revoked": make_connection(settings, "river", "cw-revoked", parts),
        "owners_mentor": make_connection(settings, "river", "rivers-mentor"),
    }
    sql(settings, "UPDATE share_grant SET revoked_at = :t WHERE connection_id = :c", t=datetime.now(UTC), c=connections["cw_revoked"])
    connections["only_me"] = connections["cw_part"]
    make_connection(settings, "sea", "cw-other", parts)
    names["only_me"] = names["cw_part"]
    sql(settings, "INSERT INTO access_request (id, connection_id, part, reason, created_at) VALUES ('request-one', :c, 'goals', 'To help', :t)",
        c=connections["cw_none"], t=datetime.now(UTC))
    card = sql(settings, "SELECT id FROM share_grant WHERE connection_id = :c", c=connections["cw_part"])[0][0]
    return {"shared": shared, "private": private, "connections": connections, "names": names, "card": card,
            "staff_id": user_id(settings, "cw-none"), "line": line}


def _as(client, world, viewer: str) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    if viewer == "owner":
        sign_in(client, "river")
    elif viewer == "other_survivor":
        sign_in(client, "sea")
    elif viewer != "signed_out":
        sign_in(client, world["names"][viewer], PASSWORD)


def _urls(route: str, world, viewer: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The route's URL for this viewer; one per part where the route takes a part."""
    path = route.split(" ", 1)[1]
    if "{part:str}" not in path:
        return [_url(path, world, viewer, "goals")]
    parts = ["documents"] if path.endswith("/download") else ["journal"] if "{file_id" in path else list(BY_KEY)
    return [_url(path, world, viewer, part) for part in parts]


def _url(path: str, world, viewer: str, part: str) -> str:  # type: ignore[no-untyped-def]
    items = world["private"] if viewer == "only_me" else world["shared"]
    prefix = "/" + path.split("/")[1]
    # Thread routes are asked about the owner's thread with their mentor, by everyone.
    connection = world["connections"]["owners_mentor" if prefix == "/messages" else viewer] \
        if prefix == "/messages" or viewer in world["connections"] else world["connections"]["cw_part"]
    item = items[part if prefix == "/people" else KEY_OF_PATH[prefix]] if "{item_id" in path else ""
    values = {
        "{step_id:str}": items["step"], "{item_id:str}": item, "{file_id:str}": items["journal_file"],
        "{connection_id:str}": connection, "{part:str}": part, "{line_id:int}": str(world["line"]),
        "{user_id:int}": str(world["staff_id"]),
        "{token:str}": "x" * 20, "{file_path:path}": "css/app.css", "{request_id:str}": "request-one",
        "{card_id:str}": world["card"], "{device_id:str}": "no-such-device",
        "{session_ref:str}": "0123456789abcdef", "{passkey_id:str}": "no-such-passkey", "{feedback_id:str}": "no-such-answer",
    }
    for placeholder, value in values.items():
        path = path.replace(placeholder, value)
    assert "{" not in path, path
    return path


def _routes(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Every route as "METHOD path"; the exit last, since it ends the session it is asked in."""
    routes = [f"{method} {route.path}" for route in app.routes for method in route.methods - {"HEAD", "OPTIONS"}]
    return sorted(routes, key=lambda route: (route == "GET /exit", route))


def test_every_route_has_a_rule(app):
    missing = [route for route in _routes(app) if not ITEM_ROUTE.match(route) and route not in RULES]
    assert not missing, f"routes with no access rule (add them to RULES): {missing}"
    assert not set(RULES) - set(_routes(app)), "rules for routes that no longer exist"


def test_every_route_answers_every_viewer_as_its_rule_says(app, client, world):
    routes = _routes(app)
    uploads = {f"POST {route.path}" for route in app.routes if takes_files(route, "POST")}
    assert {"POST /documents", "POST /journal"} <= uploads, uploads
    wrong: list[str] = []
    asked = 0
    for viewer in VIEWERS:
        _as(client, world, viewer)
        for route in routes:
            allowed = expected(rule_of(route), viewer)
            if allowed is None:
                continue
            for url in _urls(route, world, viewer):
                if route.startswith("GET"):
                    status = client.get(url, follow_redirects=False).status_code
                else:
                    status = post_form(client, url, {"feeling": "1", "parts": "goals", "until": "week"},
                                       files=EMPTY_FILE if route in uploads else None).status_code
                asked += 1
                if status not in allowed:
                    wrong.append(f"{viewer}: {route} ({url}) -> {status}, expected {sorted(allowed)}")
    assert not wrong, "\n".join(wrong)
    assert asked > 600, asked


def test_the_survivors_notes_reach_only_the_owner_and_cards_that_include_them(app, client, world):
    """Every page of every route, asked by every viewer: a note's words appear only for the owner and for
    the caseworker whose cards say Include my notes (and never an Only me item's); a caseworker whose card
    does not include them reads "Notes not shared" on each item instead."""
    notes = {part: (note(part, False), note(part, True)) for part in noted()}
    wrong: list[str] = []
    held = 0
    for viewer in VIEWERS:
        _as(client, world, viewer)
        for route in _routes(app):
            if not route.startswith("GET") or route == "GET /exit":
                continue
            for url in _urls(route, world, viewer):
                text = client.get(url, follow_redirects=False).text
                for part, (shared, private) in notes.items():
                    if shared in text and viewer not in NOTES_SEEN:
                        wrong.append(f"{viewer} read the {part} note at {url}")
                    if private in text and viewer != "owner":
                        wrong.append(f"{viewer} read an Only me {part} note at {url}")
                if viewer in {"cw_part", "cw_item"} and route == "GET /people/{connection_id:str}/{part:str}/{item_id:str}" \
                        and BY_KEY[url.split("/")[3]].notes is not None:
                    assert "Notes not shared" in text, url
                    held += 1
                if viewer == "cw_notes" and route == "GET /people/{connection_id:str}/{part:str}/{item_id:str}":
                    part = url.split("/")[3]
                    assert BY_KEY[part].notes is None or notes[part][0] in text, url
    assert not wrong, "\n".join(wrong)
    assert held == 2 * len(noted()), held
    # The owner's own pages still show every note in full: holding them back changed nothing stored.
    _as(client, world, "owner")
    assert note("goals", False) in client.get(f"/goals/{world['shared']['goals']}").text
    assert note("checkins", False) in client.get(f"/check-ins/{world['shared']['checkins']}").text


# ----- every route that shows survivor data asked the policy --------------------------------------

DATA_RULES = {"owner-item": "owner", "survivor-data": "owner", "shared-part": "cw_part", "shared-item": "cw_part",
              "thread": "owners_mentor"}


class PolicyListener:
    """Wraps the app's request handling and keeps the policy's decisions made for the last request."""

    def __init__(self, handler) -> None:  # type: ignore[no-untyped-def]
        self.handler, self.last = handler, []

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        self.last = []
        token = policy.consulted.set(self.last)
        try:
            await self.handler(scope, receive, send)
        finally:
            policy.consulted.reset(token)


def test_every_route_that_shows_survivor_data_asks_the_policy(app, client, world):
    listener = PolicyListener(app.asgi_handler)
    app.asgi_handler = listener
    checked, silent = [], []
    for rule, viewer in DATA_RULES.items():
        _as(client, world, viewer)
        for route in _routes(app):
            if not route.startswith("GET") or rule_of(route) != rule:
                continue
            for url in _urls(route, world, viewer):
                assert client.get(url, follow_redirects=False).status_code in (200, 303), url
                checked.append(route)
                if not listener.last:  # "read …" for pages that show, "change …" for the forms that change
                    silent.append(route)
    assert not silent, f"routes that showed survivor data without asking the policy: {silent}"
    assert len(set(checked)) >= 25, sorted(set(checked))


def test_the_listener_hears_nothing_when_no_survivor_data_is_shown(app, client, world):
    listener = PolicyListener(app.asgi_handler)
    app.asgi_handler = listener
    _as(client, world, "owner")
    client.get("/goals")
    assert "read Goal" in listener.last
    client.get("/safety")
    assert listener.last == []


def test_admins_of_two_organisations_read_only_their_own(app, client, world):
    """Every admin page, read by the admins of two organisations: each sees their own organisation's staff and help
    lines, and nothing of the other's (nor, as the tests above show, any survivor's data)."""
    pages = [route.split(" ", 1)[1] for route in _routes(app) if route.startswith("GET /admin")]
    assert {"/admin/staff", "/admin/help-lines", "/admin/impact", "/admin/feedback"} <= set(pages), pages
    theirs = {"admin": ("Noor Other-Org", "other-org-cw", "Other Org help line", "Other Org"),
              "admin_other": ("Cw None", "cw-none", "Harbor help line", ORGANISATION, "Rivers")}
    for viewer, hidden in theirs.items():
        _as(client, world, viewer)
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, (viewer, path)
            leaked = [words for words in hidden if words in response.text]
            assert not leaked, (viewer, path, leaked)
    _as(client, world, "admin")
    assert "Cw None" in client.get("/admin/staff").text and "Harbor help line" in client.get("/admin/help-lines").text
