"""Every route of the app that names a survivor's item or connection by id, swept with another survivor:
each one answers 404, exactly like an id that does not exist. The sweep reads the app's own route
table, so a new route with an id is covered (or fails here) without anyone remembering to add it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from portal.models import Role
from tests.conftest import EMPTY_FILE, make_connection, make_user, post_form, sign_up, sql, takes_files
from portal.parts import PARTS
from tests.part_builders import BUILDERS

# The routes with an id that are not a survivor's item.
NOT_SURVIVOR_ITEMS = ("/admin/", "/set-password/", "/static/", "/exit")


def _own_items(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One item of every part in the registry, made by the survivor using `client`: the part's address -> id
    (and the goal's step)."""
    ids = {part.path: BUILDERS[part.key](client, "").rsplit("/", 1)[1] for part in PARTS}
    assert post_form(client, f"/goals/{ids['/goals']}/steps", {"step": "A step"}).status_code == 303
    ids["step"] = re.search(r"/steps/([A-Za-z0-9_-]+)/toggle",  # type: ignore[union-attr]
                            client.get(f"/goals/{ids['/goals']}").text).group(1)
    ids["goal"] = ids["/goals"]
    ids["file"] = re.search(r"/files/([A-Za-z0-9_-]+)\"",  # type: ignore[union-attr]
                            client.get(f"/journal/{ids['/journal']}").text).group(1)  # the entry's photo
    return ids


def _fill(path: str, ids: dict[str, str]) -> str:
    path = path.replace("{step_id:str}", ids["step"])
    path = path.replace("{connection_id:str}", ids["connection"]).replace("{part:str}", "goals")
    path = path.replace("{request_id:str}", "request-one").replace("{card_id:str}", ids["card"])
    path = path.replace("{device_id:str}", ids["device"]).replace("{session_ref:str}", ids["session"])
    path = path.replace("{passkey_id:str}", ids["passkey"])
    path = path.replace("{file_id:str}", ids["file"]).replace("{feedback_id:str}", ids["feedback"])
    if path.startswith("/people/") and "{item_id:str}" in path:
        path = path.replace("{item_id:str}", ids["goal"])
    if "{item_id:str}" in path:
        path = path.replace("{item_id:str}", ids["/" + path.split("/")[1]])
    return path


def test_another_survivor_gets_404_on_every_route_that_names_an_item(app, client, other_client, settings):
    sign_up(client, "river")
    ids = _own_items(client)
    make_user(settings, "casey", Role.MENTOR)  # a peer mentor: the connection has a message thread too
    ids["connection"] = make_connection(settings, "river", "casey", ("goals",))
    ids["card"] = sql(settings, "SELECT id FROM share_grant WHERE connection_id = :c", c=ids["connection"])[0][0]
    sql(settings, "INSERT INTO access_request (id, connection_id, part, reason, created_at) VALUES ('request-one', :c, 'checkins', 'x', :t)",
        c=ids["connection"], t=datetime.now(UTC))
    ids["session"] = re.search(r"/settings/sessions/([0-9a-f]{16})/end", client.get("/settings/security").text).group(1)  # type: ignore[union-attr]
    ids["device"] = "rivers-phone"
    ids["passkey"] = "rivers-key"
    sql(settings, "INSERT INTO passkey (id, user_id, credential_id, public_key, sign_count, name, created_at) "
                  "SELECT 'rivers-key', id, 'cred', :k, 0, 'Phone', :t FROM app_user WHERE username = 'river'",
        k=b"key", t=datetime.now(UTC))
    sql(settings, "INSERT INTO push_subscription (id, user_id, endpoint, endpoint_hash, p256dh, auth, device, created_at) "
                  "SELECT 'rivers-phone', id, 'https://fcm.googleapis.com/x', 'h', 'k', 'a', 'Android phone', :t FROM app_user "
                  "WHERE username = 'river'", t=datetime.now(UTC))
    # The owner's answer to the mentor's organisation (feedback), which only they may take back.
    assert post_form(client, f"/sharing/{ids['connection']}/feedback", {"rating": "4"}).status_code == 303
    ids["feedback"] = sql(settings, "SELECT id FROM feedback")[0][0]
    sign_up(other_client, "someone-else")
    checked: list[str] = []
    for route in app.routes:
        if "{" not in route.path or route.path.startswith(NOT_SURVIVOR_ITEMS):
            continue
        assert re.fullmatch(r"[^{}]*(\{(step_id|item_id|connection_id|part|request_id|card_id|device_id|session_ref|passkey_id|file_id|feedback_id):str\}[^{}]*)+", route.path), (
            f"{route.path}: a new kind of id; teach this sweep about it"
        )
        url = _fill(route.path, ids)
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = other_client.get(url, follow_redirects=False)
            else:
                response = post_form(other_client, url, {"feeling": "1", "name": "x", "kind": "id", "step": "x",
                                                         "status": "achieved", "direction": "up", "what": "x"},
                                     files=EMPTY_FILE if takes_files(route, method) else None)
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            checked.append(f"{method} {route.path}")
        # The owner reaches the same route, so the 404 above is about who asked, not a broken URL.
        if "GET" in route.methods and not route.path.startswith("/people/"):  # staff pages: see test_sharing
            assert client.get(url, follow_redirects=False).status_code in (200, 303), url
    assert len(checked) >= 20, checked
    assert sql(settings, "SELECT count(*) FROM feedback") == [(1,)]  # still the owner's: nobody else took it back
    for part in PARTS:  # every part's own pages were swept
        assert any(path.startswith((f"GET {part.path}/", f"POST {part.path}/")) for path in checked), part.key
