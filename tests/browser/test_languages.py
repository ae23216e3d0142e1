"""Spanish and Arabic in a real browser: chosen signed out (the list at the foot of every page) or in Settings
(kept on the account, so it follows the person to a fresh browser); Arabic right to left on a phone with no
page wider than the screen; Exit now in Arabic by click, Shift x3 and Esc x2; no axe-core violation on any
page in either language.

The words looked for come from the portal's own catalogues (portal/translations/<code>/LC_MESSAGES/messages.po)
through `portal.i18n`, never typed out twice, except the few the brief names ("Salir ya", "اخرج الآن")."""

from __future__ import annotations

import pytest

from portal import i18n
from portal.models import Role
from tests.browser.conftest import _loopback_only
from tests.browser.helpers import axe_violations, session_cookie, sign_in, sign_up
from tests.browser.test_exit import _check_left_safely, _fill_storage
from tests.browser.test_pages import ADMIN, MENTOR, SIGNED_OUT, STAFF, SURVIVOR
from tests.conftest import PASSWORD, make_user

PHONE = {"width": 390, "height": 844}
EXIT_WORDS = {"en": "Exit now", "es": "Salir ya", "ar": "اخرج الآن"}
ARABIC_SIGNED_OUT = ["/", "/sign-in", "/sign-up", "/safety", "/help"]
ARABIC_SIGNED_IN = ["/home", "/goals", "/goals/new", "/appointments", "/documents", "/check-ins/new", "/safety-plan",
                    "/sharing",
                    "/settings", "/settings/safety", "/settings/security", "/settings/reminders", "/settings/language",
                    "/settings/data"]

# The visible words of the Exit link: its text without the part only screen readers hear.
EXIT_TEXT = """() => {
  const link = document.querySelector('#exit-now').cloneNode(true);
  link.querySelectorAll('.visually-hidden').forEach(el => el.remove());
  return link.textContent.trim();
}"""

# How wide the page is, and (to say where) the innermost elements past either edge: in right to left a page
# that is too wide sticks out on the left.
WIDTH = """() => {
  const root = document.documentElement, width = window.innerWidth;
  const out = [...document.body.querySelectorAll('*')].filter(el => {
    if (el.closest('.visually-hidden')) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && (r.left < -0.5 || r.right > width + 0.5);
  });
  const innermost = out.filter(el => !out.some(other => other !== el && el.contains(other)));
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  return {scroll: root.scrollWidth, inner: width,
          out: innermost.slice(0, 5).map(el => {
            const r = el.getBoundingClientRect();
            return name(el) + ' [' + Math.round(r.left) + ', ' + Math.round(r.right) + ']';
          })};
}"""


def words(language: str, message: str) -> str:
    """`message` as the portal shows it in `language`, from its own catalogue."""
    return i18n.translations(language).gettext(message)


def html_language(page) -> tuple[str | None, str | None]:  # type: ignore[no-untyped-def]
    found = page.evaluate("[document.documentElement.getAttribute('lang'), document.documentElement.getAttribute('dir')]")
    return (found[0], found[1])


def exit_text(page) -> str:  # type: ignore[no-untyped-def]
    return page.evaluate(EXIT_TEXT)


def choose_in_footer(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Press a language by its own name in the list at the foot of a signed-out page."""
    with page.expect_navigation():
        page.locator("footer.site-footer form.languages").get_by_role("button", name=name, exact=True).click()


def sign_up_in(page, base: str, language: str, username: str = "river", password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """helpers.sign_up, with the labels in `language` (the page is already in it)."""
    page.goto(f"{base}/sign-up")
    page.get_by_label(words(language, "Username"), exact=True).fill(username)
    page.get_by_label(words(language, "Password"), exact=True).fill(password)
    page.get_by_role("button", name=words(language, "Create account"), exact=True).click()
    page.get_by_role("heading", name=words(language, "Save your recovery codes")).wait_for()
    page.get_by_role("link", name=words(language, "I have saved them")).click()
    page.wait_for_url(f"{base}/welcome")


def sign_in_in(page, base: str, language: str, username: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """helpers.sign_in, with the labels in `language` (the page is already in it)."""
    page.goto(f"{base}/sign-in")
    page.get_by_label(words(language, "Username"), exact=True).fill(username)
    page.get_by_label(words(language, "Password"), exact=True).fill(password)
    with page.expect_navigation():  # the form's answer, not the sign-in page already shown (helpers.sign_in)
        page.get_by_role("button", name=words(language, "Sign in"), exact=True).click()


def set_language_cookie(context, server: str, language: str) -> None:  # type: ignore[no-untyped-def]
    context.add_cookies([{"name": i18n.COOKIE, "value": language, "url": server}])


# ----- 1. Spanish, chosen signed out ------------------------------------------------------------------------


def test_spanish_chosen_on_the_start_page_is_kept_on_the_next_page_and_after_a_reload(page, context, server):
    page.goto(f"{server}/")
    assert html_language(page) == ("en", "ltr")
    assert exit_text(page) == "Exit now"

    choose_in_footer(page, "Español")
    assert page.url == f"{server}/"
    assert html_language(page) == ("es", "ltr")
    assert exit_text(page) == "Salir ya"
    assert page.get_by_role("link", name=f"{words('es', 'Emergency')} Salir ya").count() == 1
    current = page.locator("form.languages button[aria-current=true]")
    assert current.count() == 1 and current.get_attribute("value") == "es"
    assert any(c["name"] == "lang" and c["value"] == "es" for c in context.cookies())

    page.goto(f"{server}/sign-in")
    assert html_language(page) == ("es", "ltr")
    assert exit_text(page) == "Salir ya"
    assert page.get_by_role("heading", level=1).text_content() == words("es", "Sign in") != "Sign in"

    page.reload()
    page.wait_for_load_state()
    assert html_language(page) == ("es", "ltr")
    assert exit_text(page) == "Salir ya"
    assert page.get_by_label(words("es", "Username"), exact=True).count() == 1


# ----- 2. Spanish, chosen in Settings, follows the person ---------------------------------------------------


def test_spanish_chosen_in_settings_follows_the_person_to_a_fresh_browser(page, context, browser, server, hosts_seen):
    sign_up(page, server)
    page.goto(f"{server}/settings/language")
    assert html_language(page) == ("en", "ltr")
    assert page.get_by_role("heading", level=2, name="Language", exact=True).count() == 1
    page.locator("#language-es").check()
    assert page.locator("label[for=language-es]").text_content().strip() == "Español"
    with page.expect_navigation(url=f"{server}/settings/language"):  # back to the same page, now in Spanish
        page.locator("form[action='/language'] button[type=submit]").click()
    assert html_language(page) == ("es", "ltr")
    assert exit_text(page) == "Salir ya"
    heading = "Language and time"  # the section of Settings the form comes back to
    assert page.get_by_role("heading", level=1).text_content() == words("es", heading) != heading
    assert page.locator("#language-es").is_checked()

    fresh = browser.new_context(viewport=PHONE)
    _loopback_only(fresh, hosts_seen)
    try:
        other = fresh.new_page()
        other.goto(f"{server}/sign-in")
        assert fresh.cookies() == [] or all(c["name"] != "lang" for c in fresh.cookies())
        assert html_language(other) == ("en", "ltr")  # nothing chosen in this browser yet
        sign_in(other, server, "river")
        assert session_cookie(fresh) is not None
        assert html_language(other) == ("es", "ltr"), other.url
        assert exit_text(other) == "Salir ya"
        other.goto(f"{server}/home")
        assert html_language(other) == ("es", "ltr")
        assert words("es", "Hello, %(name)s") % {"name": "river"} in other.content()
        other.goto(f"{server}/settings/language")
        assert html_language(other) == ("es", "ltr")
        assert other.locator("#language-es").is_checked()
    finally:
        fresh.close()


# ----- 3. Arabic: right to left, on a phone, and Exit now -------------------------------------------------


def _too_wide(page, server: str, paths: list[str], language: str) -> list[str]:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    for path in paths:
        page.goto(f"{server}{path}")
        page.wait_for_load_state()
        assert page.url.startswith(f"{server}{path}"), (path, page.url)
        assert html_language(page) == (language, "rtl"), path
        measured = page.evaluate(WIDTH)
        if measured["scroll"] > measured["inner"]:
            problems.append(f"{path}: {measured['scroll']} px wide on a {measured['inner']} px screen {measured['out']}")
    return problems


def test_arabic_is_right_to_left_and_no_page_is_wider_than_a_phone(page, server):
    page.set_viewport_size(PHONE)
    page.goto(f"{server}/")
    choose_in_footer(page, "العربية")
    assert html_language(page) == ("ar", "rtl")
    assert exit_text(page) == "اخرج الآن"
    problems = _too_wide(page, server, ARABIC_SIGNED_OUT, "ar")
    sign_up_in(page, server, "ar")
    assert html_language(page) == ("ar", "rtl")
    problems += _too_wide(page, server, ARABIC_SIGNED_IN, "ar")
    assert not problems, "\n".join(problems)


def _press(page, key: str, times: int) -> list[str | None]:  # type: ignore[no-untyped-def]
    """Press `key` and return what was announced after each press but the last (which leaves)."""
    said = []
    for _ in range(times - 1):
        page.keyboard.press(key)
        said.append(page.locator("#wp-announce").text_content())
    page.keyboard.press(key)
    return said


@pytest.mark.parametrize("how", ["click", "shift", "escape"])
def test_exit_now_works_in_arabic(page, context, server, destination, how):
    page.goto(f"{server}/")
    choose_in_footer(page, "العربية")
    sign_up_in(page, server, "ar")
    page.goto(f"{server}/home")
    assert html_language(page) == ("ar", "rtl")
    assert exit_text(page) == "اخرج الآن"
    sign_out = words("ar", "Sign out")
    # Signed in: Sign out is in the page (behind the Menu button on a phone, so hidden until it is opened).
    assert page.get_by_role("button", name=sign_out, exact=True, include_hidden=True).count() == 1
    _fill_storage(page)
    if how == "click":
        page.get_by_role("link", name=f"{words('ar', 'Emergency')} اخرج الآن").click()
    elif how == "shift":
        assert _press(page, "Shift", 3) == [words("ar", "Shift, press 2 more times to exit."),
                                            words("ar", "Shift, press 1 more time to exit.")]
    else:
        assert _press(page, "Escape", 2) == [words("ar", "Escape, press 1 more time to exit.")]
    _check_left_safely(page, context, server, destination)
    assert page.get_by_role("button", name=sign_out, exact=True, include_hidden=True).count() == 0


# ----- 4. axe-core in Spanish and in Arabic ---------------------------------------------------------------


def _check(page, server: str, paths: list[str], language: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every violation on every page, and every page that is not in `language`."""
    found: list[str] = []
    for path in paths:
        page.goto(f"{server}{path}")
        shown = html_language(page)
        if shown != (language, i18n.direction(language)):
            found.append(f"{language} {path}: not in {language}: <html lang={shown[0]} dir={shown[1]}>")
        found += [f"{language} {path}: {violation}" for violation in axe_violations(page)]
    return found


@pytest.mark.parametrize("language", ["es", "ar"])
def test_signed_out_pages_have_no_accessibility_violations(axe_page, server, language):
    set_language_cookie(axe_page.context, server, language)
    found = _check(axe_page, server, SIGNED_OUT, language)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("language", ["es", "ar"])
def test_survivor_pages_have_no_accessibility_violations(axe_page, server, language):
    set_language_cookie(axe_page.context, server, language)
    sign_up_in(axe_page, server, language)
    found = _check(axe_page, server, SURVIVOR, language)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("language", ["es", "ar"])
def test_staff_and_admin_pages_have_no_accessibility_violations(axe_page, server, settings, language):
    make_user(settings, "casey", Role.CASEWORKER)
    make_user(settings, "mara", Role.MENTOR)
    make_user(settings, "orgadmin", Role.ADMIN)
    found: list[str] = []
    for username, paths in [("casey", STAFF), ("mara", MENTOR), ("orgadmin", ADMIN)]:
        axe_page.context.clear_cookies()
        set_language_cookie(axe_page.context, server, language)
        sign_in_in(axe_page, server, language, username)
        assert session_cookie(axe_page.context) is not None, username
        found += _check(axe_page, server, paths, language)
    assert found == [], "\n".join(found)
