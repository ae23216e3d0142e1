"""Exit now with no connection (SAFETY.md, quick exit, point 8).

Offline, every way of leaving (button, Shift x3, Esc x2, the plain link) ends on a window that names
neither the portal nor the person, and back online the old session is dead before any page of the
portal is served. The connection is cut with Playwright's offline mode, which the service worker's own
fetches obey too, or by refusing the exit requests on the way (a connection lost half-way)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import _loopback_only
from tests.browser.helpers import session_cookie, sign_up

NAME = "zephyrine"


def _requests(context) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    seen: list[tuple[str, str]] = []
    context.on("request", lambda request: seen.append((request.method, request.url)))
    return seen


def _signed_in(page, server: str, *, worker: bool = True) -> None:  # type: ignore[no-untyped-def]
    sign_up(page, server, NAME)
    page.goto(f"{server}/home")
    assert f"Hello, {NAME}" in page.content()
    if worker:
        page.wait_for_function("navigator.serviceWorker && !!navigator.serviceWorker.controller")


def _alive_on_server(server: str, token: str) -> bool:
    """Ask for /home with this session cookie from outside the browser."""
    parts = urlsplit(server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", "/home", headers={"Cookie": f"wp_session={token}"})
        response = connection.getresponse()
        response.read()
        return response.status == 200
    finally:
        connection.close()


def _names_nothing(page, server: str) -> None:  # type: ignore[no-untyped-def]
    """The window has left the portal and shows nothing of it or of the person."""
    try:
        page.wait_for_url(lambda url: not url.startswith(server))
    except PlaywrightError as error:
        # Waiting caught the navigation to the destination, which fails offline: the browser's error
        # page for it is what the window shows next.
        if "net::ERR_INTERNET_DISCONNECTED" not in str(error):
            raise
        page.wait_for_url(lambda url: not url.startswith(server))
    page.wait_for_load_state()
    shown = " ".join(
        [page.url, page.title(), page.evaluate("document.documentElement ? document.documentElement.innerText : ''"), page.content()]
    ).lower()
    assert "waypoint" not in shown
    assert NAME not in shown


def _first_portal_page_is_signed_out(page, context, server: str, old: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/home")
    assert page.url == f"{server}/sign-in"
    assert NAME not in page.content()
    assert session_cookie(context) is None
    assert not _alive_on_server(server, old)


def _leave(page, context, way: str) -> None:  # type: ignore[no-untyped-def]
    if way == "button":
        page.locator("#exit-now").click()
    elif way == "shift":
        for _ in range(3):
            page.keyboard.press("Shift")
    elif way == "escape":
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
    else:
        raise AssertionError(way)


@pytest.mark.parametrize("way", ["button", "shift", "escape"])
def test_offline_exit_names_nothing_and_back_online_the_session_is_dead_first(page, context, server, destination, way):
    _signed_in(page, server)
    old = session_cookie(context)
    seen = _requests(context)
    context.set_offline(True)
    _leave(page, context, way)
    _names_nothing(page, server)
    assert ("GET", destination.url) in seen  # straight to the destination: its own offline error names nothing of ours
    assert _alive_on_server(server, old)  # nothing could reach the server: the exit is owed
    context.set_offline(False)
    _first_portal_page_is_signed_out(page, context, server, old)


def test_offline_exit_by_the_plain_link_without_the_pages_script(page, context, server, destination):
    """Exit now is a link: followed before (or without) the page's script, the service worker answers it."""
    _signed_in(page, server)
    old = session_cookie(context)
    context.new_cdp_session(page).send("Emulation.setScriptExecutionDisabled", {"value": True})
    page.reload()  # the same page, with none of its script running: no cover, no beacon, no shortcuts
    seen = _requests(context)
    context.set_offline(True)
    page.locator("#exit-now").click()
    _names_nothing(page, server)
    assert ("GET", destination.url) in seen
    assert not [url for method, url in seen if method == "POST"]  # the link alone, no beacon
    context.set_offline(False)
    _first_portal_page_is_signed_out(page, context, server, old)


def test_offline_exit_goes_to_the_persons_own_destination(page, context, server, destination):
    chosen = destination.url.replace("/weather", "/news")
    _signed_in(page, server)
    page.goto(f"{server}/settings/safety")
    page.get_by_label("Web address").fill(chosen)
    page.get_by_role("button", name="Save exit page").click()
    page.get_by_text("Saved.").wait_for()
    old = session_cookie(context)
    seen = _requests(context)
    context.set_offline(True)
    page.locator("#exit-now").click()
    _names_nothing(page, server)
    assert ("GET", chosen) in seen and ("GET", destination.url) not in seen
    context.set_offline(False)
    _first_portal_page_is_signed_out(page, context, server, old)


def test_connection_lost_during_the_exit_still_leaves_and_ends_the_session_first_thing(page, context, server, destination):
    """Online as the exit starts, but neither the beacon nor the navigation reaches the server."""
    _signed_in(page, server)
    old = session_cookie(context)
    context.route("**/exit*", lambda route: route.abort("internetdisconnected"))
    page.locator("#exit-now").click()
    page.wait_for_url(destination.url)  # the destination itself is reachable: the person is there
    assert "Weather today" in page.content()
    assert _alive_on_server(server, old)
    context.unroute("**/exit*")
    _first_portal_page_is_signed_out(page, context, server, old)


def test_an_error_page_in_answer_to_the_exit_is_never_shown(page, context, server, destination):
    """The server (or a proxy in front of it) answers the exit with its own error page: the person still
    leaves, and the session is ended first thing when the portal answers again."""
    _signed_in(page, server)
    old = session_cookie(context)
    context.route("**/exit*", lambda route: route.fulfill(
        status=502, content_type="text/html", body=f"<title>{NAME} – Bad gateway</title><h1>{NAME} is down</h1>"))
    page.locator("#exit-now").click()
    page.wait_for_url(destination.url)
    assert "Weather today" in page.content() and NAME not in page.content()
    assert _alive_on_server(server, old)
    context.unroute("**/exit*")
    _first_portal_page_is_signed_out(page, context, server, old)


def test_flapping_never_lets_a_portal_page_through_before_the_owed_exit(page, context, server, destination):
    _signed_in(page, server)
    old = session_cookie(context)
    context.set_offline(True)
    page.locator("#exit-now").click()
    _names_nothing(page, server)
    # Back online for a moment, then gone again before anything was asked for.
    context.set_offline(False)
    context.set_offline(True)
    page.goto(f"{server}/home")
    assert NAME not in page.content() and page.get_by_role("button", name="Sign out", include_hidden=True).count() == 0
    # Online, but the owed exit does not get through: the person's page is still not served.
    context.route("**/exit?owed=1", lambda route: route.abort("internetdisconnected"))
    context.set_offline(False)
    page.goto(f"{server}/home")
    assert NAME not in page.content() and page.get_by_role("button", name="Sign out", include_hidden=True).count() == 0
    assert _alive_on_server(server, old)
    context.unroute("**/exit?owed=1")
    _first_portal_page_is_signed_out(page, context, server, old)


def test_an_owed_exit_whose_session_already_ended(page, context, server, destination):
    _signed_in(page, server)
    old = session_cookie(context)
    context.set_offline(True)
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    _names_nothing(page, server)
    # Meanwhile the session ended anyway (idle limit, signed out elsewhere): the owed exit finds nothing.
    parts = urlsplit(server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("POST", "/exit", headers={"Cookie": f"wp_session={old}"})
    assert connection.getresponse().status == 204
    connection.close()
    context.set_offline(False)
    _first_portal_page_is_signed_out(page, context, server, old)
    page.goto(f"{server}/")
    assert page.url == f"{server}/"  # the portal works as usual afterwards: nothing left owed


def test_offline_exit_where_no_service_worker_runs(browser, server, destination, hosts_seen):
    """The page's script alone: it leaves for a blank page (it does not know the default destination)
    and keeps a bare flag. It cannot stop the next page of the portal from being sent (that is what
    the service worker is for): it hides that page at once, ends the session, and asks again."""
    context = browser.new_context(service_workers="block", viewport={"width": 390, "height": 844})
    _loopback_only(context, hosts_seen)
    page = context.new_page()
    try:
        _signed_in(page, server, worker=False)
        old = session_cookie(context)
        context.set_offline(True)
        page.locator("#exit-now").click()
        _names_nothing(page, server)
        assert page.url == "about:blank"
        context.set_offline(False)
        page.goto(f"{server}/home")
        page.wait_for_url(f"{server}/sign-in")
        assert NAME not in page.content()
        assert session_cookie(context) is None
        assert not _alive_on_server(server, old)
    finally:
        context.close()


def test_offline_exit_without_javascript(browser, server, destination, hosts_seen):
    """With JavaScript off no service worker can be registered and nothing of the portal's runs on the
    device: the window shows the browser's own offline error for /exit (no portal name, no person),
    and Chromium reloads that error page once the connection is back, which finishes the exit."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    _loopback_only(context, hosts_seen)
    page = context.new_page()
    try:
        _signed_in(page, server, worker=False)
        old = session_cookie(context)
        context.set_offline(True)
        page.locator("#exit-now").click()
        _names_nothing(page, server)
        context.set_offline(False)
        page.wait_for_url(destination.url)
        assert session_cookie(context) is None
        assert not _alive_on_server(server, old)
    finally:
        context.close()
