"""Goals over HTTP: create, read, change, steps, status, delete, bad input, and nobody else's."""

from __future__ import annotations

import gc
import re

import pytest

from portal.models import Role
from tests.conftest import csrf_token, make_user, post_form, sign_in, sign_up


def new_goal(client, title: str = "Get my ID card back", area: str = "legal", **extra: str) -> str:  # type: ignore[no-untyped-def]
    response = post_form(client, "/goals", {"title": title, "area": area, "why": "", "target_date": "", **extra})
    assert response.status_code == 303, response.text
    return response.headers["location"]


def add_step(client, goal_url: str, text: str, **headers: str):  # type: ignore[no-untyped-def]
    return post_form(client, f"{goal_url}/steps", {"step": text}, headers=headers)


def step_ids(html: str) -> list[str]:
    return re.findall(r'action="/goals/[^/]+/steps/([^/]+)/toggle"', html)


def test_a_survivor_keeps_a_goal_with_steps_and_sees_progress(client):
    sign_up(client, "river")
    url = new_goal(client, "Find a course", "education", why="So I can work with children", target_date="2027-09-01")
    assert re.fullmatch(r"/goals/[A-Za-z0-9_-]{16}", url)
    for text in ("Ask at the library", "Fill in the form", "Go to the first class"):
        assert add_step(client, url, text).status_code == 303
    page = client.get(url).text
    assert "Find a course" in page and "So I can work with children" in page and "Sep 1, 2027" in page
    assert "0 of 3 steps" in page
    first = step_ids(page)[0]
    post_form(client, f"{url}/steps/{first}/toggle")
    assert "1 of 3 steps" in client.get(url).text
    listing = client.get("/goals").text
    assert "Find a course" in listing and "1 of 3 steps" in listing
    assert "Only you can see" in listing


def test_titles_and_urls_never_carry_what_the_survivor_wrote(client):
    sign_up(client, "river")
    url = new_goal(client, "Leave Marco")
    for path in (url, f"{url}/edit", f"{url}/delete", "/goals", "/home"):
        html = client.get(path).text
        assert re.search(r"<title>(.*?)</title>", html).group(1) in ("Waypoint – Goals", "Waypoint – Home")
    assert "Marco" not in url


def test_steps_reorder_and_remove(client):
    sign_up(client, "river")
    url = new_goal(client)
    for text in ("one", "two", "three"):
        add_step(client, url, text)
    ids = step_ids(client.get(url).text)
    post_form(client, f"{url}/steps/{ids[2]}/move", {"direction": "up"})
    html = client.get(url).text
    assert [m for m in re.findall(r'class="tick__text">([^<]+)<', html)] == ["one", "three", "two"]
    post_form(client, f"{url}/steps/{ids[0]}/move", {"direction": "up"})  # already first: nothing moves
    post_form(client, f"{url}/steps/{ids[0]}/delete")
    html = client.get(url).text
    assert re.findall(r'class="tick__text">([^<]+)<', html) == ["three", "two"]
    assert "0 of 2 steps" in html


def test_htmx_step_changes_answer_with_the_step_list_only(client):
    sign_up(client, "river")
    url = new_goal(client)
    response = add_step(client, url, "Call the embassy", **{"HX-Request": "true", "HX-Request-Type": "partial"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="steps"')
    assert "<html" not in response.text and "Call the embassy" in response.text and "0 of 1 step" in response.text
    bad = add_step(client, url, "", **{"HX-Request": "true", "HX-Request-Type": "partial"})
    assert bad.status_code == 400 and 'id="step-error"' in bad.text and "<html" not in bad.text


def test_a_step_can_be_changed_with_and_without_htmx(client):
    sign_up(client, "river")
    url = new_goal(client)
    add_step(client, url, "Call the embasy")
    add_step(client, url, "Book a photo")
    first = step_ids(client.get(url).text)[0]
    page = client.get(f"{url}/steps/{first}/edit").text
    assert "<title>Waypoint – Goals</title>" in page and 'value="Call the embasy"' in page and "Save step" in page
    bad = post_form(client, f"{url}/steps/{first}/edit", {"step": " "})
    assert bad.status_code == 400 and "Write the step in a few words." in bad.text and f'id="step-{first}-error"' in bad.text
    too_long = post_form(client, f"{url}/steps/{first}/edit", {"step": "<b>x</b>" * 30})
    assert too_long.status_code == 400 and "200 characters or fewer" in too_long.text and "&lt;b&gt;x" in too_long.text
    assert post_form(client, f"{url}/steps/{first}/edit", {"step": "Call the embassy"}).status_code == 303
    assert re.findall(r'class="tick__text">([^<]+)<', client.get(url).text) == ["Call the embassy", "Book a photo"]
    htmx = {"HX-Request": "true", "HX-Request-Type": "partial"}
    form = client.get(f"{url}/steps/{first}/edit", headers=htmx)
    assert form.text.lstrip().startswith('<section id="steps"') and "autofocus" in form.text
    saved = post_form(client, f"{url}/steps/{first}/edit", {"step": "Call the embassy at 9"}, headers=htmx)
    assert saved.status_code == 200 and "<html" not in saved.text and "Call the embassy at 9" in saved.text
    other = new_goal(client, "Another goal")
    assert post_form(client, f"{other}/steps/{first}/edit", {"step": "moved?"}).status_code == 404


def test_achieving_a_goal_celebrates_it_and_keeps_it_in_its_own_list(client):
    sign_up(client, "river")
    url = new_goal(client, "Open a bank account", "money")
    done = post_form(client, f"{url}/status", {"status": "achieved"})
    assert done.headers["location"] == f"{url}?celebrate=1"
    assert "You did it" in client.get(done.headers["location"]).text
    assert "Open a bank account" not in client.get("/goals").text
    assert "See the goal you achieved" in client.get("/goals").text
    assert "Open a bank account" in client.get("/goals/achieved").text
    post_form(client, f"{url}/status", {"status": "paused"})
    assert "Paused" in client.get("/goals").text
    assert post_form(client, f"{url}/status", {"status": "deleted"}).status_code == 400


def test_edit_and_delete(client):
    sign_up(client, "river")
    url = new_goal(client, "Old words")
    assert 'value="Old words"' in client.get(f"{url}/edit").text
    assert post_form(client, f"{url}/edit", {"title": "New words", "area": "work", "why": "", "target_date": ""}).status_code == 303
    assert "New words" in client.get(url).text
    add_step(client, url, "a step")
    assert "Delete this goal?" in client.get(f"{url}/delete").text
    assert post_form(client, f"{url}/delete").headers["location"] == "/goals"
    assert client.get(url).status_code == 404
    assert "New words" not in client.get("/goals").text


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": "", "area": "legal"}, "title", "Write your goal"),
        ({"title": "   ", "area": "legal"}, "title", "Write your goal"),
        ({"title": "x" * 201, "area": "legal"}, "title", "200 characters"),
        ({"title": "ok", "area": "space"}, "area", "Choose an area"),
        ({"title": "ok", "area": ""}, "area", "Choose an area"),
        ({"title": "ok", "area": "legal", "why": "w" * 10_000}, "why", "2,000 characters"),
        ({"title": "ok", "area": "legal", "target_date": "2027-02-31"}, "target_date", "real date"),
        ({"title": "ok", "area": "legal", "target_date": "1900-01-01"}, "target_date", "between"),
        ({"title": "ok", "area": "legal", "target_date": "3000-01-01"}, "target_date", "between"),
        ({"title": "ok", "area": "legal", "target_date": "tomorrow"}, "target_date", "real date"),
    ],
)
def test_bad_goal_input_gets_a_message_beside_the_field_and_keeps_what_was_typed(client, data, field, message):
    sign_up(client, "river")
    response = post_form(client, "/goals", {"why": "", "target_date": "", **data})
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.text and message in response.text
    if data["title"].strip():
        assert data["title"][:50] in response.text
    assert 'class="card"' not in client.get("/goals").text  # nothing half-written


def test_html_and_script_are_kept_as_text(client):
    sign_up(client, "river")
    url = new_goal(client, "<script>alert(1)</script> & <b>bold</b>", why="\u202eRTL\u202c and emoji \U0001f600")
    html = client.get(url).text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\U0001f600" in html


def test_another_survivor_and_staff_get_404_for_every_goal_url(client, other_client, settings):
    sign_up(client, "river")
    url = new_goal(client)
    add_step(client, url, "a step")
    step = step_ids(client.get(url).text)[0]
    sign_up(other_client, "someone-else")
    gets = [url, f"{url}/edit", f"{url}/delete"]
    posts = [f"{url}/edit", f"{url}/status", f"{url}/delete", f"{url}/steps", f"{url}/steps/{step}/toggle",
             f"{url}/steps/{step}/move", f"{url}/steps/{step}/delete"]
    for path in gets:
        assert other_client.get(path).status_code == 404, path
    for path in posts:
        assert post_form(other_client, path, {"title": "x", "area": "work", "status": "paused", "step": "x"}).status_code == 404, path
    assert "Get my ID card back" not in other_client.get("/goals").text
    # Nothing changed for the owner.
    page = client.get(url).text
    assert "Get my ID card back" in page and "0 of 1 step" in page and "Active" in page
    other_client.cookies.clear()
    make_user(settings, "casey", Role.CASEWORKER)
    sign_in(other_client, "casey")
    assert other_client.get(url).status_code == 404
    assert other_client.get("/goals").status_code == 404


def test_a_step_of_another_goal_is_not_found(client):
    sign_up(client, "river")
    first = new_goal(client, "one")
    second = new_goal(client, "two")
    add_step(client, first, "first's step")
    step = step_ids(client.get(first).text)[0]
    assert post_form(client, f"{second}/steps/{step}/toggle").status_code == 404
    assert client.get("/goals/" + "x" * 200).status_code == 404


def test_goal_lists_are_paginated(client):
    sign_up(client, "river")
    for n in range(23):
        new_goal(client, f"goal number {n}")
    first = client.get("/goals").text
    assert first.count('class="card"') == 20 and "?page=2" in first
    second = client.get("/goals?page=2").text
    assert second.count('class="card"') == 3 and "goal number 0" in second
    assert client.get("/goals?page=abc").status_code == 200


@pytest.mark.parametrize("number", ["²", "¹²", "9" * 5000], ids=["superscript", "superscripts", "5000-digits"])
def test_a_page_number_that_is_not_plain_digits_is_page_one(client, number):
    # "²" is a digit to str.isdigit() but not to int(); 5,000 digits are more than int() reads: both were a 500.
    sign_up(client, "river")
    new_goal(client, "Find a flat")
    response = client.get("/goals", params={"page": number})
    assert response.status_code == 200 and "Find a flat" in response.text


@pytest.mark.parametrize("part", [b"\xff\xfe not UTF-8", "Find a flat".encode("utf-16")], ids=["broken", "utf-16"])
@pytest.mark.parametrize("charset", ["", "utf-8", "x-unknown"], ids=["no-charset", "utf-8", "unknown-charset"])
@pytest.mark.parametrize("token_in", ["header", "form"])
def test_a_multipart_goal_form_whose_text_cannot_be_read_is_refused_not_a_500(client, part, charset, token_in):
    # Litestar decodes each text part of a multipart form without catching a decoding error (and so the CSRF
    # check, which reads the form when the token is in it): that was a 500.
    sign_up(client, "river")
    token = csrf_token(client, "/goals/new")
    head = 'Content-Disposition: form-data; name="title"\r\n' + (f"Content-Type: text/plain; charset={charset}\r\n" if charset else "")
    body = f"--b0undary\r\n{head}\r\n".encode() + part + b"\r\n--b0undary--\r\n"
    if token_in == "form":
        body = f'--b0undary\r\nContent-Disposition: form-data; name="_csrf_token"\r\n\r\n{token}\r\n'.encode() + body
    headers = {"content-type": "multipart/form-data; boundary=b0undary", **({"x-csrftoken": token} if token_in == "header" else {})}
    response = client.post("/goals", content=body, headers=headers, follow_redirects=False)
    assert response.status_code == 400 and "Go back and check what you sent." in response.text
    assert "Start with one small goal" in client.get("/home").text  # nothing was saved


def test_a_goal_has_at_most_fifty_steps(client):
    sign_up(client, "river")
    url = new_goal(client)
    for n in range(50):
        add_step(client, url, f"step {n}")
    response = add_step(client, url, "one too many")
    assert response.status_code == 400 and "up to 50 steps" in response.text


def test_home_shows_active_goals_with_progress(client):
    sign_up(client, "river")
    assert "Start with one small goal" in client.get("/home").text
    url = new_goal(client, "Find a flat", "housing")
    add_step(client, url, "Call the council")
    home = client.get("/home").text
    assert "Find a flat" in home and "0 of 1 step" in home and "Only you can see this." in home


def test_control_characters_are_dropped_not_a_500_on_any_database(client):
    sign_up(client, "river")
    url = new_goal(client, "Get\x00 my\x07 papers", why="line one\nline two\ttabbed\x1b")
    html = client.get(url).text
    assert "Get my papers" in html and "line one\nline two\ttabbed" in html
    assert add_step(client, url, "call\x00 them").status_code == 303
    assert "call them" in client.get(url).text


@pytest.mark.parametrize("after", [b"Find a flat", b"\xff\xfe not UTF-8"], ids=["text", "broken-text"])
def test_a_file_sent_to_a_text_form_is_dropped_and_no_temporary_file_is_left_open(client, after):
    # Litestar kept a file part of any form in a temporary file (on disk past 1 MB) and left closing it to the
    # garbage collector: a ResourceWarning in whichever test happened to collect it.
    sign_up(client, "river")
    token = csrf_token(client, "/goals/new")
    body = (
        f'--b0undary\r\nContent-Disposition: form-data; name="_csrf_token"\r\n\r\n{token}\r\n'
        '--b0undary\r\nContent-Disposition: form-data; name="title"; filename="passport.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + b"%PDF-1.7 " + b"x" * 20_000 + (
        b'\r\n--b0undary\r\nContent-Disposition: form-data; name="area"\r\n\r\nlegal'
        b'\r\n--b0undary\r\nContent-Disposition: form-data; name="title"\r\n\r\n' + after + b"\r\n--b0undary--\r\n"
    )
    response = client.post("/goals", content=body, follow_redirects=False,
                           headers={"content-type": "multipart/form-data; boundary=b0undary"})
    gc.collect()
    if after == b"Find a flat":
        assert response.status_code == 303
        home = client.get("/home").text
        assert "Find a flat" in home and "passport" not in home and "PDF" not in home
    else:
        assert response.status_code == 400 and "Go back and check what you sent." in response.text
