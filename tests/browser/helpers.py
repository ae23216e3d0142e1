"""Small steps a person takes in the browser."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from tests.conftest import PASSWORD

AXE = (Path(__file__).resolve().parent.parent / "vendor" / "axe.min.js").read_text()


def sign_up(page, base: str, username: str = "river", password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/sign-up")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Save your recovery codes").wait_for()
    page.get_by_role("link", name="I have saved them").click()
    page.wait_for_url(f"{base}/welcome")


def sign_in(page, base: str, username: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    # Wait for the answer to the form, not for the page already shown: a goto made before it lands cancels
    # the sign-in, and the next page is the sign-in page again.
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()


def open_menu(page) -> None:  # type: ignore[no-untyped-def]
    """On a phone the header's links and Sign out sit behind "Menu" (a closed <details>): open it to reach them."""
    page.get_by_role("banner").locator("details.menu > summary").click()
    page.locator("details.menu[open]").wait_for()


def session_cookie(context) -> str | None:  # type: ignore[no-untyped-def]
    return next((c["value"] for c in context.cookies() if c["name"] == "wp_session"), None)


def axe_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    page.add_script_tag(content=AXE)
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"""
    )
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in result["violations"]]


# A day as the English pages show it ("Dec 10, 2026"), to find in a sentence and to read back.
DAY = r"([A-Z][a-z]{2} \d{1,2}, \d{4})"


def shown_day(text: str) -> date:
    return datetime.strptime(text, "%b %d, %Y").date()  # noqa: DTZ007 - a calendar day, no time
