"""Appointments over HTTP: time zones, UTC storage, lists, .ics, bad input, and nobody else's."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from portal.dates import moment
from tests.conftest import post_form, sign_up

NEXT_YEAR = date.today().year + 1


def set_zone(client, zone: str) -> None:  # type: ignore[no-untyped-def]
    response = post_form(client, "/settings/time-zone", {"time_zone": zone})
    assert response.status_code == 200 and "Saved" in response.text


def new_appointment(client, **fields: str) -> str:  # type: ignore[no-untyped-def]
    data = {"what": "Meeting with my lawyer", "date": f"{NEXT_YEAR}-06-15", "time": "14:30", "place": "",
            "with_whom": "", "notes": "", "reminder": "1d", **fields}
    response = post_form(client, "/appointments", data)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_time_is_typed_in_the_survivors_zone_stored_in_utc_and_exported_as_ics(client):
    sign_up(client, "river")
    set_zone(client, "America/New_York")
    url = new_appointment(client, place="12 High St, Room 3", with_whom="Ms. Díaz; lawyer", notes="Bring passport,\nand the letter")
    page = client.get(url).text
    assert moment(datetime(NEXT_YEAR, 6, 15, 14, 30)) in page and "United States (New York) Time" in page and "1 day before" in page
    response = client.get(f"{url}/calendar.ics")
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["content-disposition"] == 'attachment; filename="appointment.ics"'
    assert response.headers["cache-control"] == "no-store"
    assert b"\r\n" in response.content
    calendar = Calendar.from_ical(response.content)
    event = next(iter(calendar.walk("VEVENT")))
    start = event.decoded("DTSTART")
    assert start == datetime(NEXT_YEAR, 6, 15, 18, 30, tzinfo=UTC)  # 14:30 EDT is 18:30 UTC
    assert str(event["SUMMARY"]) == "Appointment"  # plain unless the details are asked for
    event = next(iter(Calendar.from_ical(client.get(f"{url}/calendar.ics?details=1").content).walk("VEVENT")))
    assert event.decoded("DTSTART") == start
    assert str(event["SUMMARY"]) == "Meeting with my lawyer"
    assert str(event["LOCATION"]) == "12 High St, Room 3"
    assert "Bring passport,\nand the letter" in str(event["DESCRIPTION"]) and "Ms. Díaz; lawyer" in str(event["DESCRIPTION"])


def test_a_long_summary_is_folded_and_still_parses(client):
    sign_up(client, "river")
    url = new_appointment(client, what="é" * 150)
    body = client.get(f"{url}/calendar.ics?details=1").content
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    event = next(iter(Calendar.from_ical(body).walk("VEVENT")))
    assert str(event["SUMMARY"]) == "é" * 150


def test_changing_zone_shows_the_same_moment_in_the_new_zone(client):
    sign_up(client, "river")
    set_zone(client, "Europe/London")
    url = new_appointment(client, date=f"{NEXT_YEAR}-01-10", time="09:00")
    set_zone(client, "Asia/Tokyo")
    assert moment(datetime(NEXT_YEAR, 1, 10, 18, 0)) in client.get(url).text


def test_a_time_in_the_daylight_saving_gap_gets_a_clear_message(client):
    sign_up(client, "river")
    set_zone(client, "America/New_York")
    # Second Sunday of March: 02:00-03:00 does not exist.
    march = date(NEXT_YEAR, 3, 1)
    gap_day = march + timedelta(days=(6 - march.weekday()) % 7 + 7)
    response = post_form(client, "/appointments", {"what": "x", "date": gap_day.isoformat(), "time": "02:30", "reminder": "none"})
    assert response.status_code == 400 and 'id="time-error"' in response.text and "clocks change" in response.text
    assert f'value="{gap_day.isoformat()}"' in response.text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"what": ""}, "what", "Say what"),
        ({"what": "x" * 201}, "what", "200 characters"),
        ({"notes": "n" * 10_000}, "notes", "2,000 characters"),
        ({"date": f"{NEXT_YEAR}-02-31"}, "date", "real date"),
        ({"date": "1900-01-01"}, "date", "between"),
        ({"date": "3000-01-01"}, "date", "between"),
        ({"date": ""}, "date", "Enter the date"),
        ({"time": "25:00"}, "time", "like 14:30"),
        ({"time": ""}, "time", "Enter the time"),
        ({"reminder": "1y"}, "reminder", "Choose a reminder"),
    ],
)
def test_bad_appointment_input_gets_a_message_and_keeps_what_was_typed(client, fields, field, message):
    sign_up(client, "river")
    data = {"what": "Doctor", "date": f"{NEXT_YEAR}-06-15", "time": "14:30", "place": "Clinic <b>2</b>",
            "with_whom": "", "notes": "", "reminder": "none", **fields}
    response = post_form(client, "/appointments", data)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.text and message in response.text
    assert 'value="Clinic &lt;b&gt;2&lt;/b&gt;"' in response.text
    assert 'class="card"' not in client.get("/appointments").text


def test_upcoming_and_past_lists(client):
    sign_up(client, "river")
    new_appointment(client, what="Soon", date=(date.today() + timedelta(days=2)).isoformat())
    new_appointment(client, what="Later", date=(date.today() + timedelta(days=20)).isoformat())
    new_appointment(client, what="Last year", date=(date.today() - timedelta(days=300)).isoformat())
    upcoming = client.get("/appointments").text
    assert upcoming.index("Soon") < upcoming.index("Later") and "Last year" not in upcoming
    past = client.get("/appointments/past").text
    assert "Last year" in past and "Soon" not in past


def test_edit_and_delete(client):
    sign_up(client, "river")
    url = new_appointment(client)
    form = client.get(f"{url}/edit").text
    assert 'value="Meeting with my lawyer"' in form and 'value="14:30"' in form
    changed = post_form(client, f"{url}/edit", {"what": "Court", "date": f"{NEXT_YEAR}-07-01", "time": "09:15",
                                                "place": "", "with_whom": "", "notes": "", "reminder": "1h"})
    assert changed.status_code == 303
    page = client.get(url).text
    assert "Court" in page and moment(datetime(NEXT_YEAR, 7, 1, 9, 15)) in page and "1 hour before" in page
    assert "Delete this appointment?" in client.get(f"{url}/delete").text
    assert post_form(client, f"{url}/delete").headers["location"] == "/appointments"
    assert client.get(url).status_code == 404


def test_titles_stay_neutral(client):
    sign_up(client, "river")
    url = new_appointment(client, what="Visit to the shelter")
    for path in (url, f"{url}/edit", f"{url}/delete", "/appointments", "/appointments/past"):
        assert re.search(r"<title>(.*?)</title>", client.get(path).text).group(1) == "Waypoint – Appointments"


def test_another_survivor_gets_404_for_every_appointment_url(client, other_client):
    sign_up(client, "river")
    url = new_appointment(client)
    sign_up(other_client, "someone-else")
    for path in (url, f"{url}/edit", f"{url}/delete", f"{url}/calendar.ics", f"{url}/calendar.ics?details=1"):
        assert other_client.get(path).status_code == 404, path
    for path in (f"{url}/edit", f"{url}/delete"):
        assert post_form(other_client, path, {"what": "x", "date": "2030-01-01", "time": "10:00"}).status_code == 404
    assert "Meeting with my lawyer" in client.get(url).text


def test_unknown_time_zones_are_refused(client):
    sign_up(client, "river")
    response = post_form(client, "/settings/time-zone", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 400 and "Choose a time zone" in response.text


def test_sign_up_keeps_the_browsers_time_zone(client):
    response = post_form(client, "/sign-up", {"username": "river", "password": "plum-orchard-lantern", "time_zone": "Europe/Berlin"})
    assert response.status_code == 200
    assert '<option value="DE" selected>Germany</option>' in client.get("/settings/language").text
    assert "Times are shown in Germany (Berlin) Time." in client.get("/settings/language").text


def test_home_shows_the_next_appointment(client):
    sign_up(client, "river")
    assert "Nothing coming up." in client.get("/home").text
    new_appointment(client, what="Later one", date=(date.today() + timedelta(days=30)).isoformat())
    new_appointment(client, what="Sooner one", date=(date.today() + timedelta(days=3)).isoformat())
    home = client.get("/home").text
    assert "Sooner one" in home and "Later one" not in home
