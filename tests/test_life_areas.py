"""Life areas over HTTP: a rating saved and shown in words, the wheel and each area's line drawn by the server
and matching the saved ratings (with the same in words), refused input, notes held back from a caseworker
unless shared with notes, the offer of a goal for the areas rated lowest, nobody else's, and the monthly
reminder on a real local push service."""

from __future__ import annotations

import html
import json
import math
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from portal.models import LIFE_AREAS, Role
from tests.conftest import make_connection, make_user, post_form, sign_in, sign_up, sql
from tests.test_push import add_device, moment, outbox, service, work  # noqa: F401 - `service` is a fixture

NAMES = {"safety": "Safety", "housing": "Housing", "health": "Health", "mind": "Mind and feelings",
         "money": "Money", "work": "Work and learning", "legal": "Legal matters", "people": "People around me"}
WORDS = {1: "1 · Very hard right now", 2: "2 · Hard", 3: "3 · Getting by", 4: "4 · Good", 5: "5 · Going well"}
CENTRE_X, CENTRE_Y, RADIUS = 220.0, 160.0, 110.0


def rate(client, ratings: dict[str, int], notes: dict[str, str] | None = None) -> str:  # type: ignore[no-untyped-def]
    """Save one rating through the form; its address."""
    data = {f"rate-{area}": str(value) for area, value in ratings.items()}
    data.update({f"note-{area}": note for area, note in (notes or {}).items()})
    response = post_form(client, "/life-areas", data)
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).split("?")[0]


def polygon(page: str, which: str) -> list[tuple[float, float]]:
    found = re.search(rf'data-rating="{which}" points="([^"]*)"', page)
    assert found, which
    return [(float(x), float(y)) for x, y in (pair.split(",") for pair in found.group(1).split())]


def radii(points: list[tuple[float, float]], ratings: dict[str, int]) -> dict[str, float]:
    """Each point's area (from its angle: the first spoke straight up, then clockwise) and its rating (radius)."""
    found = {}
    for x, y in points:
        angle = math.degrees(math.atan2(y - CENTRE_Y, x - CENTRE_X)) + 90
        index = round(angle / 45) % 8
        found[LIFE_AREAS[index]] = math.hypot(x - CENTRE_X, y - CENTRE_Y) / RADIUS * 5
    assert sorted(found) == sorted(ratings)
    return found


def rows(page: str) -> dict[str, list[str]]:
    """The wheel's table in words: area -> its cells."""
    table = re.search(r'<table class="table wheel__table">(.*?)</table>', page, re.S).group(1)  # type: ignore[union-attr]
    found = {}
    for row in re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", table, re.S):
        cells = re.findall(r">([^<>]*)</t[hd]>", "<th>" + row)
        found[html.unescape(cells[0])] = [html.unescape(cell) for cell in cells[1:]]
    return found


def test_a_rating_is_saved_and_shown_in_words(client, settings):
    sign_up(client, "river")
    form = client.get("/life-areas/new").text
    for name in NAMES.values():
        assert f"<legend>{name}</legend>" in form
    for words in WORDS.values():
        assert words in form
    assert 'type="radio"' in form and ">Save</button>" in form
    url = rate(client, {"safety": 4, "housing": 2, "mind": 3}, {"housing": "Still in the shelter."})
    assert re.fullmatch(r"/life-areas/[A-Za-z0-9_-]{16}", url)
    page = client.get(url).text
    assert "<title>Waypoint – Life areas</title>" in page
    assert "4 · Good" in page and "2 · Hard" in page and "3 · Getting by" in page
    assert "Still in the shelter." in page and "Only you can see this." in page
    assert page.count("Not rated") == 5
    [(safety, housing, health, notes)] = sql(settings, "SELECT safety, housing, health, notes FROM life_areas")
    assert (safety, housing, health) == (4, 2, None) and json.loads(notes) == {"housing": "Still in the shelter."}
    listing = client.get("/life-areas").text
    assert f'href="{url}"' in listing and "3 areas rated" in listing
    assert "once a month" in listing


def test_the_empty_list_is_kind_and_offers_the_form(client):
    sign_up(client, "river")
    page = client.get("/life-areas").text
    assert "You have not rated your life areas yet" in page and 'href="/life-areas/new"' in page
    assert "<svg" not in page.split("<main", 1)[1]


def test_the_wheel_is_drawn_by_the_server_and_matches_the_ratings_and_its_words(client):
    sign_up(client, "river")
    first = {"safety": 1, "housing": 2, "health": 3, "mind": 4, "money": 5, "work": 2, "legal": 1, "people": 3}
    rate(client, first)
    latest = {"safety": 3, "housing": 2, "health": 5, "money": 4, "legal": 2, "people": 1}
    rate(client, latest)
    page = client.get("/life-areas").text
    assert re.search(r'<svg class="wheel__svg"[^>]*role="img"[^>]*aria-labelledby="wheel-name"', page)
    assert '<title id="wheel-name">' in page
    for which, ratings in (("first", first), ("latest", latest)):
        for area, radius in radii(polygon(page, which), ratings).items():
            assert abs(radius - ratings[area]) < 0.01, (which, area)
    words = rows(page)
    assert list(words) == list(NAMES.values())
    for area, name in NAMES.items():
        before, now = first[area], latest.get(area)
        change = "—" if now is None else "Better" if now > before else "Harder" if now < before else "The same"
        assert words[name] == [WORDS[before], WORDS[now] if now else "Not rated", change], name
    # The two lines differ in more than colour: dashed and solid, square and round points, in the legend too.
    assert "Dashed line, square points: first rating" in page and "Solid line, round points: latest rating" in page
    # Each area's line over time, in words beside it.
    assert "Health, the last 2 ratings, oldest to newest: 3 · Getting by, 5 · Going well." in page
    assert "Mind and feelings, rated once: 4 · Good." in page
    health = re.search(r'data-area="health">(.*?)</svg>', page, re.S).group(1)  # type: ignore[union-attr]
    ys = [float(y) for y in re.findall(r'<circle class="trend__point" cx="[^"]+" cy="([^"]+)"', health)]
    assert ys == [8 + (5 - 3) * 16, 8 + (5 - 5) * 16]


def test_a_single_rating_draws_only_the_latest(client):
    sign_up(client, "river")
    rate(client, {"work": 5})
    page = client.get("/life-areas").text
    assert 'data-rating="first"' not in page
    assert abs(radii(polygon(page, "latest"), {"work": 5})["work"] - 5) < 0.01
    assert rows(page)["Work and learning"] == [WORDS[5]]


def test_refused_input_shows_errors_keeps_what_was_typed_and_saves_nothing(client, settings):
    sign_up(client, "river")
    cases = [
        ({"note-housing": "Kept words"}, "Rate at least one area."),
        ({"rate-safety": "0", "rate-money": "3", "note-housing": "Kept words"}, "Choose from 1 to 5"),
        ({"rate-safety": "6", "note-housing": "Kept words"}, "Choose from 1 to 5"),
        ({"rate-safety": "x", "note-housing": "Kept words"}, "Choose from 1 to 5"),
        ({"rate-wellbeing": "3", "rate-money": "3", "note-housing": "Kept words"}, "Rate only the areas on this page."),
        ({"rate-money": "3", "note-housing": "Kept words", "note-safety": "x" * 401}, "Use 400 characters or fewer."),
    ]
    for data, message in cases:
        response = post_form(client, "/life-areas", data)
        assert response.status_code == 400, data
        assert message in response.text and 'class="error-summary' in response.text, data
        assert "Kept words" in response.text
        if "rate-money" in data:
            assert 'value="3" checked' in response.text
    assert sql(settings, "SELECT count(*) FROM life_areas") == [(0,)]


def test_notes_are_held_back_from_a_caseworker_unless_shared_with_notes(client, other_client, settings):
    sign_up(client, "river")
    url = rate(client, {"housing": 2, "legal": 1}, {"housing": "Only for my eyes"})
    item_id = url.rsplit("/", 1)[1]
    make_user(settings, "ana", Role.CASEWORKER)
    connection = make_connection(settings, "river", "ana")
    sign_in(other_client, "ana")
    shared = f"/people/{connection}/life_areas/{item_id}"
    assert other_client.get(shared).status_code == 404
    post_form(client, f"/sharing/{connection}/save", {"parts": "life_areas", "until-life_areas": "week"})
    page = other_client.get(shared).text
    assert "2 · Hard" in page and "1 · Very hard right now" in page
    assert "Only for my eyes" not in page and "Notes not shared" in page
    listing = other_client.get(f"/people/{connection}/life_areas").text
    assert 'data-rating="latest"' in listing and "Only for my eyes" not in listing
    assert "Start a goal" not in listing  # the offer is the survivor's own
    post_form(client, f"/sharing/{connection}/save", {"parts": "life_areas", "until-life_areas": "week",
                                                      "notes": "life_areas"})
    page = other_client.get(shared).text
    assert "Only for my eyes" in page and "Notes not shared" not in page


def test_a_goal_is_offered_only_for_the_areas_rated_low_and_the_form_comes_filled_in(client, settings):
    sign_up(client, "river")
    rate(client, {"housing": 1, "mind": 2, "money": 3, "work": 5})
    page = client.get("/life-areas").text
    offers = re.findall(r'<a href="(/goals/new\?[^"]+)">Start a goal about ([^<]+)</a>', page)
    assert [name for _href, name in offers] == ["Housing", "Mind and feelings"]
    goal_form = client.get(html.unescape(offers[0][0])).text
    assert re.search(r'<option value="housing" selected>', goal_form)
    assert 'value="Find a steady place to live"' in goal_form
    assert re.search(r'<option value="health" selected>', client.get(html.unescape(offers[1][0])).text)
    assert sql(settings, "SELECT count(*) FROM goal") == [(0,)]  # never made on its own
    rate(client, {"housing": 3, "mind": 4})
    assert "Start a goal" not in client.get("/life-areas").text


def test_the_goal_form_takes_only_known_areas_and_a_short_escaped_title(client):
    sign_up(client, "river")
    page = client.get("/goals/new", params={"area": "spaceship", "title": '<script>alert(1)</script>' + "x" * 300}).text
    assert "selected>" not in page.split('id="area"', 1)[1].split("</select>", 1)[0]
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    value = re.search(r'id="title" name="title" type="text" value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
    assert len(html.unescape(value)) == 200


def test_another_survivor_and_an_unshared_caseworker_get_404(client, other_client, settings):
    sign_up(client, "river")
    url = rate(client, {"safety": 3}, {"safety": "mine"})
    sign_up(other_client, "sky")
    for path in (url, f"{url}/delete", f"{url}/card"):
        assert other_client.get(path).status_code == 404, path
    assert post_form(other_client, f"{url}/delete").status_code == 404
    assert post_form(other_client, f"{url}/private").status_code == 404
    other_client.cookies.clear()
    make_user(settings, "ana", Role.CASEWORKER)
    connection = make_connection(settings, "river", "ana")
    sign_in(other_client, "ana")
    item_id = url.rsplit("/", 1)[1]
    assert other_client.get(f"/people/{connection}/life_areas").status_code == 404
    assert other_client.get(f"/people/{connection}/life_areas/{item_id}").status_code == 404


def test_a_rating_is_deleted_after_one_question(client, settings):
    sign_up(client, "river")
    url = rate(client, {"safety": 3})
    question = client.get(f"{url}/delete").text
    assert "Delete this rating?" in question
    assert post_form(client, f"{url}/delete").status_code == 303
    assert sql(settings, "SELECT count(*) FROM life_areas") == [(0,)]
    assert client.get(url).status_code == 404


def test_the_monthly_reminder_is_off_by_default_then_comes_a_month_after_the_latest_rating(app, client, settings,
                                                                                          service):  # noqa: F811
    sign_up(client, "river")
    add_device(client, service)
    rate(client, {"safety": 3})
    assert sql(settings, "SELECT life_areas, life_areas_next_at FROM push_settings") in ([], [(False, None)])
    assert work(app, settings)["sent"] == 0 and outbox(settings) == []  # off by default
    reminders = client.get("/settings/reminders").text
    assert "A monthly reminder to rate my life areas" in reminders and 'value="life_areas" checked' not in reminders

    post_form(client, "/settings/time-zone", {"time_zone": "Asia/Tokyo"})
    response = post_form(client, "/settings/reminders", {"kinds": "life_areas", "checkin_time": "19:15"})
    assert response.status_code == 303
    [(rated_at,)] = sql(settings, "SELECT created_at FROM life_areas")
    [(next_at,)] = sql(settings, "SELECT life_areas_next_at FROM push_settings")
    due, tokyo = moment(next_at), ZoneInfo("Asia/Tokyo")
    here = due.astimezone(tokyo)
    assert (here.hour, here.minute) == (19, 15)
    assert timedelta(days=27) < due - moment(rated_at) < timedelta(days=33)

    assert work(app, settings, due - timedelta(minutes=1))["sent"] == 0
    assert work(app, settings, due)["sent"] == 1
    assert work(app, settings, due + timedelta(minutes=5))["sent"] == 0  # queued once per due time
    [delivery] = service.deliveries
    assert delivery.payload == {"text": "You have a new update", "open": "/life-areas/new"}
    for word in ("life", "area", "river", "rate"):
        assert word not in repr(delivery.headers).lower()
    [(following,)] = sql(settings, "SELECT life_areas_next_at FROM push_settings")
    assert timedelta(days=27) < moment(following) - due < timedelta(days=33)

    # A new rating moves it on; turning it off clears it.
    rate(client, {"safety": 4})
    [(after_rating,)] = sql(settings, "SELECT life_areas_next_at FROM push_settings")
    [(newest,)] = sql(settings, "SELECT max(created_at) FROM life_areas")
    assert moment(after_rating) != moment(following)
    assert timedelta(days=27) < moment(after_rating) - moment(newest) < timedelta(days=33)
    assert (moment(after_rating).astimezone(tokyo).hour, moment(after_rating).astimezone(tokyo).minute) == (19, 15)
    post_form(client, "/settings/reminders", {"kinds": "messages", "checkin_time": "19:15"})
    assert sql(settings, "SELECT life_areas_next_at FROM push_settings") == [(None,)]
    assert json.loads(sql(settings, "SELECT notes FROM life_areas LIMIT 1")[0][0]) == {}


def test_the_monthly_reminder_keeps_its_local_time_when_the_time_zone_changes(client, settings):
    sign_up(client, "river")
    rate(client, {"money": 2})
    post_form(client, "/settings/reminders", {"kinds": "life_areas", "checkin_time": "08:45"})
    [(before,)] = sql(settings, "SELECT life_areas_next_at FROM push_settings")
    assert (moment(before).hour, moment(before).minute) == (8, 45)  # the account's zone: UTC
    post_form(client, "/settings/time-zone", {"time_zone": "America/Mexico_City"})
    [(after,)] = sql(settings, "SELECT life_areas_next_at FROM push_settings")
    here = moment(after).astimezone(ZoneInfo("America/Mexico_City"))
    assert (here.hour, here.minute) == (8, 45) and here.date() == moment(before).date()


def test_a_past_rating_can_be_put_right_and_a_refused_change_keeps_it(client, settings):
    sign_up(client, "river")
    url = rate(client, {"money": 2, "work": 4}, {"money": "Rent is due."})
    form = client.get(f"{url}/edit").text
    assert "Change this rating" in form and 'id="rate-money-2" name="rate-money" type="radio" value="2" checked' in form
    assert "Rent is due." in form
    refused = post_form(client, f"{url}/edit", {"rate-money": "9"})
    assert refused.status_code == 400 and "Choose from 1 to 5" in refused.text
    assert sql(settings, "SELECT money, work FROM life_areas") == [(2, 4)]
    assert post_form(client, f"{url}/edit", {"rate-money": "3"}).status_code == 303
    [(money, work, notes)] = sql(settings, "SELECT money, work, notes FROM life_areas")
    assert (money, work, json.loads(notes)) == (3, None, {})


def test_with_no_rating_yet_the_reminder_comes_a_month_after_it_is_turned_on_and_stays_put(client, settings):
    sign_up(client, "river")
    post_form(client, "/settings/reminders", {"kinds": "life_areas", "checkin_time": "18:00"})
    [(next_at, turned_on)] = sql(settings, "SELECT life_areas_next_at, CURRENT_TIMESTAMP FROM push_settings")
    assert timedelta(days=27) < moment(next_at) - moment(turned_on) < timedelta(days=33)
    post_form(client, "/settings/reminders", {"kinds": ["life_areas", "messages"], "checkin_time": "18:00"})
    assert sql(settings, "SELECT life_areas_next_at FROM push_settings") == [(next_at,)]
