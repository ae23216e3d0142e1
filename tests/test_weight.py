"""What a phone downloads for each page on a first visit, compressed as a browser asks for it
(`br, gzip`): the page itself and every style sheet, script, icon and manifest it links to. The bar
(QUALITY.md): at most 60 KB in all, at most 15 KB of it JavaScript; bodies are counted, not headers.
`python -m bench` prints the same on the wire, headers included, and the repeat visit."""

from __future__ import annotations

import re

import pytest

from portal.models import Role
from tests.conftest import make_user, sign_in, sign_up

ASSET = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="(/[^"]+)"[^>]*>')
FIRST_VISIT_MAX = 60 * 1024
SCRIPT_MAX = 15 * 1024
SURVIVOR_PAGES = ["/home", "/goals", "/goals/new", "/appointments", "/documents", "/check-ins", "/check-ins/new",
                  "/messages", "/sharing", "/sharing/log", "/settings", "/settings/safety", "/settings/security", "/settings/reminders", "/settings/language",
                  "/settings/data", "/safety"]


def weigh(client, path: str) -> tuple[int, int, list[str]]:  # type: ignore[no-untyped-def]
    """(bytes in all, bytes of JavaScript, what was fetched) for a first visit to `path`."""
    headers = {"Accept-Encoding": "br, gzip"}
    page = client.get(path, headers=headers)
    assert page.status_code == 200, (path, page.status_code)
    total, script, fetched = page.num_bytes_downloaded, 0, [path]
    for asset in dict.fromkeys(m.group(1) for m in ASSET.finditer(page.text) if "apple-touch-icon" not in m.group(0)):
        answer = client.get(asset, headers=headers)
        assert answer.status_code == 200, asset
        total += answer.num_bytes_downloaded
        fetched.append(f"{asset} {answer.num_bytes_downloaded} {answer.headers.get('content-encoding', '')}")
        if asset.split("?", 1)[0].endswith(".js"):
            script += answer.num_bytes_downloaded
    return total, script, fetched


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_static_files_come_compressed_as_asked(client, encoding):
    page = client.get("/sign-in").text
    script = re.search(r'<script src="(/static/js/htmx\.min\.[0-9a-f]{12}\.js)"', page)
    assert script
    answer = client.get(script.group(1), headers={"Accept-Encoding": encoding})
    assert answer.headers["content-encoding"] == encoding
    assert "max-age=31536000" in answer.headers["cache-control"]


def test_every_survivor_page_is_light_on_a_first_visit(client):
    sign_up(client, "river")
    for path in SURVIVOR_PAGES:
        total, script, fetched = weigh(client, path)
        assert total <= FIRST_VISIT_MAX, (path, total, fetched)
        assert script <= SCRIPT_MAX, (path, script, fetched)


def test_signed_out_and_staff_pages_are_light_too(client, settings):
    for path in ["/", "/sign-in", "/sign-up", "/forgot-password"]:
        total, script, fetched = weigh(client, path)
        assert total <= FIRST_VISIT_MAX and script <= SCRIPT_MAX, (path, total, script, fetched)
    make_user(settings, "Ana", Role.CASEWORKER)
    sign_in(client, "Ana")
    for path in ["/people", "/settings", "/settings/security"]:
        total, script, fetched = weigh(client, path)
        assert total <= FIRST_VISIT_MAX and script <= SCRIPT_MAX, (path, total, script, fetched)
