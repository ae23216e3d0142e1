"""Aftercare check-ins over HTTP: a short form, help at once for "not safe" (alerting nobody), the
history and its trend picture, bad input, help lines set by the admin, and nobody else's."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from portal.db import make_engine
from portal.models import Role
from portal.dates import moment
from litestar.testing import TestClient

from app import create_app
from tests.conftest import BASE_URL, ORGANISATION, make_connection, make_user, post_form, run, sign_in, sign_up, sql


def check_in(client, **fields):  # type: ignore[no-untyped-def]
    data = {"feeling": "4", **fields}
    response = post_form(client, "/check-ins", data)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def table_counts(settings) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async def read() -> dict[str, int]:
        engine = make_engine(settings.database_url)
        async with engine.connect() as conn:
            counts = {table: (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()  # noqa: S608
                      for table in ("checkin", "help_line", "web_session", "app_user")}
        await engine.dispose()
        return counts

    return run(read())


def test_a_full_check_in_is_saved_and_shown_only_to_its_owner(client):
    sign_up(client, "river")
    form = client.get("/check-ins/new").text
    assert "<legend>How are you feeling?</legend>" in form and "<legend>Do you feel safe right now?</legend>" in form
    assert 'for="note"' in form and "Save check-in" in form
    assert "We ask so we can show you where to find help" in form and "does not alert anyone" in form
    url = check_in(client, feeling="2", safe="not_sure", needs=["food", "talk"], note="Long day.\nSlept badly.")
    assert re.fullmatch(r"/check-ins/[A-Za-z0-9_-]{16}\?saved=1", url)
    page = client.get(url).text
    assert "<title>Waypoint – Check-ins</title>" in page
    assert "Thank you for checking in" in page
    assert "2 · Low" in page and "Not sure" in page and "Food, Someone to talk to" in page
    assert "Long day.\nSlept badly." in page and "Only you can see this." in page
    assert "You said you do not feel safe" not in page
    listing = client.get("/check-ins").text
    assert "Feeling: 2 · Low" in listing and "Safe: Not sure" in listing


def test_a_cards_feeling_line_follows_the_persons_language_and_the_staff_list_shows_no_safety_answer(
        client, other_client, settings):
    sign_up(client, "river")
    check_in(client, feeling="2", safe="not_sure")
    check_in(client, feeling="2")
    assert client.get("/check-ins").text.count("Feeling: 2 · Low") == 2
    # The line is kept once made: the same feeling in another language is that language's line, not the first one.
    post_form(client, "/language", {"language": "es", "next": "/check-ins"})
    listing = client.get("/check-ins").text
    assert listing.count("Ánimo: 2 · Mal") == 2 and "A salvo: No lo sé" in listing and "Feeling:" not in listing
    make_user(settings, "Ana", Role.CASEWORKER)
    connection = make_connection(settings, "river", "Ana", ("checkins",))
    sign_in(other_client, "Ana")
    shared = other_client.get(f"/people/{connection}/checkins").text
    assert shared.count("Feeling: 2 · Low") == 2 and "Safe:" not in shared


def test_only_the_feeling_is_needed_and_the_safety_question_can_be_skipped(client):
    sign_up(client, "river")
    page = client.get(check_in(client, feeling="5")).text
    assert "5 · Very good" in page and "Not answered" in page
    assert "What would help?" not in page.split("</dl>")[0].split("<dl")[1]  # nothing chosen, nothing shown


def in_country(settings, code: str) -> None:  # type: ignore[no-untyped-def]
    """The organisation is in `code` (as its first admin chose, on the command line or the Help lines page)."""
    sql(settings, "INSERT INTO organisation (name, country, exit_url, created_at) VALUES (:n, :c, '', :t)", n=ORGANISATION,
        c=code, t=datetime.now(UTC))


def test_not_safe_shows_help_at_once_and_alerts_nobody(client, settings):
    in_country(settings, "US")
    sign_up(client, "river")
    before = table_counts(settings)
    page = client.get(check_in(client, feeling="1", safe="no")).text
    help_part = page.split("<h1>")[0]  # the help comes before anything else on the page
    assert "You said you do not feel safe" in help_part
    assert 'href="tel:18883737888"' in help_part and "Call 1-888-373-7888" in help_part
    assert 'href="sms:233733"' in help_part and 'href="tel:911"' in help_part
    assert "Nobody has been told" in help_part
    after = table_counts(settings)
    assert after == {**before, "checkin": before["checkin"] + 1}  # the check-in, and nothing else written


def test_the_help_page_shows_the_numbers_to_anyone(client, settings):
    in_country(settings, "US")
    page = client.get("/help").text
    assert "<title>Waypoint – Help</title>" in page and "1-888-373-7888" in page and "911" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"feeling": ""}, "feeling", "Choose how you are feeling"),
        ({"feeling": "0"}, "feeling", "Choose how you are feeling"),
        ({"feeling": "6"}, "feeling", "Choose how you are feeling"),
        ({"feeling": "four"}, "feeling", "Choose how you are feeling"),
        ({"safe": "maybe"}, "safe", "Choose one of the answers"),
        ({"needs": ["food", "weapons"]}, "needs", "Choose from the list."),
        ({"note": "x" * 10_000}, "note", "2,000 characters or fewer"),
    ],
)
def test_bad_answers_get_a_message_beside_the_question_and_keep_the_rest(client, settings, fields, field, message):
    sign_up(client, "river")
    data = {"feeling": "3", "safe": "yes", "needs": ["housing"], "note": "<script>alert(1)</script> שלום", **fields}
    response = post_form(client, "/check-ins", data)
    assert response.status_code == 400
    assert message in response.text and f'id="{field}-error"' in response.text
    if field != "note":
        assert "&lt;script&gt;alert(1)&lt;/script&gt; שלום" in response.text and "<script>alert(1)" not in response.text
    if field != "needs":
        assert 'value="housing" checked' in response.text
    if field != "safe":
        assert 'value="yes" checked' in response.text
    assert table_counts(settings)["checkin"] == 0


def test_script_in_the_note_is_stored_and_shown_as_text(client):
    sign_up(client, "river")
    url = check_in(client, note="<img src=x onerror=alert(1)>")
    for path in (url, "/check-ins"):
        body = client.get(path).text
        assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_times_are_shown_in_the_survivors_zone(client):
    sign_up(client, "river")
    assert post_form(client, "/settings/time-zone", {"time_zone": "Asia/Tokyo"}).status_code == 200
    url = check_in(client)
    page = client.get(url).text
    shown = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', page)
    assert shown
    stored = datetime.fromisoformat(shown.group(1))
    assert stored.utcoffset() is not None and stored.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert shown.group(2) == moment(stored.astimezone(ZoneInfo("Asia/Tokyo")))
    assert not re.search(r"\d{4}-\d\d-\d\d", shown.group(2))  # never in ISO form


def test_the_trend_picture_shows_the_last_30_and_says_the_same_in_words(client):
    sign_up(client, "river")
    assert "<svg" not in client.get("/check-ins").text  # nothing to draw yet
    check_in(client, feeling="3")
    first = client.get("/check-ins").text
    assert first.count('class="trend__point"') == 1 and "The first check-in: Okay (3 of 5)." in first
    feelings = [1, 2] + [3] * 29 + [5]  # 32 in all, oldest first
    for feeling in feelings[1:]:
        check_in(client, feeling=str(feeling))
    page = client.get("/check-ins").text
    assert page.count('class="trend__point"') == 30
    last_30 = feelings[-30:]
    average = sum(last_30) / 30
    assert f"The last 30 check-ins, oldest to newest. The first: Okay. The latest: Very good. On average: {average:.1f} of 5." in page
    picture = page.split("<svg")[1].split("</svg>")[0]
    assert 'aria-hidden="true"' in page.split("<svg")[1][:200] and "<figcaption>" in page
    ys = [float(y) for y in re.findall(r'cy="([\d.]+)"', picture)]
    assert ys[-1] == 10.0 and ys[0] == 60.0  # very good at the top; okay in the middle
    assert "<polyline" in picture


def test_the_history_is_paginated_newest_first(client):
    sign_up(client, "river")
    for number in range(21):
        check_in(client, note=f"Day {number}")
    first = client.get("/check-ins").text
    assert first.count('<li class="card" id=') == 20 and "Day 20" in first and "Day 0<" not in first
    second = client.get("/check-ins?page=2").text
    assert second.count('<li class="card" id=') == 1 and "Day 0" in second
    assert second.count('class="trend__point"') == 21  # the picture is the same on every page


def test_change_and_delete_a_check_in(client, settings):
    sign_up(client, "river")
    url = check_in(client, feeling="2", needs=["legal"]).split("?")[0]
    edit = client.get(f"{url}/edit").text
    assert 'value="2" checked' in edit and 'value="legal" checked' in edit
    response = post_form(client, f"{url}/edit", {"feeling": "4", "safe": "yes", "note": "Better now"})
    assert response.status_code == 303
    page = client.get(url).text
    assert "4 · Good" in page and "Better now" in page and "Legal help" not in page
    assert post_form(client, f"{url}/edit", {"feeling": "9"}).status_code == 400
    assert "Delete this check-in?" in client.get(f"{url}/delete").text
    assert post_form(client, f"{url}/delete").status_code == 303
    assert client.get(url).status_code == 404
    assert table_counts(settings)["checkin"] == 0


def test_another_survivor_gets_404_for_every_check_in_url(client, other_client, settings):
    sign_up(client, "river")
    url = check_in(client, note="mine").split("?")[0]
    sign_up(other_client, "someone-else")
    for path in (url, f"{url}/edit", f"{url}/delete"):
        assert other_client.get(path).status_code == 404, path
    for path in (f"{url}/edit", f"{url}/delete"):
        assert post_form(other_client, path, {"feeling": "1"}).status_code == 404, path
    assert "mine" not in other_client.get("/check-ins").text
    assert "mine" in client.get(url).text


def test_signed_out_visitors_and_staff_cannot_reach_check_ins(client, settings):
    assert client.get("/check-ins", follow_redirects=False).headers["location"] == "/sign-in"
    make_user(settings, "case-worker", Role.CASEWORKER)
    sign_in(client, "case-worker")
    assert client.get("/check-ins", follow_redirects=False).status_code in (403, 404)


# ----- help lines, set by the organisation admin ----------------------------------------------


@pytest.mark.parametrize(("country", "shown", "not_shown"), [
    ("GB", ["Modern Slavery &amp; Exploitation Helpline", 'href="tel:08000121700"', 'href="tel:999"'],
     ['href="tel:18883737888"', 'href="tel:911"']),
    ("US", ["National Human Trafficking Hotline", 'href="tel:18883737888"', 'href="sms:233733"', 'href="tel:911"'],
     ['href="tel:08000121700"', 'href="tel:999"']),
    ("FR", ['href="tel:112"'], ['href="tel:18883737888"', 'href="tel:911"', 'href="tel:08000121700"',
                                'href="tel:999"', "Hotline", "Helpline"]),
])
def test_a_new_organisation_shows_its_countrys_lines_before_any_admin_edits_them(client, other_client, settings,
                                                                                 country, shown, not_shown):
    make_user(settings, "org-admin", Role.ADMIN)
    sign_in(client, "org-admin")
    assert "Choose where your organisation is" in client.get("/admin/staff").text
    assert post_form(client, "/admin/country", {"country": country}).status_code == 303
    assert "Choose where your organisation is" not in client.get("/admin/staff").text
    sign_up(other_client, "river")
    help_part = other_client.get(check_in(other_client, feeling="1", safe="no")).text.split("<h1>")[0]
    assert all(text in help_part for text in shown), help_part
    assert not any(text in help_part for text in not_shown), help_part
    lines_page = client.get("/admin/help-lines").text
    assert ("There are no built-in help lines for France" in lines_page) == (country == "FR")


def test_a_country_that_does_not_exist_is_refused(client, settings):
    make_user(settings, "org-admin", Role.ADMIN)
    sign_in(client, "org-admin")
    assert post_form(client, "/admin/country", {"country": "XX"}).status_code == 400
    assert sql(settings, "SELECT country FROM organisation") == [("",)]


def test_the_admin_sets_help_lines_that_replace_the_defaults(client, other_client, settings):
    in_country(settings, "US")
    make_user(settings, "org-admin", Role.ADMIN)
    sign_in(client, "org-admin")
    page = client.get("/admin/help-lines").text
    assert "None set yet" in page and "1-888-373-7888" in page
    response = post_form(client, "/admin/help-lines", {"label": "City shelter (24 hours)", "call": "+44 20 7946 0000", "text": ""})
    assert response.status_code == 303

    sign_up(other_client, "river")
    help_part = other_client.get(check_in(other_client, feeling="1", safe="no")).text.split("<h1>")[0]
    assert "City shelter (24 hours)" in help_part and 'href="tel:+442079460000"' in help_part
    assert "1-888-373-7888" not in help_part

    line_id = re.search(r'/admin/help-lines/(\d+)/delete', client.get("/admin/help-lines").text).group(1)  # type: ignore[union-attr]
    assert post_form(client, f"/admin/help-lines/{line_id}/delete").status_code == 303
    assert "1-888-373-7888" in other_client.get("/help").text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"label": "", "call": "911"}, "label", "Say who answers"),
        ({"label": "x" * 121, "call": "911"}, "label", "120 characters or fewer"),
        ({"label": "Shelter", "call": "", "text": ""}, "call", "a number to call, a number to text"),
        ({"label": "Shelter", "call": "javascript:alert(1)"}, "call", "Enter a phone number"),
        ({"label": "Shelter", "text": "12<b>34"}, "text", "Enter a phone number"),
    ],
)
def test_help_line_bad_input_is_explained_and_kept(client, settings, fields, field, message):
    make_user(settings, "org-admin", Role.ADMIN)
    sign_in(client, "org-admin")
    response = post_form(client, "/admin/help-lines", {"label": "", "call": "", "text": "", **fields})
    assert response.status_code == 400 and message in response.text and f'id="{field}-error"' in response.text
    assert table_counts(settings)["help_line"] == 0


def test_only_the_admin_manages_help_lines(client, settings):
    sign_up(client, "river")
    assert client.get("/admin/help-lines", follow_redirects=False).status_code in (403, 404)
    assert post_form(client, "/admin/help-lines", {"label": "x", "call": "1"}).status_code in (403, 404)
    assert table_counts(settings)["help_line"] == 0


HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def test_with_htmx_a_list_card_asks_in_place_and_says_when_it_is_gone(client, settings):
    sign_up(client, "river")
    url = check_in(client).split("?")[0]
    item_id = url.rsplit("/", 1)[1]
    assert f'hx-get="{url}/delete"' in client.get("/check-ins").text
    question = client.get(f"{url}/delete", headers=HTMX)
    assert question.status_code == 200 and "<html" not in question.text
    assert f'hx-post="{url}/delete" hx-target="closest li" hx-swap="outerHTML"' in question.text
    assert f'hx-get="{url}/card" hx-target="closest li" hx-swap="outerHTML" autofocus' in question.text
    # "No" puts the card back as it was, with the focus on its Delete link again.
    card = client.get(f"{url}/card", headers=HTMX).text
    assert card.lstrip().startswith(f'<li class="card" id="card-{item_id}">') and "<html" not in card
    assert re.search(rf'href="{url}/delete" hx-get="{url}/delete"[^>]*autofocus', card)
    assert client.get(f"{url}/card", follow_redirects=False).headers["location"] == url  # not a page of its own
    gone = post_form(client, f"{url}/delete", headers=HTMX)
    assert gone.status_code == 200 and "<html" not in gone.text
    assert '<li class="card card--gone"' in gone.text and 'id="wp-announce" hx-swap-oob="innerHTML"' in gone.text
    assert table_counts(settings)["checkin"] == 0
    # Without htmx the same link is a page of its own, and the answer leads back to the list.
    url = check_in(client).split("?")[0]
    page = client.get(f"{url}/delete").text
    assert "<h1>Delete this check-in?</h1>" in page and "hx-post" not in page and f'href="{url}"' in page
    assert post_form(client, f"{url}/delete").headers["location"] == "/check-ins"


def test_an_error_answer_to_htmx_is_a_short_message_for_the_top_of_the_page(client):
    sign_up(client, "river")
    url = check_in(client).split("?")[0]
    post_form(client, f"{url}/delete")
    gone = client.get(f"{url}/delete", headers=HTMX)  # deleted in another tab meanwhile
    assert gone.status_code == 404 and "<html" not in gone.text and "Exit now" not in gone.text
    assert 'role="alert"' in gone.text and gone.headers["hx-retarget"] == "#main" and gone.headers["hx-reswap"] == "afterbegin"
    stale = client.post(f"{url}/delete", data={"_csrf_token": "stale"}, headers=HTMX)
    assert stale.status_code == 403 and "<html" not in stale.text and "out of date" in stale.text
    assert "<html" in client.get(f"{url}/delete").text  # without htmx, the whole error page as before


def test_exit_now_leads_to_an_ordinary_site_of_the_organisations_country(client, other_client, settings):
    """The country sets where Exit now leads for anyone without a place of their own; the admin can change it
    (at once in the worker that saved it; a worker starting later reads it too); a person's own place still wins."""

    def leads_to(browser) -> str:  # type: ignore[no-untyped-def]
        return str(browser.get("/exit", follow_redirects=False).headers["location"])

    def in_a_new_worker() -> str:
        with TestClient(create_app(settings), base_url=BASE_URL) as fresh:
            return leads_to(fresh)

    assert in_a_new_worker() == settings.exit_url  # none chosen: the deployment's setting
    make_user(settings, "org-admin", Role.ADMIN)
    sign_in(client, "org-admin")
    assert post_form(client, "/admin/country", {"country": "US"}).status_code == 303
    assert in_a_new_worker() == "https://www.weather.gov"
    assert post_form(client, "/admin/country", {"country": "GB"}).status_code == 303
    assert "https://www.bbc.co.uk/weather" in client.get("/sw.js").text  # at once, in this worker
    assert post_form(client, "/admin/exit-place", {"exit_url": "javascript:alert(1)"}).status_code == 400
    assert post_form(client, "/admin/exit-place", {"exit_url": "https://news.example.org"}).status_code == 303
    assert "https://news.example.org" in client.get("/sw.js").text
    assert in_a_new_worker() == "https://news.example.org"
    assert post_form(client, "/admin/country", {"country": "US"}).status_code == 303  # chosen by hand: kept
    assert in_a_new_worker() == "https://news.example.org"
    sign_up(other_client, "river")
    assert post_form(other_client, "/settings/exit", {"exit_url": "https://cooking.example.net"}).status_code == 200
    assert leads_to(other_client) == "https://cooking.example.net"


def test_the_trend_names_its_scale_and_its_time_axis(client):
    sign_up(client, "river")
    check_in(client, feeling="2")
    check_in(client, feeling="4")
    figure = client.get("/check-ins").text.split('<figure class="trend">')[1].split("</figure>")[0]
    scale = re.search(r'<p class="trend__scale" aria-hidden="true"><span>(.*?)</span><span>(.*?)</span></p>', figure)
    assert scale and scale.groups() == ("5 · Very good", "1 · Very low"), figure
    assert '<p class="trend__time" aria-hidden="true"><span>Oldest</span><span>Newest</span></p>' in figure
    assert "The last 2 check-ins, oldest to newest. The first: Low. The latest: Good." in figure
