"""Exit now in a real browser: click, Shift x3, Esc x2, without JavaScript; Back; storage; practice."""

from __future__ import annotations


from tests.browser.helpers import session_cookie, sign_in, sign_up
from tests.conftest import make_user


def _fill_storage(page) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("localStorage.setItem('left', 'behind'); sessionStorage.setItem('left', 'behind')")


def _check_left_safely(page, context, server, destination, username: str = "river") -> None:  # type: ignore[no-untyped-def]
    page.wait_for_url(destination.url)
    assert "Weather today" in page.content()
    assert session_cookie(context) is None
    page.go_back()
    page.wait_for_load_state()
    assert page.url.startswith(server)
    assert username not in page.content()
    assert page.get_by_role("button", name="Sign out", include_hidden=True).count() == 0
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    page.goto(f"{server}/home")
    assert page.url == f"{server}/sign-in"


def test_exit_now_click_ends_the_session_and_back_shows_nothing(page, context, server, destination):
    sign_up(page, server)
    page.goto(f"{server}/home")
    assert "Hello, river" in page.content()
    _fill_storage(page)
    page.locator("#exit-now").click()
    _check_left_safely(page, context, server, destination)


def test_shift_three_times_exits_and_is_announced(page, context, server, destination):
    sign_up(page, server)
    page.goto(f"{server}/home")
    _fill_storage(page)
    page.keyboard.press("Shift")
    assert page.locator("#wp-announce").text_content() == "Shift, press 2 more times to exit."
    page.keyboard.press("Shift")
    assert page.locator("#wp-announce").text_content() == "Shift, press 1 more time to exit."
    page.keyboard.press("Shift")
    _check_left_safely(page, context, server, destination)


def test_left_and_right_shift_both_count(page, context, server, destination):
    sign_up(page, server)
    page.goto(f"{server}/home")
    page.keyboard.press("ShiftLeft")
    page.keyboard.press("ShiftRight")
    page.keyboard.press("ShiftLeft")
    page.wait_for_url(destination.url)


def test_another_key_between_shifts_starts_the_count_again(page, server):
    sign_up(page, server)
    page.goto(f"{server}/home")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.press("a")
    page.keyboard.press("Shift")
    page.wait_for_timeout(300)
    assert page.url == f"{server}/home"
    page.keyboard.press("Shift+A")  # Shift used to type a capital is not a press of Shift alone
    page.wait_for_timeout(300)
    assert page.url == f"{server}/home"


def test_escape_twice_exits(page, context, server, destination):
    sign_up(page, server)
    page.goto(f"{server}/home")
    _fill_storage(page)
    page.keyboard.press("Escape")
    assert page.locator("#wp-announce").text_content() == "Escape, press 1 more time to exit."
    page.keyboard.press("Escape")
    _check_left_safely(page, context, server, destination)


def test_escape_while_typing_does_not_exit(page, server):
    sign_up(page, server)
    page.goto(f"{server}/settings/safety")
    page.get_by_label("Web address").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert page.url == f"{server}/settings/safety"


def test_exit_works_without_javascript(browser, server, destination, hosts_seen):
    from tests.browser.conftest import _loopback_only

    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    _loopback_only(context, hosts_seen)
    page = context.new_page()
    try:
        sign_up(page, server)
        page.goto(f"{server}/home")
        page.locator("#exit-now").click()
        page.wait_for_url(destination.url)
        assert session_cookie(context) is None
        page.go_back()
        page.wait_for_load_state()
        assert "river" not in page.content()
        page.goto(f"{server}/home")
        assert page.url == f"{server}/sign-in"
    finally:
        context.close()


def test_exit_now_from_a_signed_out_page(page, server, destination):
    page.goto(f"{server}/sign-in")
    page.locator("#exit-now").click()
    page.wait_for_url(destination.url)


def test_first_tab_lands_on_exit_now(page, server):
    page.goto(f"{server}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "exit-now"


def test_exit_now_stays_in_view_and_uncovered_on_a_phone(page, server):
    sign_up(page, server)
    page.goto(f"{server}/safety")
    page.mouse.wheel(0, 5000)
    page.wait_for_timeout(200)
    box = page.locator("#exit-now").bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= 844 and box["height"] >= 44
    # Nothing else is drawn over the middle of the button.
    top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('#exit-now') !== null",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert top


def test_practice_shows_what_happens_and_keeps_the_person_signed_in(page, server):
    sign_up(page, server)
    page.get_by_role("link", name="Practise Exit now").click()
    page.wait_for_url(f"{server}/safety/practice")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.get_by_text("Well done").wait_for()
    assert page.url == f"{server}/safety/practice"
    page.goto(f"{server}/home")
    assert "Hello, river" in page.content()


def test_the_real_exit_button_still_exits_on_the_practice_page(page, server, destination):
    sign_up(page, server)
    page.goto(f"{server}/safety/practice")
    page.locator("#exit-now").click()
    page.wait_for_url(destination.url)


def test_staff_and_admin_pages_exit_too(page, context, server, destination, settings):
    from portal.models import Role

    make_user(settings, "orgadmin", Role.ADMIN)
    sign_in(page, server, "orgadmin")
    assert page.url == f"{server}/admin/staff"
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url(destination.url)
    assert session_cookie(context) is None


def test_a_page_restored_from_the_back_forward_cache_hides_and_asks_the_server_again(page, context, server):
    sign_up(page, server)
    page.goto(f"{server}/home")
    context.clear_cookies()  # as if the session ended while the page sat in memory
    with page.expect_navigation():
        page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    page.wait_for_load_state()
    assert page.url == f"{server}/sign-in"
    assert "river" not in page.content()


def test_the_persons_own_destination_survives_the_beacon(page, context, server, destination):
    chosen = destination.url.replace("/weather", "/news")
    sign_up(page, server)
    page.goto(f"{server}/settings/safety")
    page.get_by_label("Web address").fill(chosen)
    page.get_by_role("button", name="Save exit page").click()
    page.get_by_text("Saved.").wait_for()
    page.keyboard.press("Escape")  # leaves the text field alone: focus is on the page after saving
    page.locator("h1").click()
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.wait_for_url(chosen)
    assert session_cookie(context) is None
