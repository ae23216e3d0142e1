"""Passkeys in Chromium, with DevTools' virtual authenticator standing in for the phone's screen lock: one is
added in Settings (after "Confirm it's you": without the password nothing is added) and then signs the
person in with no username or password; once removed it signs no one in; after a recovery-code reset or a
new password it signs no one in either, and the person is told which passkeys and devices were removed;
without user verification it is refused (by Chromium, and by the server when the browser is told
verification is not needed); the pages pass axe. Nothing leaves localhost."""

from __future__ import annotations

import base64
import json
import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from webauthn.helpers import base64url_to_bytes as unb64url

from tests.browser.helpers import axe_violations, open_menu, sign_up
from tests.conftest import PASSWORD, sql

WAIT = 15_000  # ms: the longest any one step may take (Playwright's own default is 30 s)
LOOPBACK = {"localhost", "127.0.0.1"}
ADDED = "Passkey added. Next time, choose Sign in with a passkey."
REMOVED = "Removed. That passkey no longer signs you in."
FAILED = "That passkey did not work here. Try again, or sign in with your username and password."
AUTHENTICATOR = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
                 "isUserVerified": True, "automaticPresenceSimulation": True}


def _authenticator(page, context) -> tuple[object, str]:  # type: ignore[no-untyped-def]
    """A platform authenticator (like a phone's screen lock) in this tab; the DevTools session and its id."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, added["authenticatorId"]


def _credentials(cdp, authenticator: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]  # type: ignore[no-any-return]


def _passkey_list(page):  # type: ignore[no-untyped-def]
    """The items of the list of passkeys under the "Passkeys" heading of Settings' Sign-in and security."""
    section = "xpath=//h2[normalize-space()='Passkeys']/following-sibling::ul[preceding-sibling::h2[1][normalize-space()='Passkeys']]"
    return page.locator(section).get_by_role("listitem")


def confirm_it_is_me(page, server: str, kind: str = "passkey", password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """On "Confirm it's you": type the password; back in Settings (Sign-in and security for a passkey, Reminders
    for a device), this browser may add a way in for 5 minutes."""
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    page.get_by_label("Your password").fill(password)
    page.get_by_role("button", name="Confirm it's me").click()
    done = "security?done=confirmed#passkeys" if kind == "passkey" else "reminders?done=confirmed-device"
    page.wait_for_url(f"{server}/settings/{done}")


def _add_passkey(page, server: str, name: str = "My phone") -> None:  # type: ignore[no-untyped-def]
    """Add a passkey in Settings, confirming it's you first when the page asks for it."""
    page.goto(f"{server}/settings/security")
    add = page.get_by_role("button", name="Add a passkey")
    expect(add).to_be_visible()  # shown by the page's script
    expect(_passkey_list(page)).to_have_count(0)
    page.get_by_label("Name for the new passkey").fill(name)
    add.click()
    page.wait_for_url(re.compile(rf"^{re.escape(server)}/settings(/confirm\?next=passkey|/security\?done=passkey-added#passkeys)$"))
    if "/settings/confirm" in page.url:
        confirm_it_is_me(page, server)
        page.get_by_label("Name for the new passkey").fill(name)
        add.click()
    page.wait_for_url(f"{server}/settings/security?done=passkey-added#passkeys")
    expect(page.get_by_text(ADDED)).to_be_visible()
    passkeys = _passkey_list(page)
    expect(passkeys).to_have_count(1)
    expect(passkeys.get_by_label("Name", exact=True)).to_have_value(name)
    expect(passkeys.get_by_role("button", name="Rename")).to_be_visible()
    expect(passkeys.get_by_role("button", name=re.compile("^Remove"))).to_be_visible()


def _sign_out(page, server: str) -> None:  # type: ignore[no-untyped-def]
    open_menu(page)
    page.get_by_role("banner").get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(f"{server}/")


def _passkey_button(page, server: str):  # type: ignore[no-untyped-def]
    page.goto(f"{server}/sign-in")
    button = page.get_by_role("button", name="Sign in with a passkey")
    expect(button).to_be_visible()  # shown by the page's script
    return button


def _not_signed_in(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/home")
    page.wait_for_url(re.compile(rf"^{re.escape(server)}/sign-in"))
    expect(page.get_by_role("heading", name="Hello, river")).to_have_count(0)


def test_a_passkey_is_added_then_signs_in_without_a_username(page, context, server, hosts_seen):
    page.set_default_timeout(WAIT)
    sign_up(page, server, "river")
    cdp, authenticator = _authenticator(page, context)
    assert _credentials(cdp, authenticator) == []
    _add_passkey(page, server, "My phone")

    credentials = _credentials(cdp, authenticator)
    assert len(credentials) == 1, credentials
    assert credentials[0]["isResidentCredential"] is True, credentials
    assert credentials[0]["rpId"] == "localhost", credentials
    handle = base64.b64decode(credentials[0]["userHandle"])
    assert handle and b"river" not in handle, handle  # the passkey's user id says nothing about the person

    _sign_out(page, server)
    posted: list[str] = []
    page.on("request", lambda request: posted.append(request.url) if request.method == "POST" else None)
    button = _passkey_button(page, server)
    expect(page.get_by_label("Username")).to_have_value("")  # never filled
    expect(page.get_by_label("Password")).to_have_value("")
    button.click()
    page.wait_for_url(f"{server}/home")
    expect(page.get_by_role("heading", name="Hello, river")).to_be_visible()
    # Only the passkey routes were asked: no username or password form was sent.
    assert posted == [f"{server}/passkeys/sign-in/options", f"{server}/passkeys/sign-in"], posted
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)


def test_a_passkey_that_was_removed_no_longer_signs_in(page, context, server, hosts_seen):
    page.set_default_timeout(WAIT)
    sign_up(page, server, "river")
    cdp, authenticator = _authenticator(page, context)
    _add_passkey(page, server)
    _passkey_list(page).get_by_role("button", name=re.compile("^Remove")).click()
    page.wait_for_url(f"{server}/settings/security?done=passkey-removed#passkeys")
    expect(page.get_by_text(REMOVED)).to_be_visible()
    expect(_passkey_list(page)).to_have_count(0)
    assert len(_credentials(cdp, authenticator)) == 1  # the phone still holds it; the portal no longer takes it

    _sign_out(page, server)
    _passkey_button(page, server).click()
    expect(page.get_by_role("status").filter(has_text=FAILED)).to_have_text(FAILED)
    assert page.url == f"{server}/sign-in", page.url
    _not_signed_in(page, server)
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)


def test_without_user_verification_the_passkey_is_refused(page, context, server, hosts_seen):
    page.set_default_timeout(WAIT)
    sign_up(page, server, "river")
    cdp, authenticator = _authenticator(page, context)
    _add_passkey(page, server)
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False})
    _sign_out(page, server)
    answers: list[tuple[str, int, str]] = []
    page.on("response", lambda response: answers.append((response.url, response.status, response.request.post_data or ""))
            if response.request.method == "POST" else None)
    note = page.get_by_role("status").filter(has_text=FAILED)

    # The server asks for verification: Chromium may refuse by itself, or send an answer the server refuses.
    _passkey_button(page, server).click()
    try:
        note.wait_for(timeout=5_000)
        noted = True
    except PlaywrightTimeout:
        noted = False  # Chromium refused by itself: then no answer may have reached the server
    assert page.url == f"{server}/sign-in", page.url
    sent = [status for url, status, _ in answers if url == f"{server}/passkeys/sign-in"]
    assert sent == ([400] if noted and sent else []), answers
    _not_signed_in(page, server)

    # A browser that is told verification is not needed (as a tampering one could be) sends an answer
    # without it: the server itself must refuse that.
    def discouraged(route) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        options = response.json()
        assert options["userVerification"] == "required", options
        route.fulfill(response=response, body=json.dumps({**options, "userVerification": "discouraged"}))

    page.route(f"{server}/passkeys/sign-in/options", discouraged)
    answers.clear()
    _passkey_button(page, server).click()
    expect(note).to_have_text(FAILED)
    sent = [(status, json.loads(body)) for url, status, body in answers if url == f"{server}/passkeys/sign-in"]
    assert [status for status, _ in sent] == [400], answers
    flags = unb64url(sent[0][1]["response"]["authenticatorData"])[32]
    assert flags & 0x01 and not flags & 0x04, flags  # the person was present, but not verified
    assert page.url == f"{server}/sign-in", page.url
    _not_signed_in(page, server)

    # Verified again, the same passkey signs in: the refusals above were about verification alone.
    page.unroute(f"{server}/passkeys/sign-in/options")
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": True})
    _passkey_button(page, server).click()
    page.wait_for_url(f"{server}/home")
    expect(page.get_by_role("heading", name="Hello, river")).to_be_visible()
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)


def test_passkey_pages_pass_axe(axe_page, server, hosts_seen):
    page = axe_page
    page.set_default_timeout(WAIT)
    sign_up(page, server, "river")
    _authenticator(page, page.context)
    page.goto(f"{server}/settings/security")
    expect(page.get_by_role("button", name="Add a passkey")).to_be_visible()
    assert axe_violations(page) == []
    _add_passkey(page, server)  # now with the list of passkeys and the note that one was added
    assert axe_violations(page) == []
    _sign_out(page, server)
    _passkey_button(page, server)
    assert axe_violations(page) == []
    assert hosts_seen and set(hosts_seen) == {"localhost"}, set(hosts_seen)


# ----- someone holding the phone keeps no way in (issue 14, point 3) -----------------------------------

CONFIRM_URL = "/settings/confirm?next=passkey"
NOT_RIGHT = "That password is not right. Nothing was added."
NEW = "willow-harbour-lamp"


def test_adding_a_passkey_without_the_password_adds_nothing(page, context, server, settings, hosts_seen):
    page.set_default_timeout(WAIT)
    sign_up(page, server, "river")
    cdp, authenticator = _authenticator(page, context)
    page.goto(f"{server}/settings/security")
    page.get_by_label("Name for the new passkey").fill("Their phone")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url(re.compile(rf"^{re.escape(server)}/settings(/confirm\?next=passkey|/security\?done=passkey-added#passkeys)$"))
    # Nothing was added: the phone was never asked to make a passkey, and the portal lists none.
    assert _credentials(cdp, authenticator) == []
    assert sql(settings, "SELECT count(*) FROM passkey") == [(0,)]
    # Instead the page's script went to "Confirm it's you", which says why.
    assert page.url == f"{server}{CONFIRM_URL}", page.url
    expect(page.get_by_text("So that only you can add a new way in, type your password again.")).to_be_visible()
    page.get_by_role("link", name="Back to Settings").click()
    expect(page.get_by_text("We ask for your password first. So that only you can add a new way in.").first).to_be_visible()
    expect(_passkey_list(page)).to_have_count(0)
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url(f"{server}{CONFIRM_URL}")

    # A wrong password confirms nothing: Config still adds nothing.
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_role("button", name="Confirm it's me").click()
    expect(page.get_by_text(NOT_RIGHT).first).to_be_visible()
    page.goto(f"{server}/settings/security")
    expect(_passkey_list(page)).to_have_count(0)
    page.get_by_label("Name for the new passkey").fill("Their phone")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url(f"{server}{CONFIRM_URL}")
    assert _credentials(cdp, authenticator) == []

    # A script that skips the page is refused by the server too.
    refused = page.evaluate("""() => fetch('/settings/passkeys/options', {method: 'POST', credentials: 'same-origin',
        headers: {'X-CSRFToken': document.querySelector('[name=_csrf_token]').value}}).then(r => r.status)""")
    assert refused == 403, refused

    # With the password, the passkey is added: the refusals were about the password alone.
    confirm_it_is_me(page, server)
    expect(page.get_by_text("Thank you. For 5 minutes you can add a passkey.")).to_be_visible()
    page.get_by_label("Name for the new passkey").fill("My phone")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url(f"{server}/settings/security?done=passkey-added#passkeys")
    expect(_passkey_list(page)).to_have_count(1)
    assert len(_credentials(cdp, authenticator)) == 1
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)


def _sign_up_keeping_codes(page, server: str) -> list[str]:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/sign-up")
    page.get_by_label("Username").fill("river")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Save your recovery codes").wait_for()
    codes = page.locator("code").all_inner_texts()
    page.get_by_role("link", name="I have saved them").click()
    page.wait_for_url(f"{server}/welcome")
    return codes


def _turn_on_reminders(page, context, server: str) -> None:  # type: ignore[no-untyped-def]
    """Reminders on for this browser (the Push API stubbed, as in test_push), within the 5 minutes."""
    from tests.browser.test_push import _stub_subscribe

    context.grant_permissions(["notifications"], origin=server)
    _stub_subscribe(context, refuse=False)
    page.goto(f"{server}/settings/reminders")
    page.get_by_role("button", name="Turn on reminders on this phone").click()
    page.wait_for_url(f"{server}/settings/reminders?done=device-added")


def _removed(page, what: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#removed-{what}").get_by_role("listitem")


def test_after_a_recovery_code_reset_the_old_passkey_no_longer_signs_in(browser, page, context, server, hosts_seen):
    page.set_default_timeout(WAIT)
    codes = _sign_up_keeping_codes(page, server)
    cdp, authenticator = _authenticator(page, context)
    _add_passkey(page, server, "Kitchen phone")
    _turn_on_reminders(page, context, server)
    other = browser.new_context()  # the same account, signed in on another browser
    other_page = other.new_page()
    try:
        other_page.goto(f"{server}/sign-in")
        other_page.get_by_label("Username").fill("river")
        other_page.get_by_label("Password").fill(PASSWORD)
        other_page.get_by_role("button", name="Sign in", exact=True).click()
        other_page.wait_for_url(f"{server}/home")
        _sign_out(page, server)

        page.goto(f"{server}/forgot-password")
        # Said before the person confirms.
        for words in ("signs out every other phone or computer", "removes every passkey", "turns off reminders on every phone"):
            expect(page.locator("#reset-removes").get_by_text(words)).to_be_visible()
        page.get_by_label("Username").fill("river")
        page.get_by_label("Recovery code").fill(codes[0])
        page.get_by_label("New password").fill(NEW)
        page.get_by_role("button", name="Set new password").click()
        expect(page.get_by_role("heading", name="Your new password is set")).to_be_visible()
        # Told afterwards, by name.
        expect(_removed(page, "passkeys")).to_have_text(["Kitchen phone"])
        expect(_removed(page, "devices")).to_have_text(["Linux computer"])  # headless Chromium's coarse label

        other_page.goto(f"{server}/home")  # the other browser's next request is signed out
        other_page.wait_for_url(re.compile(rf"^{re.escape(server)}/sign-in"))
    finally:
        other.close()

    page.get_by_role("link", name="Go on").click()
    page.wait_for_url(f"{server}/home")
    _sign_out(page, server)
    _passkey_button(page, server).click()  # the phone still holds the old passkey; the portal no longer takes it
    expect(page.get_by_role("status").filter(has_text=FAILED)).to_have_text(FAILED)
    assert len(_credentials(cdp, authenticator)) == 1
    _not_signed_in(page, server)
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)


def test_a_new_password_in_settings_names_what_it_removes_before_and_after(page, context, server, hosts_seen):
    page.set_default_timeout(WAIT)
    sign_up(page, server, "river")
    _authenticator(page, context)
    _add_passkey(page, server, "Kitchen phone")
    _turn_on_reminders(page, context, server)
    page.goto(f"{server}/settings/security")
    before = page.locator("#password-removes")
    expect(before).to_contain_text("removes your passkeys: Kitchen phone")
    expect(before).to_contain_text("turns off reminders on: Linux computer")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(NEW)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Your new password is set")).to_be_visible()
    expect(_removed(page, "passkeys")).to_have_text(["Kitchen phone"])
    expect(_removed(page, "devices")).to_have_text(["Linux computer"])
    page.get_by_role("link", name="Go to Settings").click()
    page.wait_for_url(f"{server}/settings/security#passkeys")
    expect(_passkey_list(page)).to_have_count(0)
    page.goto(f"{server}/settings/reminders")
    expect(page.get_by_role("heading", name="Phones and browsers that get reminders")).to_have_count(0)
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)


def test_confirm_and_new_password_pages_pass_axe(axe_page, server, hosts_seen):
    page = axe_page
    page.set_default_timeout(WAIT)
    sign_up(page, server, "river")
    _authenticator(page, page.context)
    page.goto(f"{server}{CONFIRM_URL}")
    assert axe_violations(page) == []
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_role("button", name="Confirm it's me").click()
    expect(page.get_by_text(NOT_RIGHT).first).to_be_visible()
    assert axe_violations(page) == []
    _add_passkey(page, server, "Kitchen phone")  # confirming with the password first
    page.goto(f"{server}/settings/security")
    assert axe_violations(page) == []  # with what a new password would remove
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(NEW)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Your new password is set")).to_be_visible()
    assert axe_violations(page) == []
    _sign_out(page, server)
    page.goto(f"{server}/forgot-password")
    assert axe_violations(page) == []
    assert hosts_seen and set(hosts_seen) == {"localhost"}, set(hosts_seen)


def test_a_passkey_added_before_confirms_it_is_you(page, context, server, hosts_seen):
    page.set_default_timeout(WAIT)
    sign_up(page, server, "river")
    _authenticator(page, context)
    _add_passkey(page, server)
    _sign_out(page, server)
    _passkey_button(page, server).click()  # a new session: not confirmed yet
    page.wait_for_url(f"{server}/home")
    page.goto(f"{server}/settings/security")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url(f"{server}{CONFIRM_URL}")
    page.get_by_role("button", name="Confirm with a passkey").click()
    page.wait_for_url(f"{server}/settings/security?done=confirmed#passkeys")
    expect(page.get_by_text("Thank you. For 5 minutes you can add a passkey.")).to_be_visible()
    page.goto(f"{server}/settings/reminders")  # the same 5 minutes: turning on reminders does not ask again
    assert page.locator("#push-form").get_attribute("data-confirm") is None
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)
