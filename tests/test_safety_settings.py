"""Safety settings: a person's own idle sign-out, covering the screen when the app is hidden, and the
installed app's name and icon ("Notes"), served in the manifest that person's pages point to."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import post_form, sign_up
from tests.test_messages import _last_seen

SAVE = {"idle_minutes": "15", "cover": "on", "app_name": "waypoint"}


def test_a_shorter_idle_sign_out_is_the_persons_own(client, settings):
    sign_up(client, "river")
    assert post_form(client, "/settings/safety", {**SAVE, "idle_minutes": "5"}).headers["location"] == "/settings/safety?done=safety#staying-safe"
    token = client.cookies.get("wp_session")
    _last_seen(settings, token, set_to=datetime.now(UTC) - timedelta(minutes=4))
    assert client.get("/home", follow_redirects=False).status_code == 200
    _last_seen(settings, token, set_to=datetime.now(UTC) - timedelta(minutes=6))
    assert client.get("/home", follow_redirects=False).status_code == 303  # signed out: 6 > 5 minutes


def test_covering_the_screen_is_on_unless_turned_off(client):
    sign_up(client, "river")
    assert "data-cover" in client.get("/home").text
    post_form(client, "/settings/safety", {"idle_minutes": "15", "app_name": "waypoint"})  # box not ticked
    page = client.get("/settings/safety").text
    assert "data-cover" not in page and 'id="cover" name="cover" type="checkbox" value="on">' in page


def test_the_installed_app_can_be_named_notes_before_it_is_installed(client):
    sign_up(client, "river")
    assert 'href="/manifest.webmanifest"' in client.get("/home").text
    assert client.get("/manifest.webmanifest").json()["name"] == "Waypoint"
    post_form(client, "/settings/safety", {**SAVE, "app_name": "notes"})
    home = client.get("/home").text
    assert 'href="/manifest.webmanifest?app=notes"' in home and "/static/icons/notes-apple-touch-icon." in home
    manifest = client.get("/manifest.webmanifest?app=notes").json()
    assert manifest["name"] == manifest["short_name"] == "Notes" and manifest["description"] == ""
    # Each named with its content hash (portal/static_files.py), left out here.
    assert {re.sub(r"\.[0-9a-f]{12}\.", ".", icon["src"]) for icon in manifest["icons"]} == {
        "/static/icons/notes-192.png", "/static/icons/notes-512.png", "/static/icons/notes-maskable-512.png",
        "/static/icons/notes.svg"}
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200
    assert "What this cannot hide" in client.get("/settings/safety").text


@pytest.mark.parametrize("change", [{"idle_minutes": "1"}, {"idle_minutes": "999"}, {"idle_minutes": "x"},
                                    {"idle_minutes": "²"},  # a digit to str.isdigit(), not to int(): was a 500
                                    {"app_name": "calculator"}, {"app_name": ""}])
def test_values_outside_the_lists_are_refused(client, change):
    sign_up(client, "river")
    response = post_form(client, "/settings/safety", {**SAVE, **change})
    assert response.status_code == 400 and "Choose from the lists." in response.text


def test_a_longer_idle_sign_out_is_the_persons_choice_too(client, other_client, settings):
    sign_up(client, "river")
    sign_up(other_client, "sea")  # keeps the organisation's 15 minutes
    post_form(client, "/settings/safety", {**SAVE, "idle_minutes": "30"})
    for browser in (client, other_client):
        _last_seen(settings, browser.cookies.get("wp_session"), set_to=datetime.now(UTC) - timedelta(minutes=20))
    assert client.get("/home", follow_redirects=False).status_code == 200
    assert other_client.get("/home", follow_redirects=False).status_code == 303
