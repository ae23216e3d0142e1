"""The account's own life over HTTP: recovery codes shown once at sign-up, each working once at Forgot
password (and not at all after new ones are made), the same answer for a wrong username and a wrong code,
throttled; changing the password; the list of signed-in browsers with sign out for each and everywhere.
No admin can reset a survivor's password."""

from __future__ import annotations

import re

import pytest

from portal.models import Role
from tests.conftest import PASSWORD, make_user, post_form, sign_in, sign_up, sql

NEW = "willow-harbour-lamp"
CODE = re.compile(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>")


def codes_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return CODE.findall(response.text)


def forgot(client, username: str, code: str, password: str = NEW):  # type: ignore[no-untyped-def]
    return post_form(client, "/forgot-password", {"username": username, "code": code, "password": password}, token_from="/sign-in")


def test_sign_up_shows_10_codes_once_and_leads_on_to_the_safety_introduction(client, settings):
    response = sign_up(client, "river")
    codes = codes_of(response)
    assert len(set(codes)) == 10
    assert 'href="/welcome"' in response.text
    assert sql(settings, "SELECT count(*) FROM recovery_code")[0][0] == 10
    stored = " ".join(row[0] for row in sql(settings, "SELECT digest FROM recovery_code"))
    assert not any(code.replace("-", "") in stored for code in codes)  # only keyed hashes
    assert not CODE.search(client.get("/welcome").text) and not CODE.search(client.get("/settings/security").text)
    assert "You have 10 recovery codes left." in client.get("/settings/security").text


def test_a_recovery_code_sets_a_new_password_once_and_signs_out_everyone_else(client, other_client, settings):
    codes = codes_of(sign_up(client, "river"))
    sign_in(other_client, "river")
    client.cookies.clear()
    response = forgot(client, "river", codes[3].lower().replace("-", " "))  # typed loosely: still the code
    assert response.status_code == 200 and "Your new password is set" in response.text and 'href="/home"' in response.text
    assert "Hello, river" in client.get("/home").text
    assert other_client.get("/home", follow_redirects=False).status_code == 303  # signed out there
    client.cookies.clear()
    assert post_form(client, "/sign-in", {"username": "river", "password": PASSWORD}).status_code == 400
    sign_in(client, "river", NEW)
    client.cookies.clear()
    again = forgot(client, "river", codes[3], "another-long-phrase")
    assert again.status_code == 400 and "That username and recovery code do not match." in again.text
    # The reset gave new codes (tests/test_ways_in.py): the next one works once, like the first.
    fresh = codes_of(response)
    assert forgot(client, "river", codes[4], "another-long-phrase").status_code == 400
    assert forgot(client, "river", fresh[4], "another-long-phrase").status_code == 200
    assert forgot(client, "river", fresh[4], "a-third-long-phrase").status_code == 400


def test_new_codes_void_the_old_ones(client):
    old = codes_of(sign_up(client, "river"))
    wrong = post_form(client, "/settings/recovery-codes", {"password": "not-my-password"})
    assert wrong.status_code == 400 and "Your old codes still work." in wrong.text
    fresh = codes_of(post_form(client, "/settings/recovery-codes", {"password": PASSWORD}))
    assert len(fresh) == 10 and not set(fresh) & set(old)
    client.cookies.clear()
    assert forgot(client, "river", old[0]).status_code == 400
    assert forgot(client, "river", fresh[0]).status_code == 200


def test_a_wrong_username_and_a_wrong_code_get_the_same_answer_and_are_throttled(client, other_client):
    codes = codes_of(sign_up(client, "river"))
    client.cookies.clear()
    unknown = forgot(client, "nobody-here", codes[0])
    wrong = forgot(client, "river", "AAAAA-AAAAA")
    assert unknown.status_code == wrong.status_code == 400
    message = "That username and recovery code do not match. Check both and try again."
    assert message in unknown.text and message in wrong.text
    for _ in range(5):  # 5 wrong tries an hour are free; then each wait doubles
        forgot(client, "river", "BBBBB-BBBBB")
    limited = forgot(client, "river", codes[0])  # even the right code waits now
    assert limited.status_code == 429 and "Too many tries." in limited.text


@pytest.mark.parametrize("code", ["", "-----", "x" * 10_000, "ÄÖÜ-😀", "<script>", "\x00" * 5])
def test_malformed_codes_are_refused_clearly(client, code):
    sign_up(client, "river")
    client.cookies.clear()
    response = forgot(client, "river", code)
    assert response.status_code == 400
    assert "<script>" not in response.text.split('id="code"')[1][:200]


def test_forgot_password_keeps_what_was_typed_and_checks_the_new_password(client):
    codes = codes_of(sign_up(client, "river"))
    client.cookies.clear()
    response = forgot(client, "river", codes[0], "short")
    assert response.status_code == 400
    assert f'value="{codes[0]}"' in response.text and 'value="river"' in response.text
    assert forgot(client, "river", codes[0]).status_code == 200  # the code was not spent by the refusal


def test_changing_the_password_keeps_this_browser_and_signs_out_the_others(client, other_client):
    sign_up(client, "river")
    sign_in(other_client, "river")
    wrong = post_form(client, "/settings/password", {"current_password": "nope-nope-nope", "new_password": NEW})
    assert wrong.status_code == 400 and "That is not your current password." in wrong.text
    weak = post_form(client, "/settings/password", {"current_password": PASSWORD, "new_password": "password"})
    assert weak.status_code == 400
    done = post_form(client, "/settings/password", {"current_password": PASSWORD, "new_password": NEW})
    assert done.status_code == 200 and "Your new password is set" in done.text
    assert other_client.get("/home", follow_redirects=False).status_code == 303
    client.cookies.clear()
    sign_in(client, "river", NEW)


def test_the_list_of_browsers_signs_out_one_or_everywhere(client, other_client, third_client):
    sign_up(client, "river")
    sign_in(other_client, "river")
    sign_in(third_client, "river")
    page = client.get("/settings/security").text
    refs = re.findall(r"/settings/sessions/([0-9a-f]{16})/end", page)
    assert len(refs) == 3 and page.count("(this one)") == 1
    mine = re.search(r"\(this one\).*?/settings/sessions/([0-9a-f]{16})/end", page, re.S).group(1)  # type: ignore[union-attr]
    other = next(ref for ref in refs if ref != mine)
    assert post_form(client, f"/settings/sessions/{other}/end").headers["location"] == "/settings/security?done=session-ended#signed-in"
    signed_in = [c.get("/home", follow_redirects=False).status_code for c in (other_client, third_client)]
    assert sorted(signed_in) == [200, 303]  # exactly one of them was signed out
    assert post_form(client, "/settings/sessions/end-all").headers["location"] == "/"
    for browser in (client, other_client, third_client):
        assert browser.get("/home", follow_redirects=False).status_code == 303


def test_no_admin_can_reset_a_survivors_password(client, other_client, settings):
    sign_up(client, "river")
    river = sql(settings, "SELECT id FROM app_user WHERE username = 'river'")[0][0]
    make_user(settings, "org-admin", Role.ADMIN)
    sign_in(other_client, "org-admin")
    assert post_form(other_client, f"/admin/staff/{river}/link").status_code == 404
    assert post_form(other_client, f"/admin/staff/{river}/deactivate").status_code == 404
    assert sql(settings, "SELECT count(*) FROM password_setup")[0][0] == 0
