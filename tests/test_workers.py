"""Several app processes on one database, as a deployment with a load balancer runs them: uvicorn
processes started as deployed, each on a loopback port of its own, so a test chooses which one answers
each request. A person signed in through one carries on through another (sessions in the database, or
in Redis when REDIS_URL is set); a goal written through one is read through the other; signing out
through one ends the session everywhere; a mentor's message written through one reaches the survivor
polling another; with Redis, failed sign-ins count across processes, so spreading guesses over the
workers gains nothing, and the owner's device cookie is known to every worker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench import server
from portal.models import Role
from portal.config import Config
from tests.conftest import PASSWORD, REDIS_URL, deployment_env, make_connection, make_user

TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}  # as the open thread asks


@pytest.fixture
def workers(settings: Config, tmp_path: Path) -> Iterator[list[str]]:
    """Two app processes on the test database; their base URLs."""
    started = [server.start("app:create_app", deployment_env(settings), tmp_path / f"worker-{n}.log") for n in range(2)]
    try:
        for one in started:
            one.wait_until_up()
        yield [one.url for one in started]
    finally:
        for one in started:
            one.stop()


class Browser:
    """One browser whose every request may go to a different worker (its cookies go with it)."""

    def __init__(self) -> None:
        self.http = httpx.Client(follow_redirects=False, timeout=20)

    def get(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.get(url, headers=headers)

    def post(self, url: str, form: dict[str, str], token_from: str) -> httpx.Response:
        page = self.http.get(token_from)
        match = TOKEN.search(page.text)
        assert match, f"no CSRF token on {token_from}: {page.status_code}"
        return self.http.post(url, data={**form, "_csrf_token": match.group(1)})

    def sign_in(self, base: str, username: str, password: str = PASSWORD) -> httpx.Response:
        return self.post(f"{base}/sign-in", {"username": username, "password": password}, f"{base}/sign-in")

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    one = Browser()
    yield one
    one.close()


def test_signed_in_through_one_worker_and_carrying_on_through_the_other(settings, workers, browser):
    first, second = workers
    make_user(settings, "river")
    assert browser.sign_in(first, "river").headers["location"] == "/home"

    home = browser.get(f"{second}/home")
    assert home.status_code == 200 and "Sign out" in home.text, home.status_code
    saved = browser.post(f"{second}/goals", {"title": "Find a flat near the park", "area": "housing"}, f"{second}/goals/new")
    assert saved.status_code == 303, saved.text[:500]
    assert "Find a flat near the park" in browser.get(f"{first}/goals").text

    assert browser.post(f"{second}/sign-out", {}, f"{second}/home").status_code == 303
    after = browser.get(f"{first}/home")
    assert after.status_code in (302, 303) and after.headers["location"].startswith("/sign-in"), after.status_code


def test_a_message_written_through_one_worker_reaches_the_survivor_on_the_other(settings, workers, browser):
    first, second = workers
    make_user(settings, "river")
    make_user(settings, "ana", Role.MENTOR)
    connection = make_connection(settings, "river", "ana", label="Jo")
    mentor = Browser()
    try:
        assert mentor.sign_in(first, "ana").status_code == 303
        assert browser.sign_in(second, "river").status_code == 303
        thread = browser.get(f"{second}/messages/{connection}").text
        since = re.search(r'hx-get="/messages/[^"/]+/new\?after=([^"&]+)', thread)
        assert since, "the open thread asks for news"
        news = f"{second}/messages/{connection}/new?after={since.group(1)}"
        assert browser.get(news, HTMX).status_code == 204  # nothing new yet

        sent = mentor.post(f"{first}/messages/{connection}", {"body": "How is your week going?"}, f"{first}/messages/{connection}")
        assert sent.status_code == 303, sent.text[:500]
        fresh = browser.get(news, HTMX)
        assert fresh.status_code == 200 and "How is your week going?" in fresh.text, fresh.status_code
    finally:
        mentor.close()


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (REDIS_URL): without it each process counts on its own")
def test_failed_sign_ins_count_across_workers(settings, workers, browser):
    make_user(settings, "river")
    owner = Browser()  # the owner's usual browser: it signed in before, so it holds the account's device cookie
    try:
        assert owner.sign_in(workers[1], "river").status_code == 303
        assert owner.post(f"{workers[1]}/sign-out", {}, f"{workers[1]}/home").status_code == 303
        answers = [browser.sign_in(workers[n % 2], "river", "not-the-password").status_code for n in range(7)]
        # Five free tries per account and address, then a wait: wherever the guesses land, the sixth is held back.
        assert answers[:5] == [400] * 5 and 429 in answers[5:], answers
        held = browser.sign_in(workers[0], "river")
        assert held.status_code == 429, "the right password must wait too, or the wait tells a guess was right"
        # The device cookie is signed with the deployment's secret: every worker knows it.
        assert owner.sign_in(workers[0], "river").status_code == 303
    finally:
        owner.close()
