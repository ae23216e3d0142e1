"""The safety shell over HTTP: the exit endpoint, Exit now on every page, neutral titles, headers."""

from __future__ import annotations

import re

import pytest

from portal.models import Role
from tests.conftest import make_user, post_form, sign_in, sign_up

DEFAULT_EXIT = "https://www.bbc.co.uk/weather"
PUBLIC_PAGES = ["/", "/sign-in", "/sign-up", "/safety", "/safety/practice", "/offline", "/help", "/no-such-page"]
SURVIVOR_PAGES = [
    "/home", "/welcome", "/settings", "/settings/safety", "/settings/security", "/settings/reminders", "/settings/language", "/settings/data", "/safety", "/safety/practice", "/goals", "/appointments", "/documents", "/documents/new",
    "/check-ins", "/check-ins/new", "/help", "/sharing", "/sharing/log", "/no-such-page",
]
STAFF_PAGES = ["/staff", "/people", "/settings", "/settings/safety", "/settings/security", "/safety"]
ADMIN_PAGES = ["/admin/staff", "/admin/help-lines", "/settings", "/settings/safety", "/settings/security", "/safety"]


def _title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html)
    assert match
    return match.group(1)


def _check_exit_link(html: str) -> None:
    link = re.search(r'<a href="([^"]+)" class="exit-button" id="exit-now" rel="nofollow noreferrer"', html)
    assert link, "Exit now link missing"
    assert link.group(1).startswith("/exit")
    # It comes before everything else a keyboard reaches.
    assert html.index('id="exit-now"') < html.index('class="skip-link"') < html.index("<main")
    assert "Emergency" in html and "Exit now" in html


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_has_exit_now_and_a_neutral_title(client, path):
    response = client.get(path)
    _check_exit_link(response.text)
    # The offline page is kept on the phone by the service worker: it names no app at all.
    assert _title(response.text).split(" – ")[0] == ("No connection" if path == "/offline" else "Waypoint")
    assert '<html lang="en" dir="ltr">' in response.text


@pytest.mark.parametrize(
    ("role", "pages"), [(Role.SURVIVOR, SURVIVOR_PAGES), (Role.CASEWORKER, STAFF_PAGES), (Role.ADMIN, ADMIN_PAGES)]
)
def test_every_signed_in_page_has_exit_now_no_store_and_no_name_in_the_title(client, settings, role, pages):
    make_user(settings, "Zephyrine", role)
    sign_in(client, "Zephyrine")
    for path in pages:
        response = client.get(path)
        _check_exit_link(response.text)
        assert "Zephyrine" not in _title(response.text)
        assert response.headers["cache-control"] == "no-store", path


def test_exit_ends_the_session_clears_the_site_and_leaves_for_the_default_destination(client, settings):
    make_user(settings, "harbour")
    token = sign_in(client, "harbour").cookies["wp_session"]
    response = client.get("/exit", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == DEFAULT_EXIT
    assert response.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    client.cookies.set("wp_session", token, domain="testserver.local")
    assert client.get("/home", follow_redirects=False).status_code == 303  # the session is gone on the server


def test_exit_by_beacon_post_needs_no_csrf_token_and_ends_the_session(client, settings):
    make_user(settings, "harbour")
    token = sign_in(client, "harbour").cookies["wp_session"]
    response = client.post("/exit", follow_redirects=False)
    assert response.status_code == 204
    assert response.headers["clear-site-data"] == '"cache", "storage"'
    assert response.headers["cache-control"] == "no-store"
    client.cookies.set("wp_session", token, domain="testserver.local")
    assert client.get("/home", follow_redirects=False).status_code == 303


def test_exit_works_for_visitors_who_are_not_signed_in(client):
    response = client.get("/exit", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == DEFAULT_EXIT


def _exit_href(client) -> str:  # type: ignore[no-untyped-def]
    html = client.get("/home").text
    return re.search(r'<a href="([^"]+)" class="exit-button"', html).group(1).replace("&amp;", "&")


def test_chosen_destination_is_used_even_after_the_beacon_ended_the_session(client):
    sign_up(client, "river")
    saved = post_form(client, "/settings/exit", {"exit_url": "news.example.org/today"})
    assert saved.status_code == 200 and "Saved" in saved.text
    href = _exit_href(client)
    assert href.startswith("/exit?to=")
    token = client.cookies["wp_session"]
    assert client.post("/exit").status_code == 204  # the beacon: the session ends on the server
    response = client.get(href, follow_redirects=False)  # the navigation right after it, with the dead cookie
    assert response.headers["location"] == "https://news.example.org/today"
    assert response.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    client.cookies.set("wp_session", token, domain="testserver.local")
    assert client.get("/home", follow_redirects=False).status_code == 303


def test_a_signed_exit_link_is_no_open_redirect_for_anyone_else(client, other_client):
    sign_up(client, "river")
    post_form(client, "/settings/exit", {"exit_url": "https://phish.example.net/login"})
    href = _exit_href(client)
    # Another browser (no cookie, or its own session) following the same link goes to the default.
    assert other_client.get(href, follow_redirects=False).headers["location"] == DEFAULT_EXIT
    sign_up(other_client, "someone-else")
    assert other_client.get(href, follow_redirects=False).headers["location"] == DEFAULT_EXIT


@pytest.mark.parametrize("value", ["aHR0cHM6Ly9ldmlsLmV4YW1wbGU.AAAAAAAAAAAAAAAAAAAAAA", "%%%", "aGk.%C3%A9", "." * 2000, "a.b.c"])
def test_a_tampered_destination_falls_back_to_the_default(client, value):
    sign_up(client, "river")
    response = client.get(f"/exit?to={value}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == DEFAULT_EXIT


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "ftp://x.example", "data:text/html,hi", "https://nodot", "https://[x", "[::1", "https://exa mple.com", "https://user@example.com", "https://example.com:99999", "https://" + "a" * 600 + ".example"])
def test_exit_destination_must_be_a_web_address(client, bad):
    sign_up(client, "river")
    response = post_form(client, "/settings/exit", {"exit_url": bad})
    assert response.status_code == 400
    assert 'id="exit_url-error"' in response.text


@pytest.mark.parametrize("path", ["/", "/sign-in", "/no-such-page", "/static/css/app.css", "/exit", "/manifest.webmanifest"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path, follow_redirects=False).headers
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]
    assert "strict-transport-security" not in headers  # development only


def test_pages_have_no_inline_script_or_style(client, settings):
    sign_up(client, "river")
    for path in ("/home", "/welcome", "/settings", "/safety/practice", "/check-ins", "/check-ins/new", "/documents/new", "/help"):
        html = client.get(path).text
        assert "<style" not in html and " style=" not in html
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
        assert not re.search(r"<[^>]+\son[a-z]+=", html)  # no onclick= and the like
        assert "javascript:" not in html


def test_scripts_and_styles_carry_integrity_hashes_and_htmx_is_the_vendored_4_0_1(client):
    import base64
    import hashlib
    from pathlib import Path

    html = client.get("/").text
    htmx = Path(__file__).parent.parent / "static" / "js" / "htmx.min.js"
    expected = "sha384-" + base64.b64encode(hashlib.sha384(htmx.read_bytes()).digest()).decode()
    assert f'integrity="{expected}"' in html
    assert expected == "sha384-Qp9rdC8H7EqOoX+nR0P3RPG2Noji+qdwJlGpfzwQJsfOpp3sGwIdSP9xO3+UlEhn"
    for tag in re.findall(r"<(?:script|link rel=\"stylesheet\")[^>]*>", html):
        assert "integrity=" in tag


def test_practice_without_javascript_does_not_sign_out(client):
    sign_up(client, "river")
    response = post_form(client, "/safety/practice")
    assert response.status_code == 200 and "Well done" in response.text
    assert client.get("/home", follow_redirects=False).status_code == 200


def test_the_portal_answers_its_own_host_names_on_any_port_and_nothing_else(client):
    assert client.get("/", headers={"host": "localhost:8000"}).status_code == 200
    assert client.get("/", headers={"host": "127.0.0.1:8123"}).status_code == 200
    refused = client.get("/", headers={"host": "evil.example"})
    assert refused.status_code == 400
    for host in ("localhost:x@evil.example", "localhost:80:80", "localhost.evil.example", ""):
        assert client.get("/", headers={"host": host}).status_code == 400, host
    assert refused.headers["x-content-type-options"] == "nosniff"


def test_logged_paths_never_carry_a_set_password_token():
    from portal.web import loggable_path

    assert loggable_path("/set-password/SECRETTOKEN") == "/set-password/…"
    assert loggable_path("/home") == "/home"


def test_an_owed_exit_ends_the_session_and_clears_the_cookie(client, settings):
    """Sent back online by the service worker for an exit made offline: no navigation follows."""
    make_user(settings, "harbour")
    token = sign_in(client, "harbour").cookies["wp_session"]
    response = client.post("/exit?owed=1", follow_redirects=False)
    assert response.status_code == 204 and response.content == b""
    assert response.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    assert response.headers["cache-control"] == "no-store"
    assert 'wp_session=""' in response.headers["set-cookie"] and "Max-Age=0" in response.headers["set-cookie"]
    client.cookies.set("wp_session", token, domain="testserver.local")
    assert client.get("/home", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("cookie", ["ended", "never-a-session", None])
def test_an_owed_exit_for_a_session_already_ended_just_succeeds(client, settings, cookie):
    make_user(settings, "harbour")
    token = sign_in(client, "harbour").cookies["wp_session"]
    assert client.post("/exit").status_code == 204  # ended already (the beacon, the idle limit, elsewhere)
    client.cookies.clear()
    if cookie:
        client.cookies.set("wp_session", token if cookie == "ended" else cookie, domain="testserver.local")
    response = client.post("/exit?owed=1", follow_redirects=False)
    assert response.status_code == 204 and response.content == b""
    assert response.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    assert "harbour" not in str(response.headers)
    assert client.get("/home", follow_redirects=False).status_code == 303


def test_the_service_worker_knows_the_default_exit_destination(client):
    script = client.get("/sw.js").text
    assert f'var EXIT_URL = "{DEFAULT_EXIT}";' in script
    assert "about:blank" not in script.split("var EXIT_URL", 1)[1].split(";", 1)[0]
