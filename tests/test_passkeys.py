"""Passkeys over HTTP with a software authenticator: add one, sign in with it and no username, rename and
remove; and what is refused: a replayed answer, an answer for another site, a passkey of another account,
one without user verification, a counter going backwards, a forged body."""

from __future__ import annotations

import json

import pytest

from tests.authenticator import Authenticator
from tests.conftest import BASE_URL, PASSWORD, csrf_token, post_form, sign_up, sql


def _post(client, path: str, body: object = None):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/sign-in" if path.startswith("/passkeys") else "/settings")
    return client.post(path, content=json.dumps(body) if body is not None else b"",
                       headers={"content-type": "application/json", "x-csrftoken": token}, follow_redirects=False)


def confirm(client, password: str = PASSWORD, kind: str = "passkey"):  # type: ignore[no-untyped-def]
    """ "Confirm it's you": the password again, which lets this browser add a way in for 5 minutes."""
    response = post_form(client, "/settings/confirm", {"password": password, "next": kind}, token_from="/settings")
    assert response.status_code == 303, response.text
    return response


def add_passkey(client, authenticator: Authenticator, name: str = "My phone"):  # type: ignore[no-untyped-def]
    """Confirm it's you, then add a passkey."""
    confirm(client)
    options = _post(client, "/settings/passkeys/options").json()
    return _post(client, "/settings/passkeys", {"credential": authenticator.create(options), "name": name})


def passkey_sign_in(client, authenticator: Authenticator, **kwargs):  # type: ignore[no-untyped-def]
    options = _post(client, "/passkeys/sign-in/options").json()
    return _post(client, "/passkeys/sign-in", authenticator.get(options, **kwargs)), options


@pytest.fixture
def phone() -> Authenticator:
    return Authenticator(origin=BASE_URL)


def test_a_passkey_is_added_and_signs_in_without_a_username(client, phone, settings):
    sign_up(client, "river")
    confirm(client)
    options = _post(client, "/settings/passkeys/options").json()
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["rp"]["id"] == "testserver.local"
    assert "river" not in options["user"]["id"]
    added = _post(client, "/settings/passkeys", {"credential": phone.create(options), "name": "My phone"})
    assert added.status_code == 200 and added.json() == {"redirect": "/settings/security?done=passkey-added#passkeys"}
    assert "My phone" in client.get("/settings/security").text
    client.cookies.clear()
    answer, options = passkey_sign_in(client, phone)
    assert options["userVerification"] == "required" and options.get("allowCredentials", []) == []
    assert answer.status_code == 200 and answer.json() == {"redirect": "/home"}
    assert "Hello, river" in client.get("/home").text
    assert sql(settings, "SELECT sign_count FROM passkey") == [(1,)]


def test_a_replayed_answer_is_refused(client, phone):
    sign_up(client, "river")
    add_passkey(client, phone)
    client.cookies.clear()
    options = _post(client, "/passkeys/sign-in/options").json()
    answer = phone.get(options)
    assert _post(client, "/passkeys/sign-in", answer).status_code == 200
    client.cookies.clear()
    again = _post(client, "/passkeys/sign-in", answer)
    assert again.status_code == 400 and "That passkey did not work here." in again.json()["error"]
    assert client.get("/home", follow_redirects=False).status_code == 303


def test_an_answer_made_for_another_site_is_refused(client, phone):
    sign_up(client, "river")
    add_passkey(client, phone)
    client.cookies.clear()
    answer, _ = passkey_sign_in(client, phone, origin="https://evil.example")
    assert answer.status_code == 400
    options = _post(client, "/settings/passkeys/options")
    assert options.status_code in (401, 403)  # signed out: no passkey can be added


def test_a_passkey_for_another_site_cannot_be_added(client, phone):
    sign_up(client, "river")
    confirm(client)
    options = _post(client, "/settings/passkeys/options").json()
    refused = _post(client, "/settings/passkeys", {"credential": phone.create(options, origin="https://evil.example")})
    assert refused.status_code == 400 and refused.json()["error"] == "The passkey was not added. Try again."


def test_without_user_verification_nothing_is_accepted(client, phone):
    sign_up(client, "river")
    confirm(client)
    phone.verified = False
    options = _post(client, "/settings/passkeys/options").json()
    assert _post(client, "/settings/passkeys", {"credential": phone.create(options)}).status_code == 400
    phone.verified = True
    add_passkey(client, phone)
    client.cookies.clear()
    phone.verified = False
    assert passkey_sign_in(client, phone)[0].status_code == 400


def test_a_counter_going_backwards_is_refused(client, phone):
    sign_up(client, "river")
    add_passkey(client, phone)
    client.cookies.clear()
    assert passkey_sign_in(client, phone, count=5)[0].status_code == 200
    client.cookies.clear()
    assert passkey_sign_in(client, phone, count=3)[0].status_code == 400  # a copy of the key, used elsewhere
    assert client.get("/home", follow_redirects=False).status_code == 303


def test_a_passkey_of_another_account_is_refused(client, other_client, phone):
    sign_up(client, "river")
    add_passkey(client, phone)
    sign_up(other_client, "sea")
    other_phone = Authenticator(origin=BASE_URL)
    add_passkey(other_client, other_phone)
    client.cookies.clear()
    # river's key, claiming to be sea's account
    options = _post(client, "/passkeys/sign-in/options").json()
    forged = phone.get(options, user_handle=other_phone.user_handle)
    assert _post(client, "/passkeys/sign-in", forged).status_code == 400


@pytest.mark.parametrize("body", [None, {}, {"rawId": "x"}, {"response": "nope"}, [1, 2], "text",
                                  {"rawId": "A" * 5000, "response": {"clientDataJSON": "!!!"}}])
def test_forged_bodies_are_refused_without_a_500(client, body):
    sign_up(client, "river")
    client.cookies.clear()
    _post(client, "/passkeys/sign-in/options")
    assert _post(client, "/passkeys/sign-in", body).status_code == 400
    sign_up(client, "sea")
    confirm(client)
    assert _post(client, "/settings/passkeys", body).status_code == 400
    assert _post(client, "/settings/passkeys", {"credential": body}).status_code == 400


def test_passkeys_are_renamed_and_removed_only_by_their_owner(client, other_client, phone, settings):
    sign_up(client, "river")
    add_passkey(client, phone)
    [(passkey_id,)] = sql(settings, "SELECT id FROM passkey")
    sign_up(other_client, "sea")
    assert post_form(other_client, f"/passkeys/{passkey_id}").status_code in (404, 405)
    assert post_form(other_client, f"/settings/passkeys/{passkey_id}/rename", {"name": "Mine now"}).status_code == 404
    assert post_form(other_client, f"/settings/passkeys/{passkey_id}/remove").status_code == 404
    assert post_form(client, f"/settings/passkeys/{passkey_id}/rename", {"name": "Old phone"}).status_code == 303
    assert "Old phone" in client.get("/settings/security").text
    assert post_form(client, f"/settings/passkeys/{passkey_id}/rename", {"name": "x" * 61}).headers["location"].endswith(
        "passkey-name#passkeys")
    assert post_form(client, f"/settings/passkeys/{passkey_id}/remove").status_code == 303
    client.cookies.clear()
    assert passkey_sign_in(client, phone)[0].status_code == 400


def test_staff_may_use_passkeys_too(client, settings, phone):
    from portal.models import Role
    from tests.conftest import make_user, sign_in

    make_user(settings, "casey", Role.CASEWORKER)
    sign_in(client, "casey")
    assert add_passkey(client, phone).status_code == 200
    client.cookies.clear()
    assert passkey_sign_in(client, phone)[0].json() == {"redirect": "/staff"}


def test_a_malformed_answer_to_a_real_challenge_is_refused_without_a_500(client, phone):
    sign_up(client, "river")
    confirm(client)
    options = _post(client, "/settings/passkeys/options").json()
    made = phone.create(options)
    del made["response"]["attestationObject"]
    assert _post(client, "/settings/passkeys", {"credential": made}).status_code == 400
    add_passkey(client, phone)
    client.cookies.clear()
    options = _post(client, "/passkeys/sign-in/options").json()
    answer = phone.get(options)
    answer["response"]["authenticatorData"] = "not-cbor-at-all"
    assert _post(client, "/passkeys/sign-in", answer).status_code == 400
    options = _post(client, "/passkeys/sign-in/options").json()
    answer = phone.get(options)
    del answer["response"]["signature"]
    assert _post(client, "/passkeys/sign-in", answer).status_code == 400
