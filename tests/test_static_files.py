"""Static files from memory (portal/static_files.py): hashed names kept a year, plain names revalidated, a stale
hash or anything outside static/ a 404, one ETag per encoding, 304 with no body, brotli and gzip made once."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import re
from pathlib import Path
from urllib.parse import unquote

import brotli
import pytest

from portal.static_files import StaticAssets, accepts

STATIC = Path(__file__).resolve().parent.parent / "static"
CSS = (STATIC / "css" / "app.css").read_bytes()
VERSION = hashlib.sha256(CSS).hexdigest()[:12]
HASHED = f"/static/css/app.{VERSION}.css"


def test_a_hashed_name_is_kept_a_year_with_its_etag(client):
    answer = client.get(HASHED, headers={"Accept-Encoding": ""})
    assert answer.status_code == 200 and answer.content == CSS
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["etag"] == f'"{VERSION}"'
    assert answer.headers["content-type"] == "text/css; charset=utf-8"
    assert answer.headers["content-length"] == str(len(CSS))
    assert answer.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in answer.headers
    assert "set-cookie" not in answer.headers  # nothing of anyone: no CSRF cookie either
    # The app's headers are on it too (before_send).
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in answer.headers["content-security-policy"]


@pytest.mark.parametrize(("asked", "encoding", "decode"), [
    ("br", "br", brotli.decompress), ("gzip, deflate, br, zstd", "br", brotli.decompress),
    ("gzip", "gzip", gzip.decompress), ("br;q=0, gzip;q=0.5", "gzip", gzip.decompress),
    ("*", "br", brotli.decompress), ("identity", None, bytes), ("br;q=0, gzip;q=0", None, bytes),
])
def test_each_encoding_decodes_to_the_files_exact_bytes_with_its_own_etag(client, asked, encoding, decode):
    with client.stream("GET", HASHED, headers={"Accept-Encoding": asked}) as answer:
        raw = b"".join(answer.iter_raw())  # the body as sent, before the client decodes it
    assert answer.headers.get("content-encoding") == encoding
    assert decode(raw) == CSS and int(answer.headers["content-length"]) == len(raw)
    assert answer.headers["etag"] == (f'"{VERSION}-{encoding}"' if encoding else f'"{VERSION}"')
    if encoding:
        assert len(raw) < len(CSS)


def test_if_none_match_gets_304_with_no_body(client):
    first = client.get(HASHED, headers={"Accept-Encoding": "br"})
    again = client.get(HASHED, headers={"Accept-Encoding": "br", "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"] and "immutable" in again.headers["cache-control"]
    assert again.headers["vary"] == "Accept-Encoding"
    # The brotli ETag does not match the gzip body: that is a full answer.
    other = client.get(HASHED, headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]})
    assert other.status_code == 200 and other.headers["content-encoding"] == "gzip"
    weak_in_a_list = f'"nope", W/{first.headers["etag"]}'
    assert client.get(HASHED, headers={"Accept-Encoding": "br", "If-None-Match": weak_in_a_list}).status_code == 304


def test_the_plain_name_still_answers_but_is_revalidated(client):
    answer = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200 and answer.content == CSS
    assert answer.headers["cache-control"] == "no-cache"
    assert answer.headers["etag"] == f'"{VERSION}-gzip"'
    again = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip", "If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and again.headers["cache-control"] == "no-cache"


def test_head_gives_the_headers_of_get_and_no_body(client):
    get = client.get(HASHED, headers={"Accept-Encoding": "br"})
    head = client.head(HASHED, headers={"Accept-Encoding": "br"})
    assert head.status_code == 200 and head.content == b""
    for name in ("content-type", "content-length", "content-encoding", "etag", "cache-control", "vary"):
        assert head.headers[name] == get.headers[name], name
    assert client.head("/static/css/nope.css").status_code == 404


@pytest.mark.parametrize("path", [
    "/static/css/app.000000000000.css",  # another version of the file: never other bytes under an immutable name
    f"/static/css/app.{VERSION[:-1]}.css", f"/static/app.{VERSION}.css", "/static/css/app.css.br",
    "/static/css", "/static/css/", "/static/", "/static/nope.js",
    "/static/%2e%2e/app.py", "/static/css/%2e%2e/%2e%2e/app.py", "/static/..%2fapp.py", "/static/css/..%2F..%2Fapp.py",
    "/static/%2e%2e%2fportal%2fconfig.py", "/static//etc/passwd", "/static/%2Fetc%2Fpasswd",
])
def test_stale_hashes_unknown_names_folders_and_escapes_are_404(client, path):
    answer = client.get(path)
    assert answer.status_code == 404, path
    assert answer.headers["x-content-type-options"] == "nosniff"


def _raw_status(app, raw_path: bytes) -> int:  # type: ignore[no-untyped-def]
    """Straight to the ASGI app with the path as typed: httpx folds `..` and `.` away before sending (curl would
    too, without --path-as-is)."""
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": unquote(raw_path.decode()), "raw_path": raw_path, "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver.local")], "client": ("127.0.0.1", 1), "server": ("testserver.local", 80)}
    asyncio.run(app(scope, receive, send))
    return int(sent[0]["status"])


@pytest.mark.parametrize("raw", [b"/static/../app.py", b"/static/css/../../portal/config.py", b"/static/./css/app.css",
                                 b"/static/css/./app.css", b"/static/%2e%2e/app.py", b"/static/..%2f..%2fapp.py",
                                 b"/static/css/..\\..\\app.py", b"/static/css/app.css%00.png"])
def test_traversal_left_as_typed_is_404(app, raw):
    assert _raw_status(app, b"/static/css/app.css") == 200  # the same way in, for a file that is there
    assert _raw_status(app, raw) == 404, raw


def test_pages_link_hashed_names_whose_integrity_matches_the_bytes_served(client):
    page = client.get("/sign-in").text
    tags = re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="(/static/[^"]+)"[^>]*>', page)
    assert len(tags) >= 4
    for tag in re.finditer(r'<(?:script|link)\b[^>]*?(?:src|href)="(/static/[^"]+)"[^>]*?>', page):
        url = tag.group(1)
        assert re.fullmatch(r"/static/[\w/.-]+\.[0-9a-f]{12}\.\w+", url), url
        answer = client.get(url, headers={"Accept-Encoding": "br, gzip"})  # decoded by the client, as a browser does
        assert answer.status_code == 200 and "immutable" in answer.headers["cache-control"], url
        integrity = re.search(r'integrity="([^"]+)"', tag.group(0))
        if integrity:
            digest = base64.b64encode(hashlib.sha384(answer.content).digest()).decode()
            assert integrity.group(1) == f"sha384-{digest}", url


def test_the_manifest_names_hashed_icons(client):
    for icon in client.get("/manifest.webmanifest").json()["icons"]:
        assert re.fullmatch(r"/static/icons/[\w-]+\.[0-9a-f]{12}\.(png|svg)", icon["src"]), icon
        assert "immutable" in client.get(icon["src"]).headers["cache-control"]


def test_only_text_is_compressed_and_only_when_smaller():
    assets = StaticAssets(STATIC)
    assert assets.file("icons/icon-192.png").brotli is None and assets.file("icons/icon-192.png").gzip is None
    assert assets.file("icons/notes-512.png").brotli is None  # would shrink, but a PNG is not worth the work
    svg = assets.file("icons/icon.svg")
    assert svg.brotli and svg.gzip and svg.media_type == "image/svg+xml; charset=utf-8"
    assert assets.file("js/htmx.min.js").media_type == "text/javascript; charset=utf-8"
    assert assets.file("icons/icon-192.png").media_type == "image/png"
    assert assets.size() < 1_000_000  # all of it is kept in memory


def test_a_png_has_one_answer_whatever_is_accepted(client):
    url = StaticAssets(STATIC).url("icons/icon-192.png")
    answer = client.get(url, headers={"Accept-Encoding": "br, gzip"})
    assert answer.status_code == 200 and "content-encoding" not in answer.headers and "vary" not in answer.headers
    assert answer.content == (STATIC / "icons" / "icon-192.png").read_bytes()


@pytest.mark.parametrize(("header", "expected"), [
    ("", (False, False)), ("gzip", (False, True)), ("br", (True, False)), ("BR;Q=1.0", (True, False)),
    ("br;q=0", (False, False)), ("br;q=0.000, gzip;q=0.001", (False, True)), ("*;q=0.1", (True, True)),
    ("*, br;q=0", (False, True)), ("br;q=oops", (False, False)), ("x-gzip", (False, True)), (" , ;", (False, False)),
])
def test_accept_encoding_is_read_with_its_weights(header, expected):
    assert accepts(header) == expected
