"""Strangers' guesses never keep the owner out (OWASP device cookies; docs/decisions.md).

A browser that has signed in to an account before holds a signed device cookie and is limited only by its own
failures. Other browsers are limited per (account, address) and per address, and per account only slowed (a
wait of at most a minute). The password asked again in Settings counts per session.

Different addresses need a real server: uvicorn believes X-Forwarded-For from 127.0.0.1 (its default trusted
proxy, as `PORTAL_TRUSTED_PROXIES` sets it in a deployment), so each stranger below comes from an address of its
own, as behind the deployment's proxy.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest

from portal.limits import RULES, MemoryCounters, Throttle, device_of, new_device_token
from tests.conftest import PASSWORD, make_user, post_form, sign_up, sql

TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
WAIT = re.compile(r"Please wait (\d+) seconds")
CODE = re.compile(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>")
UNTRUSTED_ACCOUNT_CAP = next(rule.max_wait for rule in RULES if rule.name == "untrusted_account")


class Browser:
    """One browser, at one address, talking to the real server."""

    def __init__(self, base: str, address: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=20,
                                 headers={"X-Forwarded-For": address})

    def post(self, path: str, form: dict[str, str], token_from: str = "/sign-in") -> httpx.Response:
        match = TOKEN.search(self.http.get(token_from).text)
        assert match, f"no CSRF token on {token_from}"
        return self.http.post(path, data={**form, "_csrf_token": match.group(1)})

    def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return self.post("/sign-in", {"username": username, "password": password})

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def browsers(server: str) -> Iterator[list[Browser]]:
    made: list[Browser] = []
    yield made
    for one in made:
        one.close()


def new_browser(browsers: list[Browser], server: str, address: str) -> Browser:
    browsers.append(Browser(server, address))
    return browsers[-1]


def strangers_guess(browsers: list[Browser], server: str, count: int, first: int = 1) -> list[int]:
    """`count` wrong guesses at river's password, each from a browser and address of its own."""
    return [new_browser(browsers, server, f"203.0.113.{n}").sign_in("river", f"guess-{n}-wrong").status_code
            for n in range(first, first + count)]


def wait_in(response: httpx.Response) -> int:
    found = WAIT.search(response.text)
    assert response.status_code == 429 and found, (response.status_code, response.text[:300])
    return int(found.group(1))


def test_after_12_strangers_wrong_guesses_the_owner_signs_in_at_once_and_an_unknown_browser_only_waits(
        settings, server, browsers):
    make_user(settings, "river")
    owner = new_browser(browsers, server, "198.51.100.7")
    assert owner.sign_in("river").headers["location"] == "/home"  # the owner's usual browser, before
    assert owner.post("/sign-out", {}, "/home").status_code == 303

    answers = strangers_guess(browsers, server, 12)
    assert set(answers) <= {400, 429} and 400 in answers, answers
    assert answers[-1] == 429, "the account is slowed for browsers it does not know"

    # The owner's usual browser: in at once, whatever strangers did.
    back = owner.sign_in("river")
    assert back.status_code == 303 and back.headers["location"] == "/home", back.text[:300]

    # The owner on a phone never used before (another address): slowed, not locked. The wait is the account's
    # for unknown browsers, a minute at most, however many more guesses strangers make.
    unknown = new_browser(browsers, server, "198.51.100.99")
    assert 0 < wait_in(unknown.sign_in("river")) <= UNTRUSTED_ACCOUNT_CAP
    for n in range(20, 40):
        guess = new_browser(browsers, server, f"203.0.113.{n}").sign_in("river", f"guess-{n}-wrong")
        assert guess.status_code == 400 or 0 < wait_in(guess) <= UNTRUSTED_ACCOUNT_CAP
    answer = unknown.sign_in("river")
    assert answer.status_code == 303 or 0 < wait_in(answer) <= UNTRUSTED_ACCOUNT_CAP


def test_the_device_cookie_is_signed_long_lived_and_outlives_sign_out(settings, server, browsers):
    make_user(settings, "river")
    owner = new_browser(browsers, server, "198.51.100.7")
    signed_in = owner.sign_in("river")
    header = next(value for value in signed_in.headers.get_list("set-cookie") if value.startswith("wp_device="))
    attributes = header.lower()
    assert "httponly" in attributes and "samesite=strict" in attributes and "path=/" in attributes
    max_age = int(re.search(r"max-age=(\d+)", attributes).group(1))  # type: ignore[union-attr]
    assert max_age >= 364 * 24 * 3600
    value = owner.http.cookies["wp_device"]
    assert "river" not in value.lower()  # a nonce and a signature: no username
    out = owner.post("/sign-out", {}, "/home")
    assert not any(cookie.startswith("wp_device=") for cookie in out.headers.get_list("set-cookie"))
    assert owner.http.cookies["wp_device"] == value


def test_a_device_cookie_of_another_account_or_a_forged_one_counts_as_an_unknown_browser(settings, server, browsers):
    make_user(settings, "river")
    make_user(settings, "mira")
    mira = new_browser(browsers, server, "198.51.100.7")
    assert mira.sign_in("mira").status_code == 303
    assert mira.post("/sign-out", {}, "/home").status_code == 303
    strangers_guess(browsers, server, 12)
    # Mira's browser holds a device cookie for mira, not for river: it waits like any unknown browser.
    assert wait_in(mira.sign_in("river")) > 0
    forged = new_browser(browsers, server, "198.51.100.8")
    kept = next(cookie for cookie in mira.http.cookies.jar if cookie.name == "wp_device")
    nonce = (kept.value or "").split(".")[0]
    forged.http.cookies.set("wp_device", f"{nonce}.{'A' * 43}", domain=kept.domain, path="/")
    assert wait_in(forged.sign_in("river")) > 0
    assert mira.sign_in("mira").status_code == 303  # her own account knows her browser


def test_a_device_that_fails_too_often_waits_alone(settings, server, browsers):
    """The owner's browser typing wrong passwords is limited by its own count; another browser at the same
    address, and the account, are not affected."""
    make_user(settings, "river")
    owner = new_browser(browsers, server, "198.51.100.7")
    assert owner.sign_in("river").status_code == 303
    assert owner.post("/sign-out", {}, "/home").status_code == 303
    answers = [owner.sign_in("river", f"typo-{n}-wrong").status_code for n in range(7)]
    assert answers == [400] * 6 + [429]
    assert wait_in(owner.sign_in("river")) > 0
    # A browser at the same address that this account does not know: its own counts, untouched.
    assert new_browser(browsers, server, "198.51.100.7").sign_in("river").status_code == 303


def test_strangers_guesses_never_block_the_owners_export(server, browsers):
    owner = new_browser(browsers, server, "198.51.100.7")
    made = owner.post("/sign-up", {"username": "river", "password": PASSWORD}, "/sign-up")
    assert made.status_code == 200 and "wp_device" in owner.http.cookies  # the browser that made the account
    assert set(strangers_guess(browsers, server, 12)) <= {400, 429}
    export = owner.post("/settings/export", {"export_password": PASSWORD}, "/settings")
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"


def test_the_owners_typos_in_settings_count_for_that_session_only(server, browsers):
    owner = new_browser(browsers, server, "198.51.100.7")
    assert owner.post("/sign-up", {"username": "river", "password": PASSWORD}, "/sign-up").status_code == 200
    wrong = [owner.post("/settings/export", {"export_password": f"typo-{n}-wrong"}, "/settings").status_code
             for n in range(8)]
    assert wrong == [400] * 8
    # This session's own count holds its password checks back now, even the right password ...
    assert owner.post("/settings/export", {"export_password": PASSWORD}, "/settings").status_code == 400
    # ... and the account is not slowed anywhere else: the owner's other phone, at the same address, signs in.
    assert new_browser(browsers, server, "198.51.100.7").sign_in("river").status_code == 303


# ----- the counters' windows, with a clock of our own ---------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_starts_at_the_first_failure_and_later_failures_never_extend_it() -> None:
    """Six guesses and then one every 5 minutes used to keep the account's count alive for ever. Now the count
    ends an hour after its first failure, whatever came after, and the wait for unknown browsers never passes
    a minute."""
    clock = Clock()
    throttle = Throttle(MemoryCounters(clock), clock=clock)
    subjects = {"untrusted_account": "river"}

    async def scenario() -> list[int]:
        waits = []
        for _ in range(60):  # a stranger's guess whenever the wait allows, for hours
            wait = await throttle.seconds_to_wait(**subjects)
            clock.now += wait  # the guess comes the moment the wait ends
            assert await throttle.seconds_to_wait(**subjects) == 0
            await throttle.failed(**subjects)
            waits.append(await throttle.seconds_to_wait(**subjects))
            clock.now += 1
        return waits

    waits = asyncio.run(scenario())
    assert max(waits) == UNTRUSTED_ACCOUNT_CAP
    assert waits[:10] == [0] * 10  # 10 free, then 2, 4, ... 60

    async def steady() -> list[int]:
        clock.now += 7200  # everything forgotten
        seen = []
        for _ in range(30):  # six guesses at once, then one every 5 minutes: 2.5 hours
            await throttle.failed(**subjects)
            seen.append(await throttle.seconds_to_wait(**subjects))
            clock.now += 300
        return seen

    seen = asyncio.run(steady())
    assert max(seen) <= UNTRUSTED_ACCOUNT_CAP
    # The count starts again at each hour's end (fixed windows): free tries come back, nobody is held for good.
    assert seen.count(0) >= 20


def test_a_device_token_is_bound_to_its_account_and_to_the_secret() -> None:
    token = new_device_token("secret-one", "river")
    assert device_of("secret-one", "river", token) == token.split(".")[0]
    assert device_of("secret-one", "mira", token) is None
    assert device_of("secret-two", "river", token) is None
    for broken in ("", ".", token + "x", token.replace(".", ""), "é" * 20 + "." + "é" * 43, "a" * 5000):
        assert device_of("secret-one", "river", broken) is None


def test_strangers_wrong_recovery_codes_never_keep_the_owner_from_recovering(settings, server, browsers):
    owner = new_browser(browsers, server, "198.51.100.7")
    codes = CODE.findall(owner.post("/sign-up", {"username": "river", "password": PASSWORD}, "/sign-up").text)
    assert len(codes) == 10
    assert owner.post("/sign-out", {}, "/home").status_code == 303
    for n in range(1, 13):
        stranger = new_browser(browsers, server, f"203.0.113.{n}")
        answer = stranger.post("/forgot-password", {"username": "river", "code": f"AAAA{n % 10}-BBBBB",
                                                    "password": "a-new-pass-phrase-1"}, "/forgot-password")
        assert answer.status_code in (400, 429), answer.status_code
    assert answer.status_code == 429  # unknown browsers are slowed for this account
    reset = owner.post("/forgot-password", {"username": "river", "code": codes[0], "password": "a-new-pass-phrase-2"},
                       "/forgot-password")
    assert reset.status_code == 200 and "Your new password is set" in reset.text, reset.text[:300]


def test_asking_for_passkey_options_without_an_account_is_limited_per_address(settings, server, browsers):
    limit = next(rule.free for rule in RULES if rule.name == "passkey_options_address")
    asker = new_browser(browsers, server, "203.0.113.50")
    answers = [asker.post("/passkeys/sign-in/options", {}, "/sign-in").status_code for _ in range(limit + 2)]
    assert answers == [200] * (limit + 1) + [429], answers  # the ask past the free ones starts the wait
    assert new_browser(browsers, server, "203.0.113.51").post("/passkeys/sign-in/options", {}, "/sign-in").status_code == 200
    rows = sql(settings, "SELECT count(*) FROM passkey_challenge")[0][0]
    assert rows == limit + 2  # nothing stored for the refused ask


def test_a_settings_check_that_is_waiting_says_so_instead_of_wrong_password(client):
    sign_up(client, "river")
    for _ in range(6):
        post_form(client, "/settings/delete", {"password": "not-it"}, token_from="/settings")
    refused = post_form(client, "/settings/delete", {"password": PASSWORD}, token_from="/settings")
    assert refused.status_code == 400 and "Too many tries. Please wait" in refused.text
    assert "That password is not right" not in refused.text
