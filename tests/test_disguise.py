"""The name a person chose for the app ("Notes") is the only name the phone keeps or shows: page titles,
the header, the manifest, passkeys, the export and calendar files, signed-out pages after a sign-out; the
offline page names no app at all. Calendar files are plain ("Appointment") unless the person asks for the
details. The name is a fixed choice: nothing typed, and no forged cookie, ever becomes a name."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from icalendar import Calendar

from tests.conftest import PASSWORD, post_form, sign_in, sign_up
from tests.test_appointments import new_appointment
from tests.test_passkeys import _post, confirm

SAVE = {"idle_minutes": "15", "cover": "on"}
PAGES = ["/home", "/goals", "/goals/new", "/appointments", "/appointments/new", "/documents", "/documents/new",
         "/check-ins", "/check-ins/new", "/messages", "/sharing", "/settings", "/settings/safety", "/settings/security", "/settings/reminders", "/settings/language", "/settings/data", "/safety", "/safety/practice", "/no-such-page"]
SIGNED_OUT = ["/", "/sign-in", "/sign-up", "/safety"]


def choose(client, name: str):  # type: ignore[no-untyped-def]
    return post_form(client, "/settings/safety", {**SAVE, "app_name": name}, token_from="/settings")


def head_and_header(html: str) -> str:
    """What a phone keeps or shows of a page besides its words: the head (title, icons, manifest) and the header."""
    head = html.split("</head>", 1)[0]
    header = re.search(r'<header class="site-header">.*?</header>', html, re.S)
    return head + (header.group(0) if header else "")


def title_of(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match
    return match.group(1)


def test_with_notes_chosen_no_title_header_manifest_passkey_export_or_calendar_file_says_waypoint(client):
    sign_up(client, "river")
    url = new_appointment(client, what="Meeting with my lawyer", place="12 High St", with_whom="Ms Patel", notes="Bring ID")
    assert choose(client, "notes").status_code == 303

    for path in [*PAGES, url]:
        html = client.get(path).text
        assert "Waypoint" not in head_and_header(html), path
        assert title_of(html).startswith("Notes"), path
        assert '<a class="brand" href="/">Notes</a>' in html, path
        # Nor anywhere on the page, but where Settings offers the name itself as a choice.
        assert "Waypoint" not in (html.replace('<label for="app_name-waypoint">Waypoint</label>', "")), path
    home = client.get("/home").text
    manifest_href = re.search(r'<link rel="manifest" href="([^"]+)"', home).group(1)
    manifest = client.get(manifest_href)
    assert "Waypoint" not in manifest.text and manifest.json()["name"] == "Notes"
    assert re.search(r'href="/static/icons/notes\.[0-9a-f]{12}\.svg"', home)  # the tab's icon too

    confirm(client)  # adding a passkey asks for the password again
    options = _post(client, "/settings/passkeys/options").json()
    assert options["rp"]["name"] == "Notes"

    export = post_form(client, "/settings/export", {"export_password": PASSWORD}, token_from="/settings")
    assert export.status_code == 200
    disposition = export.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="notes-export-\d{4}-\d{2}-\d{2}\.zip"', disposition), disposition
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    readme = archive.read("README.txt").decode()
    assert "Waypoint" not in readme and readme.startswith("Your Notes data")

    calendar = client.get(f"{url}/calendar.ics")
    assert b"Waypoint" not in calendar.content and b"waypoint" not in calendar.content
    assert b"Waypoint" not in client.get(f"{url}/calendar.ics?details=1").content


def test_the_chosen_name_stays_on_the_device_after_sign_out_and_comes_back_on_sign_in(client, other_client):
    sign_up(client, "river")
    choose(client, "notes")
    assert client.cookies.get("app_name") == "notes"  # a plain word: nothing that says whose phone it is
    post_form(client, "/sign-out", token_from="/home")
    for path in SIGNED_OUT:
        html = client.get(path).text
        assert "Waypoint" not in head_and_header(html), path
        assert title_of(html).startswith("Notes"), path
    assert "Waypoint" not in client.get("/").text.split("</main>")[0].split('<main id="main"')[1]

    # Another browser learns it at sign-in, from the account's setting.
    assert title_of(other_client.get("/sign-in").text) == "Waypoint – Sign in"
    sign_in(other_client, "river")
    post_form(other_client, "/sign-out", token_from="/home")
    assert title_of(other_client.get("/sign-in").text) == "Notes – Sign in"

    # Back to Waypoint: the device forgets the word.
    sign_in(client, "river")
    choose(client, "waypoint")
    assert client.cookies.get("app_name") is None
    post_form(client, "/sign-out", token_from="/home")
    assert title_of(client.get("/sign-in").text) == "Waypoint – Sign in"


def test_the_installed_notes_app_starts_as_notes_even_after_exit_cleared_the_cookie(client):
    manifest = client.get("/manifest.webmanifest?app=notes").json()
    assert manifest["id"] == "/" and manifest["start_url"] == "/?app=notes"
    assert client.get("/manifest.webmanifest").json()["start_url"] == "/"
    landing = client.get("/?app=notes")
    assert title_of(landing.text) == "Notes" and client.cookies.get("app_name") == "notes"
    assert title_of(client.get("/sign-in").text) == "Notes – Sign in"


def test_the_offline_page_names_no_app(client):
    for signed_in in (False, True):
        if signed_in:
            sign_up(client, "river")
            choose(client, "notes")
        html = client.get("/offline").text
        assert "Waypoint" not in html and "Notes" not in html and "notes" not in html
        assert title_of(html) == "No connection"
        assert "river" not in html and 'class="brand"' not in html


def test_a_calendar_file_is_plain_unless_the_details_are_asked_for(client):
    sign_up(client, "river")
    url = new_appointment(client, what="Meeting with my lawyer", place="12 High St", with_whom="Ms Patel", notes="Bring ID")
    plain = client.get(f"{url}/calendar.ics")
    assert plain.headers["content-disposition"] == 'attachment; filename="appointment.ics"'
    event = next(iter(Calendar.from_ical(plain.content).walk("VEVENT")))
    assert str(event["SUMMARY"]) == "Appointment"
    assert "LOCATION" not in event and "DESCRIPTION" not in event
    for secret in (b"lawyer", b"High St", b"Patel", b"Bring ID", b"Waypoint", b"waypoint"):
        assert secret not in plain.content

    full = next(iter(Calendar.from_ical(client.get(f"{url}/calendar.ics?details=1").content).walk("VEVENT")))
    assert str(full["SUMMARY"]) == "Meeting with my lawyer" and str(full["LOCATION"]) == "12 High St"
    assert "With: Ms Patel" in str(full["DESCRIPTION"]) and "Bring ID" in str(full["DESCRIPTION"])
    assert event["DTSTART"].dt == full["DTSTART"].dt

    page = client.get(url).text
    assert f'action="{url}/calendar.ics"' in page and 'name="details" type="checkbox" value="1"' in page and "checked" not in page
    assert "Include the details (what, where, with whom)" in page


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "Notes\u202e", "\u202eseton", "NOTES", "notes ",
                                   "Waypoint", "calculator", ""])
def test_a_name_outside_the_list_is_refused_and_nothing_is_injected(client, value):
    sign_up(client, "river")
    response = choose(client, value)
    assert response.status_code == 400 and "Choose from the lists." in response.text
    assert "<script>alert(1)" not in response.text and "\u202e" not in response.text
    assert title_of(client.get("/home").text) == "Waypoint – Home"


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "notes%E2%80%AE", "%3Cb%3E", "Notes", "x" * 5000])
def test_a_forged_cookie_or_start_address_becomes_no_name(client, value):
    client.cookies.set("app_name", value, domain="testserver.local")
    for html in (client.get("/sign-in").text, client.get("/", params={"app": value}).text):
        assert title_of(html).startswith("Waypoint")
        assert "<script>alert(1)" not in html and "\u202e" not in html and "%3Cb%3E" not in html


def test_settings_say_what_the_name_changes_and_what_it_cannot_hide(client):
    sign_up(client, "river")
    choose(client, "notes")
    page = client.get("/settings/safety").text
    assert re.search(r'name="app_name" type="radio" value="notes"\s+checked', page)
    assert "The name shows on every page" in page and "After Exit now, this browser forgets the name" in page
    assert "its pages still say Waypoint" not in page
