"""The safety plan in a real browser: no axe-core violation on its pages (empty, filled, changed, refused, and the
caseworker's view) in English, Spanish and Arabic; and never printed unless the survivor chooses to: print styles
hide it, "Print my safety plan" warns first and marks the page for that one print only (the script runs under the
pages' own CSP), and ?print=1 does the same without a script."""

from __future__ import annotations

import re

import pytest

from portal.models import Role
from tests.browser.helpers import axe_violations, sign_up
from tests.browser.test_languages import set_language_cookie, sign_in_in, sign_up_in
from tests.conftest import make_connection, make_user

# window.print() stubbed: it notes whether the page was marked for printing the plan when it was called.
STUB_PRINT = """window.__printed = [];
window.print = () => window.__printed.push(document.documentElement.classList.contains('wp-print-plan'));"""


def fill_plan(page, base: str) -> str:  # type: ignore[no-untyped-def]
    """Fill in a few sections of a new plan and save it (by field ids: the labels change with the language);
    the plan's address."""
    page.goto(f"{base}/safety-plan")
    page.locator("#person-0-name").fill("Rosa")
    page.locator("#person-0-reach").fill("555 0101")
    page.locator("#places").fill("The library on Main Street")
    page.locator("#take-phone").check()
    page.locator("#code_word").fill("Blue door")
    page.locator("form.safety-plan-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/safety-plan/[A-Za-z0-9_-]{16}\?saved=1$"))
    return page.url.split("?")[0]


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_the_safety_plan_pages_have_no_accessibility_violations(axe_page, server, settings, language):
    page = axe_page
    set_language_cookie(page.context, server, language)
    sign_up_in(page, server, language)
    found: list[str] = []

    def check(what: str) -> None:
        shown = page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
        assert shown[0] == language, (what, shown)
        found.extend(f"{language} {what}: {violation}" for violation in axe_violations(page))

    page.goto(f"{server}/safety-plan")
    check("empty")
    url = fill_plan(page, server)
    check("saved")
    page.goto(f"{server}/safety-plan")
    check("filled")
    page.goto(f"{url}/edit")
    check("change")
    page.locator("#places").fill("x" * 2001)
    page.locator("form.safety-plan-form button[type=submit]").click()
    page.locator(".error-summary").wait_for()
    check("refused")
    page.goto(f"{url}/delete")
    check("delete")

    make_user(settings, "casey", Role.CASEWORKER)
    connection = make_connection(settings, "river", "casey", ("safety_plan",))
    page.context.clear_cookies()
    set_language_cookie(page.context, server, language)
    sign_in_in(page, server, language, "casey")
    page.goto(f"{server}/people/{connection}/safety_plan")
    check("caseworker's list")
    page.goto(f"{server}/people/{connection}/safety_plan/{url.rsplit('/', 1)[1]}")
    assert page.get_by_text("Blue door").count() == 1
    check("caseworker's view")
    assert found == []


def _shown(page) -> tuple[bool, bool]:  # type: ignore[no-untyped-def]
    """Whether the plan's contents and the "not printed" line are shown, in the media emulated now."""
    return (page.locator(".safety-plan__content").is_visible(), page.locator(".safety-plan__print-note").is_visible())


def test_the_plan_is_not_printed_unless_chosen(page, server):
    page.add_init_script(STUB_PRINT)
    sign_up(page, server)
    page.goto(f"{server}/safety-plan")  # the first form: a refused first save shows what was typed here again
    page.emulate_media(media="print")
    assert _shown(page) == (False, True)
    page.emulate_media(media="screen")
    url = fill_plan(page, server)
    page.goto(url)
    assert _shown(page) == (True, False)
    page.emulate_media(media="print")
    assert _shown(page) == (False, True)
    assert page.get_by_text("Your safety plan is not printed unless you choose to.").is_visible()
    page.goto(f"{url}/edit")  # the form holds the plan's words too
    assert _shown(page) == (False, True)
    page.emulate_media(media="screen")

    # Chosen: the warning first, then this one print shows the plan; afterwards it is hidden from print again.
    page.goto(url)
    page.get_by_text("Print my safety plan").click()
    assert page.get_by_text("A paper can be found.").is_visible()
    page.get_by_role("link", name="Yes, print it").click()
    assert page.evaluate("window.__printed") == [True]
    assert page.url == url  # no page of its own: the script printed this one
    page.emulate_media(media="print")
    assert _shown(page) == (True, False)
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert _shown(page) == (False, True)
    assert page.evaluate("document.documentElement.classList.contains('wp-print-plan')") is False


def test_without_a_script_the_chosen_print_is_a_page_marked_for_printing(browser, server, hosts_seen):
    from tests.browser.conftest import _loopback_only

    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    _loopback_only(context, hosts_seen)
    page = context.new_page()
    sign_up(page, server)
    url = fill_plan(page, server)
    page.goto(url)
    page.get_by_text("Print my safety plan").click()
    page.get_by_role("link", name="Yes, print it").click()
    page.wait_for_url(f"{url}?print=1")
    page.emulate_media(media="print")
    assert _shown(page) == (True, False)
    page.goto(url)
    assert _shown(page) == (False, True)
    context.close()
