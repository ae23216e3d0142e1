"""Every page: no accessibility violations (axe-core), no request to another origin, htmx loaded."""

from __future__ import annotations


from portal.models import Role
from tests.browser.helpers import axe_violations as _axe_violations
from tests.browser.helpers import sign_in, sign_up
from tests.conftest import make_user

SIGNED_OUT = ["/", "/sign-in", "/sign-up", "/safety", "/safety/practice", "/offline", "/help", "/no-such-page"]
# Settings is a short page leading to its sections, each a page of its own: every section a role has is checked.
SURVIVOR = ["/welcome", "/home", "/settings", "/settings/safety", "/settings/security", "/settings/reminders",
            "/settings/language", "/settings/data", "/settings/time-zone", "/safety", "/safety/practice", "/goals",
            "/goals/new", "/goals/achieved", "/appointments", "/appointments/new", "/documents", "/documents/new",
            "/check-ins", "/check-ins/new", "/safety-plan", "/life-areas", "/life-areas/new", "/journal", "/journal/new", "/help", "/messages", "/sharing", "/sharing/log"]
STAFF = ["/staff", "/people", "/settings", "/settings/profile", "/settings/safety", "/settings/security",
         "/settings/language"]
MENTOR = ["/people", "/messages", "/settings", "/settings/profile", "/settings/safety", "/settings/security",
          "/settings/reminders", "/settings/language"]
ADMIN = ["/admin/staff", "/admin/help-lines", "/admin/impact", "/admin/feedback", "/settings", "/settings/safety",
         "/settings/security", "/settings/language"]


def _check(page, server: str, paths: list[str]) -> None:  # type: ignore[no-untyped-def]
    for path in paths:
        page.goto(f"{server}{path}")
        assert _axe_violations(page) == [], path


def test_signed_out_pages_have_no_accessibility_violations(axe_page, server):
    _check(axe_page, server, SIGNED_OUT)


def test_survivor_pages_have_no_accessibility_violations(axe_page, server):
    sign_up(axe_page, server)
    _check(axe_page, server, SURVIVOR)
    # A form that came back with errors, too.
    axe_page.goto(f"{server}/settings/safety")
    axe_page.get_by_label("Web address").fill("javascript:alert(1)")
    axe_page.get_by_role("button", name="Save exit page").click()
    assert axe_page.locator("#exit_url-error").count() == 1
    assert _axe_violations(axe_page) == []


def test_staff_and_admin_pages_have_no_accessibility_violations(axe_page, server, settings):
    make_user(settings, "casey", Role.CASEWORKER)
    make_user(settings, "orgadmin", Role.ADMIN)
    sign_in(axe_page, server, "casey")
    _check(axe_page, server, STAFF)
    axe_page.context.clear_cookies()
    make_user(settings, "mara", Role.MENTOR)
    sign_in(axe_page, server, "mara")
    _check(axe_page, server, MENTOR)
    axe_page.context.clear_cookies()
    sign_in(axe_page, server, "orgadmin")
    _check(axe_page, server, ADMIN)
    axe_page.goto(f"{server}/admin/staff")
    axe_page.get_by_label("Name people see").fill("Noor Haddad")
    axe_page.get_by_label("Username").fill("new-mentor")
    axe_page.get_by_label("Peer mentor").check()
    axe_page.get_by_role("button", name="Add staff").click()
    axe_page.get_by_text("Send this link to Noor Haddad").wait_for()
    assert _axe_violations(axe_page) == []


def test_wide_screen_pages_have_no_accessibility_violations(browser, server, hosts_seen):
    from tests.browser.conftest import _loopback_only

    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800})
    _loopback_only(context, hosts_seen)
    page = context.new_page()
    sign_up(page, server)
    _check(page, server, ["/home", "/settings", "/settings/safety", "/settings/security", "/settings/reminders",
                          "/settings/language", "/settings/data"])
    context.close()


def test_the_settings_page_is_short_on_a_phone(page, server):
    """Settings on a 390 by 844 phone is a short list of its sections: less than one and a half screens tall."""
    sign_up(page, server)
    page.goto(f"{server}/settings")
    assert page.get_by_role("heading", level=1).inner_text() == "Settings"
    assert page.viewport_size == {"width": 390, "height": 844}, page.viewport_size
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 1.5 * 844, f"/settings is {height} px tall on an 844 px screen: {height / 844:.2f} screens"


def test_no_page_requests_another_origin_and_htmx_runs_under_the_csp(page, server, hosts_seen, settings):
    sign_up(page, server)
    for path in ["/manifest.webmanifest"] + SURVIVOR:
        page.goto(f"{server}{path}")
        page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof htmx !== 'undefined' && htmx.version").startswith("4.0.1")
    # htmx was told not to inject its indicator styles (the CSP would refuse them).
    assert page.evaluate("document.adoptedStyleSheets.length + document.querySelectorAll('style').length") == 0
    page.context.clear_cookies()
    for path in SIGNED_OUT:
        page.goto(f"{server}{path}")
        page.wait_for_load_state("networkidle")
    assert hosts_seen and set(hosts_seen) <= {"localhost"}, set(hosts_seen)


def test_service_worker_keeps_only_static_files_and_the_offline_page(page, server):
    sign_up(page, server)
    page.goto(f"{server}/home")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_load_state("networkidle")
    cached = page.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys()) {
                for (const req of await (await caches.open(name)).keys()) urls.push(new URL(req.url).pathname);
            }
            return urls;
        }"""
    )
    assert "/offline" in cached
    assert all(url == "/offline" or url.startswith("/static/") for url in cached), cached
    offline = page.evaluate("caches.match('/offline').then(r => r.text())")
    assert "river" not in offline and "Sign out" not in offline
    assert "Waypoint" not in offline and "<title>No connection</title>" in offline  # it names no app
