"""Documents over HTTP: encrypted at rest, byte-identical round trip, kind by content, size limits
while streaming, interrupted uploads leaving nothing, bad names, and nobody else's."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from app import create_app
from portal.db import make_engine
from portal.config import Config, new_document_key
from tests.conftest import BASE_URL, _free_port, csrf_token, post_form, run, sign_up

ROOT = Path(__file__).resolve().parent.parent
MARKER = b"PLAINTEXT-MARKER-"  # repeated through test files: must never be found in storage
PDF = b"%PDF-1.7\n" + MARKER * 10
PNG = b"\x89PNG\r\n\x1a\n" + MARKER * 10
KINDS = {
    "pdf": (PDF, "application/pdf"),
    "png": (PNG, "image/png"),
    "jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + MARKER, "image/jpeg"),
    "webp": (b"RIFF\x24\x00\x00\x00WEBPVP8 " + MARKER, "image/webp"),
    "heic": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00" + MARKER, "image/heic"),
}


def big_file(size: int, head: bytes = b"%PDF-1.7\n") -> bytes:
    """A file of `size` bytes: a real header, then the marker and random bytes (so no chunk repeats)."""
    body = bytearray(head)
    while len(body) < size:
        body += MARKER + os.urandom(4093)
    return bytes(body[:size])


def upload(client, content: bytes, filename: str = "scan.pdf", *, name: str = "Passport", kind: str = "id",  # type: ignore[no-untyped-def]
           expires_on: str = "", token: str | None = None, content_type: str = "application/octet-stream"):
    data = {"_csrf_token": csrf_token(client) if token is None else token, "name": name, "kind": kind, "expires_on": expires_on}
    return client.post("/documents", data=data, files={"file": (filename, content, content_type)}, follow_redirects=False)


def stored(settings: Config) -> tuple[int, list[bytes]]:
    """How many document rows there are, and every stored chunk's bytes."""

    async def read() -> tuple[int, list[bytes]]:
        engine = make_engine(settings.database_url)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT count(*) FROM document"))).scalar_one()
            chunks = [bytes(row[0]) for row in await conn.execute(text("SELECT data FROM document_chunk"))]
        await engine.dispose()
        return rows, chunks

    return run(read())


def nothing_stored(settings: Config) -> bool:
    rows, chunks = stored(settings)
    spool = settings.data_dir / "uploads"
    return rows == 0 and chunks == [] and (not spool.exists() or not list(spool.iterdir()))


# ----- the round trip -------------------------------------------------------------------------


def test_upload_then_download_is_byte_identical_and_stored_only_encrypted(client, settings):
    sign_up(client, "river")
    content = big_file(700_001)  # three chunks of 256 KiB, the last one short
    response = upload(client, content, "passport-scan.pdf", name="Passport", kind="id", expires_on="2031-05-01")
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    assert re.fullmatch(r"/documents/[A-Za-z0-9_-]{16}", url)

    page = client.get(url).text
    assert "Passport" in page and "ID" in page and "2031-05-01" in page and "Download" in page
    assert "<title>Waypoint – Documents</title>" in page and "Only you can see this" in page

    download = client.get(f"{url}/download")
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == 'attachment; filename="document.pdf"'
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["cache-control"] == "no-store"
    assert download.headers["content-length"] == str(len(content))

    rows, chunks = stored(settings)
    assert rows == 1 and len(chunks) == 3
    everything = b"".join(chunks)
    assert MARKER not in everything and content[:4096] not in everything
    assert len(everything) == len(content) + 3 * 16  # each chunk: ciphertext plus its GCM tag


def test_nothing_the_database_keeps_holds_the_plaintext(client, settings):
    """SQLite: every file of the database on disk (with its write-ahead log). PostgreSQL: every column
    of every row of every table, as the server returns it."""
    sign_up(client, "river")
    assert upload(client, big_file(300_000)).status_code == 303
    if settings.sqlite:
        database = Path(urlsplit(settings.database_url).path)
        files = list(database.parent.iterdir())
        assert any(path.name.endswith("-wal") or path.suffix == ".db" for path in files)
        for path in files:
            assert MARKER not in path.read_bytes(), path.name
        return

    async def every_value() -> list[bytes]:
        engine = make_engine(settings.database_url)
        values: list[bytes] = []
        async with engine.connect() as conn:
            tables = (await conn.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"))).scalars().all()
            for table in tables:
                for row in await conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608 - names from the catalogue
                    values += [bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode() for value in row]
        await engine.dispose()
        return values

    values = run(every_value())
    assert sum(len(value) for value in values) > 300_000  # the encrypted chunks really are among them
    assert all(MARKER not in value for value in values)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_allowed_kind_is_judged_by_its_content(client, kind):
    sign_up(client, "river")
    content, media_type = KINDS[kind]
    response = upload(client, content, "no-extension-at-all", content_type="text/plain")
    assert response.status_code == 303, response.text
    download = client.get(response.headers["location"] + "/download")
    assert download.content == content and download.headers["content-type"] == media_type
    assert download.headers["content-disposition"].endswith(f'.{"jpg" if kind == "jpg" else kind}"')


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 500, "passport.pdf", "cannot be kept here"),  # a renamed .exe
        (b"<html><script>alert(1)</script></html>", "letter.png", "cannot be kept here"),
        (b"%PD", "tiny.pdf", "cannot be kept here"),
        (b"", "empty.pdf", "This file is empty"),
    ],
)
def test_other_content_is_refused_whatever_its_name_and_nothing_is_kept(client, settings, content, filename, message):
    sign_up(client, "river")
    response = upload(client, content, filename, content_type="application/pdf")
    assert response.status_code == 400
    assert message in response.text and 'aria-invalid="true"' in response.text
    assert nothing_stored(settings)


def test_a_refused_file_keeps_what_was_typed_in_the_other_fields(client, settings):
    sign_up(client, "river")
    response = upload(client, b"MZ\x90\x00" + b"\x00" * 500, "passport.pdf", name="My <visa>", kind="immigration",
                      expires_on="2030-01-31")
    assert response.status_code == 400 and "cannot be kept here" in response.text
    assert 'value="My &lt;visa&gt;"' in response.text and 'value="2030-01-31"' in response.text
    assert re.search(r'<option value="immigration"\s+selected', response.text)
    assert 'id="name-error"' not in response.text
    assert nothing_stored(settings)


def test_a_file_over_the_limit_is_refused_as_it_arrives(app, settings):
    from litestar.testing import TestClient

    small = replace(settings, upload_max_mb=1)
    with TestClient(create_app(small), base_url=BASE_URL) as client:
        sign_up(client, "river")
        response = upload(client, big_file(1024 * 1024 + 1))
        assert response.status_code == 413
        assert "larger than 1 MB" in response.text
        assert upload(client, big_file(1024 * 1024)).status_code == 303  # the limit itself is allowed
    rows, _chunks = stored(settings)
    assert rows == 1


def test_no_file_chosen_is_a_message_beside_the_field(client, settings):
    sign_up(client, "river")
    response = upload(client, b"", "")
    assert response.status_code == 400 and "Choose a file to upload." in response.text
    assert nothing_stored(settings)


# ----- the other fields -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"kind": ""}, "kind", "Choose a type."),
        ({"kind": "weapons"}, "kind", "Choose a type."),
        ({"expires_on": "2027-02-31"}, "expires_on", "Enter a real date"),
        ({"expires_on": "1900-01-01"}, "expires_on", "Choose a date between"),
        ({"expires_on": "3000-01-01"}, "expires_on", "Choose a date between"),
        ({"name": "x" * 201}, "name", "200 characters or fewer"),
    ],
)
def test_bad_details_keep_what_was_typed_and_store_nothing(client, settings, fields, field, message):
    sign_up(client, "river")
    values = {"name": "My visa", "kind": "immigration", "expires_on": "", **fields}
    response = upload(client, PDF, **values)
    assert response.status_code == 400
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert "Choose the file again" in response.text  # a file is never kept back for the form
    if field != "name":
        assert 'value="My visa"' in response.text
    assert nothing_stored(settings)


def test_names_from_files_lose_folders_and_direction_tricks_and_html_stays_text(client, settings):
    sign_up(client, "river")
    first = upload(client, PDF, "../../etc/passwd.pdf", name="")
    assert first.status_code == 303
    assert "<bdi>passwd</bdi>" in client.get(first.headers["location"]).text

    second = upload(client, PDF, "invoice\u202efdp.exe", name="")
    page = client.get(second.headers["location"]).text
    assert "\u202e" not in page and "invoicefdp" in page

    third = upload(client, PDF, "x.pdf", name="<script>alert('x')</script> عقد الإيجار")
    listing = client.get("/documents").text
    assert "<script>alert" not in listing and "&lt;script&gt;" in listing and "عقد الإيجار" in listing
    assert third.status_code == 303


def test_without_the_csrf_token_nothing_is_read_or_kept(client, settings):
    sign_up(client, "river")
    response = upload(client, PDF, token="forged")
    assert response.status_code == 403
    response = upload(client, PDF, token="")
    assert response.status_code == 403
    assert nothing_stored(settings)


def test_htmx_sends_the_token_as_a_header(client):
    sign_up(client, "river")
    token = csrf_token(client)
    response = client.post("/documents", data={"name": "Visa", "kind": "immigration"}, files={"file": ("v.pdf", PDF)},
                           headers={"X-CSRFToken": token}, follow_redirects=False)
    assert response.status_code == 303


def test_a_form_that_is_not_multipart_is_refused_plainly(client, settings):
    sign_up(client, "river")
    token = csrf_token(client)
    response = client.post("/documents", data={"name": "Visa", "kind": "id"}, headers={"x-csrftoken": token})
    assert response.status_code == 400 and "did not arrive whole" in response.text
    assert post_form(client, "/documents", {"name": "Visa", "kind": "id"}).status_code == 403  # token not readable
    response = client.post("/documents", content=b"--x\r\nbroken", headers={
        "content-type": "multipart/form-data; boundary=x", "x-csrftoken": csrf_token(client)})
    assert response.status_code == 400
    assert nothing_stored(settings)


# ----- change, delete, expiry -----------------------------------------------------------------


def test_change_details_then_delete_removes_the_chunks_too(client, settings):
    sign_up(client, "river")
    url = upload(client, big_file(300_000)).headers["location"]
    response = post_form(client, f"{url}/edit", {"name": "Old passport", "kind": "immigration", "expires_on": "2030-01-31"})
    assert response.status_code == 303
    page = client.get(url).text
    assert "Old passport" in page and "Immigration" in page and "2030-01-31" in page
    bad = post_form(client, f"{url}/edit", {"name": "", "kind": "immigration", "expires_on": "2030-02-30"})
    assert bad.status_code == 400 and "Give the document a name" in bad.text and "Enter a real date" in bad.text

    assert "Delete this document?" in client.get(f"{url}/delete").text
    assert post_form(client, f"{url}/delete").status_code == 303
    assert client.get(url).status_code == 404
    assert nothing_stored(settings)


def test_documents_expiring_within_60_days_are_flagged(client):
    sign_up(client, "river")
    today = date.today()
    for name, days in (("Soon", 30), ("Later", 90), ("Gone", -3), ("Never", None)):
        expires = (today + timedelta(days=days)).isoformat() if days is not None else ""
        upload(client, PDF, name=name, expires_on=expires)
    cards = {re.search(r"<bdi>(\w+)</bdi>", card).group(1): card  # type: ignore[union-attr]
             for card in client.get("/documents").text.split('<li class="card" id=')[1:]}
    assert "Expires within 60 days" in cards["Soon"]
    assert "Expired" in cards["Gone"]
    assert "Expire" not in cards["Later"].replace("Expires on", "") and "Expire" not in cards["Never"]


def test_the_list_is_paginated(client):
    sign_up(client, "river")
    for number in range(21):
        upload(client, PDF, name=f"Paper {number}")
    first = client.get("/documents").text
    assert first.count('<li class="card" id=') == 20 and "Paper 20" in first and "Paper 0<" not in first
    second = client.get("/documents?page=2").text
    assert second.count('<li class="card" id=') == 1 and "Paper 0" in second


def test_another_survivor_gets_404_for_every_document_url(client, other_client, settings):
    sign_up(client, "river")
    url = upload(client, PDF).headers["location"]
    sign_up(other_client, "someone-else")
    for path in (url, f"{url}/edit", f"{url}/delete", f"{url}/download"):
        assert other_client.get(path).status_code == 404, path
    for path in (f"{url}/edit", f"{url}/delete"):
        assert post_form(other_client, path, {"name": "x", "kind": "id"}).status_code == 404, path
    assert client.get(f"{url}/download").status_code == 200  # still there, untouched
    rows, _chunks = stored(settings)
    assert rows == 1


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get("/documents", follow_redirects=False).headers["location"] == "/sign-in"
    assert client.post("/documents", files={"file": ("a.pdf", PDF)}, follow_redirects=False).status_code in (401, 403)


# ----- keys -----------------------------------------------------------------------------------


def test_under_another_master_key_a_document_is_reported_not_garbled(client, settings):
    from litestar.testing import TestClient

    sign_up(client, "river")
    url = upload(client, PDF).headers["location"]
    cookies = dict(client.cookies)
    other = replace(settings, document_key=new_document_key())
    with TestClient(create_app(other), base_url=BASE_URL, cookies=cookies) as second:
        response = second.get(f"{url}/download")
    assert response.status_code == 500 and "cannot be opened right now" in response.text
    assert MARKER not in response.content


# ----- cut off uploads and start-up clean-up --------------------------------------------------


FILE_PART = 'name="file"; filename="a.pdf"\r\nContent-Type: application/pdf'


def _multipart_head(token: str, boundary: str = "cutoff", part: str = FILE_PART) -> bytes:
    return (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf_token\"\r\n\r\n{token}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; {part}\r\n\r\n"
    ).encode()


def _signed_in_cookies(server: str) -> tuple[str, str]:
    """Sign up through the live server; return the Cookie header and a CSRF token."""
    import httpx

    with httpx.Client(base_url=server) as browser:
        token = re.search(r'"X-CSRFToken": "([^"]+)"', browser.get("/sign-up").text).group(1)  # type: ignore[union-attr]
        browser.post("/sign-up", data={"_csrf_token": token, "username": "river", "password": "plum-orchard-lantern"})
        token = re.search(r'"X-CSRFToken": "([^"]+)"', browser.get("/documents/new").text).group(1)  # type: ignore[union-attr]
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    return cookie, token


def _open_upload(server: str, cookie: str, length: int | None) -> socket.socket:
    host, port = urlsplit(server).hostname, urlsplit(server).port
    connection = socket.create_connection(("127.0.0.1", port))
    size = f"Content-Length: {length}\r\n" if length is not None else "Transfer-Encoding: chunked\r\n"
    connection.sendall(
        f"POST /documents HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary=cutoff\r\n{size}\r\n".encode()
    )
    return connection


def test_an_upload_cut_off_half_way_leaves_no_row_no_chunk_and_no_file(server, settings):
    cookie, token = _signed_in_cookies(server)
    connection = _open_upload(server, cookie, 3_000_000)
    connection.sendall(_multipart_head(token) + big_file(1_200_000))
    time.sleep(0.5)
    connection.close()  # the phone lost its signal
    time.sleep(0.5)
    assert nothing_stored(settings)


@pytest.mark.parametrize("part", [FILE_PART, 'name="file"; filename=""', 'name="name"'],
                         ids=["a file", "bytes under an empty file name", "a text field"])
def test_a_200_mb_upload_is_refused_without_being_read(server, settings, part):
    cookie, token = _signed_in_cookies(server)
    # Declared: answered before the body is read.
    connection = _open_upload(server, cookie, 200 * 1024 * 1024)
    connection.settimeout(10)
    assert connection.recv(4096).startswith(b"HTTP/1.1 413")
    connection.close()
    # Not declared (chunked): the server stops taking it soon after the limit, whatever the part holds.
    connection = _open_upload(server, cookie, None)
    connection.settimeout(5)
    sent, piece, head = 0, big_file(1024 * 1024), _multipart_head(token, part=part)
    deadline = time.monotonic() + 60
    while sent < 200 * 1024 * 1024 and time.monotonic() < deadline:
        if select.select([connection], [], [], 0)[0]:
            break  # the answer is in
        data = head + piece if sent == 0 else piece
        try:
            connection.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            break  # the server stopped taking it
        sent += len(data)
    connection.settimeout(10)
    answer = connection.recv(4096)
    connection.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    limit = settings.upload_max_mb * 1024 * 1024
    assert sent < 2 * limit + 16 * 1024 * 1024, sent  # far short of 200 MB: refused while it streamed
    assert nothing_stored(settings)


def test_a_killed_server_leaves_no_row_and_start_up_removes_orphan_chunks(settings, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "PORTAL_DATA_DIR": str(settings.data_dir),
           "PORT": str(port), "REDIS_URL": settings.redis_url}
    process = subprocess.Popen([sys.executable, "-m", "portal", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server = f"http://localhost:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "the server did not start"
                time.sleep(0.1)
        cookie, token = _signed_in_cookies(server)
        connection = _open_upload(server, cookie, 3_000_000)
        connection.sendall(_multipart_head(token) + big_file(1_500_000))
        time.sleep(0.5)
        process.kill()  # mid-upload, without any chance to clean up
        process.wait(timeout=10)
        connection.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert nothing_stored(settings)

    # Chunks no document owns (as another storage's failed commit might leave) go at start-up.
    async def plant() -> None:
        engine = make_engine(settings.database_url)
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO document_chunk (storage_key, position, data) VALUES ('orphan', 0, :d)"),
                               {"d": b"\x00" * 64})
        await engine.dispose()

    run(plant())
    assert stored(settings)[1] != []
    from litestar.testing import TestClient

    with TestClient(create_app(settings), base_url=BASE_URL) as started:  # start-up runs the clean-up
        assert started.get("/healthz").status_code == 200
    assert stored(settings)[1] == []


def test_start_up_keeps_chunks_that_belong_to_documents(client, settings):
    sign_up(client, "river")
    url = upload(client, big_file(300_000)).headers["location"]
    from litestar.testing import TestClient

    with TestClient(create_app(settings), base_url=BASE_URL) as started:  # start-up runs the clean-up
        assert started.get("/healthz").status_code == 200
    assert len(stored(settings)[1]) == 2
    assert client.get(f"{url}/download").status_code == 200



# ----- a refused upload, then the corrected one ---------------------------------------------------


def _form_token(html: str) -> str:
    """The token a browser sends with this form: its hidden `_csrf_token` field (empty if it has none)."""
    match = re.search(r'<form method="post" action="/documents".*?name="_csrf_token" value="([^"]*)"', html, re.S)
    assert match, "the upload form has no token field"
    return match.group(1)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"content": b"MZ\x90\x00" + b"\x00" * 500, "filename": "passport.exe"}, {}),  # wrong kind
        ({"content": PDF, "kind": ""}, {}),  # a required field left empty
        ({"content": b"", "filename": ""}, {}),  # no file chosen
        ({"content": b"MZ", "filename": "a.exe"}, {"content": b"MZ", "filename": "a.exe"}),  # refused twice
    ],
)
def test_a_refused_upload_followed_by_a_good_one_stores_the_good_one(client, settings, first, second):
    sign_up(client, "river")
    refused = upload(client, **{"name": "Passport", **first})
    assert refused.status_code in (400, 413)
    for retry in ([second] if second else []):
        refused = upload(client, **retry, token=_form_token(refused.text))
        assert refused.status_code == 400
    token = _form_token(refused.text)
    assert token, "the form came back with an empty token"
    assert re.search(r'"X-CSRFToken": "([^"]+)"', refused.text), "htmx requests from this page would carry no token"
    good = upload(client, PDF, "passport.pdf", token=token)
    assert good.status_code == 303, good.text
    assert stored(settings)[0] == 1


def test_the_upload_form_lets_the_browser_refuse_before_sending_the_file(client):
    sign_up(client, "river")
    form = client.get("/documents/new").text
    upload_form = re.search(r'<form method="post" action="/documents"[^>]*>', form)
    assert upload_form and "novalidate" not in upload_form.group(0)
    assert re.search(r'<input id="file" name="file" type="file"[^>]*\srequired', form)
    assert re.search(r'<select id="kind"[^>]*\srequired', form)
    assert not re.search(r'<input id="name"[^>]*\srequired', form)  # an empty name takes the file's
