"""Browser tests: the portal served by uvicorn on loopback, driven by Debian's Chromium via Playwright.

Without Chromium they are skipped (and say so); under CI=true a missing Chromium is a failure."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from portal.config import Config

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}: CI must run the browser tests")
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


class Destination:
    """A stand-in for the neutral site Exit now leads to, on loopback."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                body = b"<!doctype html><title>Weather</title><h1>Weather today</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                """Say nothing: the stand-in's requests would only clutter the test output."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/weather"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def destination() -> Iterator[Destination]:
    place = Destination()
    yield place
    place.close()


@pytest.fixture
def settings(settings: Config, destination: Destination) -> Config:
    return replace(settings, exit_url=destination.url)


def _loopback_only(context, seen: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Record every request's host; refuse (and so expose) anything that is not loopback."""

    def handle(route) -> None:  # type: ignore[no-untyped-def]
        host = urlsplit(route.request.url).hostname or ""
        seen.append(host)
        if host in ("localhost", "127.0.0.1"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", handle)


@pytest.fixture
def hosts_seen() -> list[str]:
    return []


@pytest.fixture
def context(browser, hosts_seen):  # type: ignore[no-untyped-def]
    """A phone-sized browser with the pages' own CSP in force; CSP reports become failures."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    _loopback_only(ctx, hosts_seen)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):  # type: ignore[no-untyped-def]
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    yield tab
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not [p for p in problems if "Error" in p and "net::" not in p], problems


@pytest.fixture
def axe_page(browser, hosts_seen):  # type: ignore[no-untyped-def]
    # bypass_csp only so axe can be injected; the pages' own CSP is checked by the other browser tests.
    context = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 844})
    _loopback_only(context, hosts_seen)
    yield context.new_page()
    context.close()
