"""Someone holding the phone cannot keep a way in after being "locked out" (issue 14, point 3).

Adding a passkey or a phone for reminders needs "Confirm it's you" (the password, or a passkey, again) on this
browser in the last 5 minutes; without it nothing is stored. A new password (in Settings, or with a recovery
code) ends every other session and removes every passkey and device: Config says so, by name, before the
person confirms, and the page after lists what was removed."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from redis.asyncio import Redis
from webauthn.helpers import bytes_to_base64url as b64url

from portal.db import make_engine, session_factory
from portal.models import Role
from portal.sessions import DatabaseSessionStore, RedisSessionStore
from tests.authenticator import Authenticator
from tests.conftest import BASE_URL, PASSWORD, REDIS_URL, make_user, post_form, run, sign_in, sign_up, sql
from tests.push_service import PushService
from tests.test_account import codes_of, forgot
from tests.test_passkeys import _post, add_passkey, confirm, passkey_sign_in

NEW = "willow-harbour-lamp"
CONFIRM_FIRST = "Confirm it's you first. So that only you can add a new way in."


@pytest.fixture
def phone() -> Authenticator:
    return Authenticator(origin=BASE_URL)


@pytest.fixture
def service(app, settings) -> Iterator[PushService]:  # type: ignore[no-untyped-def]
    started = PushService(app.state.services.vapid.public_key, settings.push_contact).start()
    yield started
    started.close()


def count(settings, table: str) -> int:  # type: ignore[no-untyped-def]
    return int(sql(settings, f"SELECT count(*) FROM {table}")[0][0])  # noqa: S608 - the tests' own table names


def age_confirmation(settings, by: timedelta) -> None:  # type: ignore[no-untyped-def]
    """Move every session's "confirmed at" back by `by`, through the store the app uses (database or Redis)."""

    async def change() -> None:
        engine = make_engine(settings.database_url)
        redis = Redis.from_url(REDIS_URL) if REDIS_URL else None
        store = RedisSessionStore(redis, "waypoint:") if redis else DatabaseSessionStore(session_factory(engine))
        river = int(sql(settings, "SELECT id FROM app_user WHERE username = 'river'")[0][0])
        for record in await store.list_for_user(river):
            if record.confirmed_at is not None:
                await store.delete(record.id)
                await store.save(replace(record, confirmed_at=record.confirmed_at - by))
        if redis:
            await redis.aclose()
        await engine.dispose()

    run(change())


def made_up_options() -> dict[str, object]:
    """Registration options the server never gave (a script sending straight to the add route)."""
    return {"challenge": b64url(os.urandom(32)), "rp": {"id": "testserver.local"}, "user": {"id": b64url(os.urandom(16))}}


# ----- adding a way in asks for the password again ------------------------------------------------------


def test_without_confirming_no_passkey_can_be_added_and_nothing_is_stored(client, settings, phone):
    sign_up(client, "river")
    options = _post(client, "/settings/passkeys/options")
    assert options.status_code == 403
    assert options.json() == {"error": CONFIRM_FIRST, "confirm": "/settings/confirm?next=passkey"}
    assert count(settings, "passkey_challenge") == 0  # not even a challenge was made
    added = _post(client, "/settings/passkeys", {"credential": phone.create(made_up_options()), "name": "Their phone"})
    assert added.status_code == 403 and added.json()["confirm"] == "/settings/confirm?next=passkey"
    assert count(settings, "passkey") == 0
    assert "We ask for your password first. So that only you can add a new way in." in client.get("/settings/security").text


def test_without_confirming_no_phone_gets_reminders_and_nothing_is_stored(client, settings, service):
    sign_up(client, "river")
    settings_page = client.get("/settings/reminders").text
    assert 'data-confirm="/settings/confirm?next=device"' in settings_page  # the page's script goes there first
    refused = post_form(client, "/settings/devices", service.subscription("their-phone"))
    assert refused.status_code == 303 and refused.headers["location"] == "/settings/confirm?next=device"
    assert count(settings, "push_subscription") == 0
    page = client.get(refused.headers["location"]).text
    assert "Confirm it&#39;s you" in page and "So that only you can add a new way in" in page
    assert "turn on reminders on this phone" in page


def test_a_wrong_password_confirms_nothing_and_is_limited(client, settings, phone):
    sign_up(client, "river")
    wrong = post_form(client, "/settings/confirm", {"password": "not-my-password", "next": "passkey"}, token_from="/settings")
    assert wrong.status_code == 400 and "That password is not right. Nothing was added." in wrong.text
    assert _post(client, "/settings/passkeys/options").status_code == 403
    for n in range(6):  # wrong guesses count like every password asked for again
        post_form(client, "/settings/confirm", {"password": f"guess-{n}-wrong", "next": "passkey"}, token_from="/settings")
    limited = post_form(client, "/settings/confirm", {"password": PASSWORD, "next": "passkey"}, token_from="/settings")
    assert limited.status_code == 400  # even the right password waits now
    assert _post(client, "/settings/passkeys/options").status_code == 403


def test_after_confirming_adding_works_for_5_minutes_then_not(client, settings, phone, service):
    sign_up(client, "river")
    assert confirm(client).headers["location"] == "/settings/security?done=confirmed#passkeys"
    assert "Thank you. For 5 minutes you can add a passkey." in client.get("/settings/security?done=confirmed").text
    assert "data-confirm" not in client.get("/settings/reminders").text
    options = _post(client, "/settings/passkeys/options")
    assert options.status_code == 200
    added = _post(client, "/settings/passkeys", {"credential": phone.create(options.json()), "name": "My phone"})
    assert added.status_code == 200 and count(settings, "passkey") == 1
    device = post_form(client, "/settings/devices", service.subscription("my-phone"))
    assert device.headers["location"] == "/settings/reminders?done=device-added"
    assert count(settings, "push_subscription") == 1

    age_confirmation(settings, timedelta(minutes=4, seconds=50))
    assert _post(client, "/settings/passkeys/options").status_code == 200  # still within 5 minutes
    late = _post(client, "/settings/passkeys/options").json()
    age_confirmation(settings, timedelta(seconds=15))  # now 5 minutes and 5 seconds ago
    assert _post(client, "/settings/passkeys/options").status_code == 403
    second = Authenticator(origin=BASE_URL)
    # Options fetched in time do not help once the 5 minutes are over.
    assert _post(client, "/settings/passkeys", {"credential": second.create(late), "name": "Late"}).status_code == 403
    assert post_form(client, "/settings/devices", service.subscription("late-phone")).headers["location"] == \
        "/settings/confirm?next=device"
    assert count(settings, "passkey") == 1 and count(settings, "push_subscription") == 1
    assert 'data-confirm="/settings/confirm?next=device"' in client.get("/settings/reminders").text


def test_confirming_counts_only_for_this_browser(client, other_client, settings):
    sign_up(client, "river")
    sign_in(other_client, "river")
    confirm(client)
    assert _post(client, "/settings/passkeys/options").status_code == 200
    assert _post(other_client, "/settings/passkeys/options").status_code == 403


def test_an_existing_passkey_confirms_too(client, settings, phone):
    sign_up(client, "river")
    add_passkey(client, phone)
    age_confirmation(settings, timedelta(minutes=6))
    assert _post(client, "/settings/passkeys/options").status_code == 403
    page = client.get("/settings/confirm?next=device").text
    assert 'data-passkey="confirm"' in page and "Confirm with a passkey" in page
    options = _post(client, "/settings/confirm/passkey/options").json()
    assert options["userVerification"] == "required"
    assert [item["id"] for item in options["allowCredentials"]] == [b64url(phone.credential_id)]
    # A passkey of someone else does not confirm it is river.
    stranger = Authenticator(origin=BASE_URL)
    stranger.user_handle = phone.user_handle
    refused = _post(client, "/settings/confirm/passkey", {"credential": stranger.get(options), "next": "device"})
    assert refused.status_code == 400 and _post(client, "/settings/passkeys/options").status_code == 403
    options = _post(client, "/settings/confirm/passkey/options").json()
    answer = _post(client, "/settings/confirm/passkey", {"credential": phone.get(options), "next": "device"})
    assert answer.status_code == 200 and answer.json() == {"redirect": "/settings/reminders?done=confirmed-device"}
    assert _post(client, "/settings/passkeys/options").status_code == 200


@pytest.mark.parametrize("body", [None, {}, {"credential": "x"}, {"credential": {"rawId": "A" * 5000}}, [1], "text",
                                  {"credential": {}, "next": ["device"]}, {"credential": {}, "next": {"a": 1}},
                                  {"credential": {"rawId": "x", "response": "not an object"}}])
def test_forged_passkey_confirmations_are_refused_without_a_500(client, body):
    sign_up(client, "river")
    assert _post(client, "/settings/confirm/passkey", body).status_code == 400
    assert _post(client, "/settings/passkeys/options").status_code == 403


# ----- a new password takes every other way in away ---------------------------------------------------


def _river_with_ways_in(client, other_client, settings, phone, service) -> None:  # type: ignore[no-untyped-def]
    """river with 2 passkeys ("My phone", "Kitchen <tablet>") and 2 phones for reminders, signed in on 2 browsers."""
    sign_up(client, "river")
    add_passkey(client, phone, "My phone")
    add_passkey(client, Authenticator(origin=BASE_URL), "Kitchen <tablet>")
    android = {"user-agent": "Mozilla/5.0 (Linux; Android 14) Mobile"}
    iphone = {"user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"}
    for name, headers in (("android", android), ("iphone", iphone)):
        assert post_form(client, "/settings/devices", service.subscription(name), headers=headers).headers["location"] == \
            "/settings/reminders?done=device-added"
    sign_in(other_client, "river")
    assert count(settings, "passkey") == 2 and count(settings, "push_subscription") == 2


def test_settings_says_by_name_what_a_new_password_removes_before_it_is_changed(client, other_client, settings, phone, service):
    _river_with_ways_in(client, other_client, settings, phone, service)
    page = client.get("/settings/security").text
    before = page.split('id="password-removes"')[1].split("</div>")[0]
    assert "signs out every other phone or computer" in before
    assert "removes your passkeys: My phone, Kitchen &lt;tablet&gt;" in before
    assert "turns off reminders on: Android phone, iPhone" in before
    assert page.index('id="password-removes"') < page.index('action="/settings/password"')


def test_a_new_password_removes_passkeys_and_devices_and_ends_other_sessions(client, other_client, settings, phone, service):
    _river_with_ways_in(client, other_client, settings, phone, service)
    assert other_client.get("/home", follow_redirects=False).status_code == 200
    done = post_form(client, "/settings/password", {"current_password": PASSWORD, "new_password": NEW})
    assert done.status_code == 200
    assert count(settings, "passkey") == 0 and count(settings, "push_subscription") == 0
    passkeys = done.text.split('id="removed-passkeys"')[1].split("</ul>")[0]
    devices = done.text.split('id="removed-devices"')[1].split("</ul>")[0]
    assert re.findall(r"<li>(.*?)</li>", passkeys) == ["My phone", "Kitchen &lt;tablet&gt;"]
    assert re.findall(r"<li>(.*?)</li>", devices) == ["Android phone", "iPhone"]
    assert "Every other phone or computer was signed out. This one is still signed in." in done.text
    # The other browser's next request finds itself signed out; this one stays signed in.
    assert other_client.get("/home", follow_redirects=False).status_code == 303
    assert client.get("/home", follow_redirects=False).status_code == 200
    assert "Hello, river" in client.get("/home").text
    # The old passkey signs nobody in any more.
    client.cookies.clear()
    assert passkey_sign_in(client, phone)[0].status_code == 400


def test_a_recovery_code_reset_removes_passkeys_and_devices_and_ends_other_sessions(client, other_client, settings, phone, service):
    codes = codes_of(sign_up(client, "river"))
    add_passkey(client, phone, "My phone")
    assert post_form(client, "/settings/devices", service.subscription("phone"),
                     headers={"user-agent": "Mozilla/5.0 (Linux; Android 14) Mobile"}).status_code == 303
    sign_in(other_client, "river")
    client.cookies.clear()
    before = client.get("/forgot-password").text.split('id="reset-removes"')[1].split("</div>")[0]
    assert "removes every passkey" in before and "turns off reminders on every phone" in before
    assert "signs out every other phone or computer" in before
    done = forgot(client, "river", codes[0])
    assert done.status_code == 200
    assert re.findall(r"<li>(.*?)</li>", done.text.split('id="removed-passkeys"')[1].split("</ul>")[0]) == ["My phone"]
    assert re.findall(r"<li>(.*?)</li>", done.text.split('id="removed-devices"')[1].split("</ul>")[0]) == ["Android phone"]
    assert count(settings, "passkey") == 0 and count(settings, "push_subscription") == 0
    assert other_client.get("/home", follow_redirects=False).status_code == 303
    assert client.get("/home", follow_redirects=False).status_code == 200
    client.cookies.clear()
    assert passkey_sign_in(client, phone)[0].status_code == 400


def test_with_nothing_to_remove_the_page_after_says_so(client, settings):
    make_user(settings, "casey", Role.CASEWORKER)
    sign_in(client, "casey")
    done = post_form(client, "/settings/password", {"current_password": PASSWORD, "new_password": NEW})
    assert done.status_code == 200 and 'id="removed-passkeys"' not in done.text
    assert "You had no passkeys and no phones with reminders, so nothing else was removed." in done.text
    assert 'href="/staff"' in done.text


def test_right_after_a_new_password_the_person_may_add_their_own_passkey_again(client, other_client, settings, phone, service):
    _river_with_ways_in(client, other_client, settings, phone, service)
    post_form(client, "/settings/password", {"current_password": PASSWORD, "new_password": NEW})
    assert _post(client, "/settings/passkeys/options").status_code == 200  # the password was just typed
    assert _post(other_client, "/settings/passkeys/options").status_code in (401, 403)  # signed out there


@pytest.mark.parametrize("how", ["settings", "recovery code"])
def test_a_new_password_replaces_the_recovery_codes_and_shows_the_new_ones_once(client, settings, how):
    """Someone who knew the old password could have made codes of their own: after a new password, only the
    codes shown on the page after it work."""
    old = codes_of(sign_up(client, "river"))
    assert len(old) == 10
    if how == "settings":
        done = post_form(client, "/settings/password", {"current_password": PASSWORD, "new_password": NEW})
    else:
        client.cookies.clear()
        done = forgot(client, "river", old[0])
    assert done.status_code == 200 and "Your old codes no longer work" in done.text
    new = codes_of(done)
    assert len(new) == 10 and not set(new) & set(old)
    client.cookies.clear()
    assert forgot(client, "river", old[1], "another-pass-phrase").status_code == 400  # an old code is void
    assert forgot(client, "river", new[0], "another-pass-phrase").status_code == 200
