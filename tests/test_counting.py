"""Consent to anonymous totals over HTTP: off by default, asked once on Home until answered, changed either way
in Settings → Your data, for survivors only, and a bad answer changes nothing."""

from __future__ import annotations

from portal.models import Role
from tests.conftest import make_user, post_form, sign_in, sign_up, sql

QUESTION = "Count me in anonymous totals?"


def consent(settings, name: str) -> tuple[bool, bool]:  # type: ignore[no-untyped-def]
    row = sql(settings, "SELECT count_me_in, count_asked FROM app_user WHERE username = :u", u=name)[0]
    return bool(row[0]), bool(row[1])


def test_off_by_default_and_asked_on_home_until_answered(client, settings):  # type: ignore[no-untyped-def]
    sign_up(client, "river")
    assert consent(settings, "river") == (False, False)
    assert QUESTION in client.get("/home").text
    response = post_form(client, "/settings/counting", {"count": "yes", "from": "home"})
    assert response.status_code == 303 and response.headers["location"] == "/home"
    assert consent(settings, "river") == (True, True)
    assert QUESTION not in client.get("/home").text


def test_no_thank_you_also_ends_the_question(client, settings):  # type: ignore[no-untyped-def]
    sign_up(client, "river")
    assert post_form(client, "/settings/counting", {"count": "no"}).headers["location"] == "/home"
    assert consent(settings, "river") == (False, True)
    assert QUESTION not in client.get("/home").text


def test_settings_turns_it_on_and_off(client, settings):  # type: ignore[no-untyped-def]
    sign_up(client, "river")
    page = client.get("/settings/data").text
    assert "Count me in anonymous totals" in page and 'id="count" name="count" type="checkbox" value="yes">' in page
    response = post_form(client, "/settings/counting", {"count": "yes", "from": "settings"})
    assert response.status_code == 303 and response.headers["location"].startswith("/settings/data")
    assert consent(settings, "river") == (True, True)
    assert 'value="yes" checked>' in client.get("/settings/data").text
    post_form(client, "/settings/counting", {"from": "settings"})  # the checkbox left empty
    assert consent(settings, "river") == (False, True)
    assert 'value="yes" checked>' not in client.get("/settings/data").text


def test_a_bad_answer_is_refused_and_changes_nothing(client, settings):  # type: ignore[no-untyped-def]
    sign_up(client, "river")
    for data in ({"count": "maybe"}, {}, {"count": "yes", "from": "elsewhere"}):
        assert post_form(client, "/settings/counting", data).status_code == 400
    assert consent(settings, "river") == (False, False)
    assert QUESTION in client.get("/home").text


def test_staff_and_admins_have_no_such_route(client, settings):  # type: ignore[no-untyped-def]
    make_user(settings, "cw-ana", Role.CASEWORKER)
    make_user(settings, "boss", Role.ADMIN)
    for name in ("cw-ana", "boss"):
        sign_in(client, name)
        assert post_form(client, "/settings/counting", {"count": "yes"}).status_code == 404
        assert consent(settings, name) == (False, False)
        post_form(client, "/sign-out")
