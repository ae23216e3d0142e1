"""Reminders on the phone in Chromium: the service worker shows a pushed reminder with the words it was
given, or the neutral words when the payload is anything else, never with a body and always under one
tag; Settings turns reminders on for this browser (the Push API stubbed: headless Chromium cannot reach a
push service) once the person confirmed it's them (the password again; before that the phone is not even
asked), lists the device, removes it, and says so plainly when the browser refuses. Nothing ever leaves
localhost."""

from __future__ import annotations

import json
import os
import re
import time

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import expect
from webauthn.helpers import base64url_to_bytes as unb64url, bytes_to_base64url as b64url

from tests.browser.conftest import _loopback_only
from tests.browser.helpers import DAY, sign_up
from tests.browser.test_passkeys import confirm_it_is_me

NEUTRAL = "You have a new update"
LOOPBACK = {"localhost", "127.0.0.1"}
ENDPOINT = "http://127.0.0.1:9/push/abc"  # never contacted: the server only stores it here
NOTIFICATIONS = ("navigator.serviceWorker.ready.then(r => r.getNotifications())"
                 ".then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag, data: n.data})))")
WAIT = 15_000  # ms: the longest any one step may take (Playwright's own default is 30 s)
REFUSED = re.compile(r"^Reminders were not turned on\.")


def _until(check, what: str, seconds: float = 10.0):  # type: ignore[no-untyped-def]
    """Ask `check` again (every 0.1 s, at most `seconds`) until it answers something truthy."""
    deadline = time.monotonic() + seconds
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _registration_id(page, cdp, server: str) -> str:  # type: ignore[no-untyped-def]
    """The id DevTools knows the site's service worker registration by (scope: the site's root)."""
    found: dict[str, str] = {}

    def updated(event: dict) -> None:  # type: ignore[type-arg]
        for registration in event.get("registrations", []):
            if registration.get("scopeURL") == f"{server}/" and not registration.get("isDeleted"):
                found["id"] = registration["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    cdp.send("ServiceWorker.enable")

    def seen() -> str:
        page.wait_for_timeout(100)  # lets Playwright hand over the events that came meanwhile
        return found.get("id", "")

    return _until(seen, "the service worker's registration in DevTools")


def _notifications(page) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return page.evaluate(NOTIFICATIONS)


def _push(page, cdp, server: str, registration: str, data: str, title: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """Deliver one push as a push service would; wait until the note titled `title` is what is shown.

    A push service delivers again when a device does not take a message; so does this, at most three
    times. DevTools can drop a push while a busy machine is still waking the worker (seen once in a full
    run); the same tag means a second delivery replaces the note rather than adding one."""
    def shown() -> list[dict]:  # type: ignore[type-arg]
        notes = _notifications(page)
        return notes if notes and notes[-1]["title"] == title else []

    for _ in range(3):
        cdp.send("ServiceWorker.deliverPushMessage", {"origin": server, "registrationId": registration, "data": data})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if notes := shown():
                return notes
            time.sleep(0.1)
    raise AssertionError(f"no notification titled {title!r} after 3 deliveries of {data!r}; shown: {_notifications(page)!r}")


def test_a_push_shows_one_note_with_its_words_or_the_neutral_ones(page, context, server, hosts_seen):
    page.set_default_timeout(WAIT)
    sign_up(page, server)
    context.grant_permissions(["notifications"], origin=server)
    page.goto(f"{server}/settings/reminders")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{server}/", scope
    cdp = context.new_cdp_session(page)
    registration = _registration_id(page, cdp, server)

    shown = _push(page, cdp, server, registration, json.dumps({"text": NEUTRAL, "open": "/messages"}), NEUTRAL)
    assert shown == [{"title": NEUTRAL, "body": "", "tag": "update", "data": {"open": "/messages"}}], shown

    # The words the person chose are shown; the note replaces the one before (one tag: one note at most).
    shown = _push(page, cdp, server, registration, json.dumps({"text": "Time to water the plants"}), "Time to water the plants")
    assert [(n["title"], n["body"], n["tag"]) for n in shown] == [("Time to water the plants", "", "update")], shown

    # Anything but the expected JSON: the neutral words.
    shown = _push(page, cdp, server, registration, "not json", NEUTRAL)
    assert [(n["title"], n["body"], n["tag"]) for n in shown] == [(NEUTRAL, "", "update")], shown
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)


def _stub_subscribe(context, *, refuse: bool) -> list[str]:  # type: ignore[no-untyped-def]
    """Headless Chromium has no push service: PushManager.subscribe answers with a made-up subscription
    (a real P-256 key and auth secret, so the server's checks pass) or, with `refuse`, says no. Returns
    the application server keys it was asked with, one per call."""
    asked: list[str] = []
    context.expose_function("__waypointSubscribeAsked", lambda key: asked.append(key))
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    subscription = {"endpoint": ENDPOINT, "keys": {"p256dh": b64url(key), "auth": b64url(os.urandom(16))}}
    answer = ("Promise.reject(new DOMException('Registration failed - permission denied', 'NotAllowedError'))"
              if refuse else f"Promise.resolve({{toJSON: () => ({json.dumps(subscription)})}})")
    context.add_init_script(f"""
        if (window.PushManager) {{
          PushManager.prototype.subscribe = function (options) {{
            window.__waypointSubscribeAsked(String(options && options.userVisibleOnly && options.applicationServerKey));
            return {answer};
          }};
        }}
    """)
    return asked


def _devices_heading(page):  # type: ignore[no-untyped-def]
    return page.get_by_role("heading", name="Phones and browsers that get reminders")


def test_turning_reminders_on_lists_this_phone_and_remove_takes_it_off(page, context, server, hosts_seen):
    page.set_default_timeout(WAIT)
    sign_up(page, server)
    context.grant_permissions(["notifications"], origin=server)
    asked = _stub_subscribe(context, refuse=False)
    page.goto(f"{server}/settings/reminders")
    key = page.locator("#push-form").get_attribute("data-key")
    assert key and len(unb64url(key)) == 65, key  # the server's public key, P-256
    expect(_devices_heading(page)).to_have_count(0)
    turn_on = page.get_by_role("button", name="Turn on reminders on this phone")
    expect(turn_on).to_be_visible()  # shown by the page's script
    expect(page.locator("#push-note")).to_have_text("")
    turn_on.click()
    # First the password again: until then the phone is not asked for anything and nothing is stored.
    page.wait_for_url(f"{server}/settings/confirm?next=device")
    expect(page.get_by_text("Then, for 5 minutes, you can turn on reminders on this phone.")).to_be_visible()
    assert asked == [], asked
    confirm_it_is_me(page, server, "device")
    expect(page.get_by_text("Thank you. For 5 minutes you can turn on reminders on this phone.")).to_be_visible()
    expect(_devices_heading(page)).to_have_count(0)
    turn_on.click()
    page.wait_for_url(f"{server}/settings/reminders?done=device-added")
    expect(page.get_by_text("Reminders are on for this phone.")).to_be_visible()
    assert asked == [key], asked  # asked once, for notes the person sees, signed by this server
    devices = _devices_heading(page).locator("xpath=following-sibling::ul[1]").get_by_role("listitem")
    expect(devices).to_have_count(1)
    expect(devices).to_contain_text(re.compile(rf"added {DAY}"))
    devices.get_by_role("button", name=re.compile("^Remove")).click()
    page.wait_for_url(f"{server}/settings/reminders?done=device-removed")
    expect(page.get_by_text("Removed. That phone gets no more reminders.")).to_be_visible()
    expect(_devices_heading(page)).to_have_count(0)
    expect(page.locator("#push-devices")).to_have_count(0)
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)


def test_a_refused_subscription_says_so_and_lists_nothing(page, context, server, hosts_seen):
    page.set_default_timeout(WAIT)
    sign_up(page, server)
    context.grant_permissions(["notifications"], origin=server)
    asked = _stub_subscribe(context, refuse=True)
    page.goto(f"{server}/settings/confirm?next=device")
    confirm_it_is_me(page, server, "device")
    page.goto(f"{server}/settings/reminders")
    page.get_by_role("button", name="Turn on reminders on this phone").click()
    expect(page.locator("#push-note")).to_have_text(REFUSED)
    expect(page.get_by_role("status").filter(has_text=REFUSED)).to_have_count(1)
    assert len(asked) == 1, asked
    assert page.url == f"{server}/settings/reminders"  # nothing was sent
    page.reload()
    expect(_devices_heading(page)).to_have_count(0)
    expect(page.get_by_text("Reminders are on for this phone.")).to_have_count(0)
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)


def test_without_javascript_the_button_stays_hidden(browser, server, hosts_seen):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    context.set_default_timeout(WAIT)
    _loopback_only(context, hosts_seen)
    page = context.new_page()
    try:
        sign_up(page, server)
        page.goto(f"{server}/settings/reminders")
        expect(page.get_by_text("Reminders need a browser that can show notifications, with JavaScript on.")).to_be_visible()
        expect(page.get_by_role("button", name="Turn on reminders on this phone")).to_be_hidden()
    finally:
        context.close()
    assert hosts_seen and set(hosts_seen) <= LOOPBACK, set(hosts_seen)
