"""The journal over HTTP: dated entries (when it happened, what, where), refused forms that keep what was typed,
edits that keep the earlier words (shown to the survivor and to a caseworker the entry is shared with), photos
and PDFs encrypted like documents and opened only by those who may read the entry, and nothing left behind by a
delete, the export or the account's deletion."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, timedelta

from litestar.testing import TestClient

from app import create_app
from portal.models import Role
from tests.conftest import BASE_URL, PASSWORD, csrf_token, make_connection, make_user, post_form, sign_in, sign_up, sql
from tests.test_documents import MARKER, PDF, PNG, big_file

DAY = (date.today() - timedelta(days=20)).isoformat()
EARLIER = (date.today() - timedelta(days=40)).isoformat()


def write_entry(client, what: str = "He took my passport and said I owe him money.", *,  # type: ignore[no-untyped-def]
                happened_on: str = DAY, happened_time: str = "", place: str = "",
                files: tuple[tuple[str, bytes], ...] = ()):
    """POST /journal as the form does (multipart, the token first); with no file chosen, one empty file part."""
    data = {"_csrf_token": csrf_token(client), "happened_on": happened_on, "happened_time": happened_time,
            "what": what, "place": place}
    parts = [("file", (name, content, "application/octet-stream")) for name, content in files] \
        or [("file", ("", b"", "application/octet-stream"))]
    return client.post("/journal", data=data, files=parts, follow_redirects=False)


def entry_url(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.text[:2000]
    return str(response.headers["location"]).split("?")[0]


def file_ids(client, url: str) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(rf'href="{re.escape(url)}/files/([A-Za-z0-9_-]+)"', client.get(url).text)


def chunks(settings) -> list[bytes]:  # type: ignore[no-untyped-def]
    return [bytes(row[0]) for row in sql(settings, "SELECT data FROM document_chunk")]


def test_a_long_entry_is_kept_whole_and_one_too_long_is_refused_in_words(client, settings):
    """The new-entry form is sent as multipart (it may carry files): its text must arrive whole, in any script,
    up to the field's own limit, and beyond it be refused, never saved cut short."""
    from portal.journal import WHAT_MAX
    from portal.uploads import FIELD_LIMIT

    assert FIELD_LIMIT >= 4 * WHAT_MAX + 4  # a text cut by the upload parser is still refused by its own check
    sign_up(client, "river")
    latin, arabic = "He said I owe him money. " * 200 + "End.", "قال إنني مدين له. " * 250 + "نهاية"
    for words in (latin, arabic, "ب" * WHAT_MAX):
        assert len(words.encode()) > 4096 and len(words) <= WHAT_MAX
        entry_url(write_entry(client, words))
    kept = sorted(row[0] for row in sql(settings, "SELECT what FROM journal_entry"))
    assert kept == sorted([latin.strip(), arabic.strip(), "ب" * WHAT_MAX])
    refused = write_entry(client, "x" * (WHAT_MAX + 1))
    assert refused.status_code == 400 and "8,000 characters" in refused.text.replace("8000", "8,000")
    assert len(sql(settings, "SELECT id FROM journal_entry")) == 3


def test_an_entry_with_a_time_and_a_place_is_listed_and_shown(client):
    sign_up(client, "river")
    empty = client.get("/journal")
    assert "No entries yet" in empty.text and "protection order" in empty.text
    assert "Only you can see your journal unless you share it" in empty.text
    assert 'href="/journal/new"' in empty.text and "New entry" in empty.text
    url = entry_url(write_entry(client, "He shouted at me at the bus stop.", happened_time="21:05",
                                place="Main Street"))
    page = client.get(url + "?saved=1")
    assert page.status_code == 200
    assert "He shouted at me at the bus stop." in page.text and "Main Street" in page.text and "21:05" in page.text
    assert "Written on" in page.text and "changed on" not in page.text and "Earlier versions" not in page.text
    listing = client.get("/journal").text
    assert f'href="{url}"' in listing and "21:05" in listing and "Main Street" in listing
    assert "He shouted at me" in listing and "Written on" in listing and "Changed on" not in listing
    assert "– Journal</title>" in listing


def test_an_entry_needs_no_time_or_place_and_the_list_shows_the_latest_to_happen_first(client, settings):
    sign_up(client, "river")
    older = entry_url(write_entry(client, "The first time it happened.", happened_on=EARLIER))
    newer = entry_url(write_entry(client, "It happened again.", happened_on=DAY))
    listing = client.get("/journal").text
    assert listing.index(f'href="{newer}"') < listing.index(f'href="{older}"')
    page = client.get(older).text
    assert "The first time it happened." in page and "<dt>Where</dt>" not in page
    assert sql(settings, "SELECT happened_time, place FROM journal_entry "
                         "WHERE what = 'The first time it happened.'") == [("", "")]


def test_a_day_in_the_future_and_an_empty_text_are_refused_keeping_what_was_typed(client, settings):
    sign_up(client, "river")
    future = (date.today() + timedelta(days=3)).isoformat()
    refused = write_entry(client, "Words I typed", happened_on=future, place="The café")
    assert refused.status_code == 400
    assert "has not come yet" in refused.text and 'class="error-summary"' in refused.text
    assert "Words I typed" in refused.text and "The café" in refused.text and future in refused.text
    empty = write_entry(client, "   ", place="Kept place")
    assert empty.status_code == 400 and "Write what happened" in empty.text and "Kept place" in empty.text
    no_day = write_entry(client, "No day given", happened_on="")
    assert no_day.status_code == 400 and "Enter the day it happened" in no_day.text
    bad_time = write_entry(client, "A time that is not one", happened_time="25:99")
    assert bad_time.status_code == 400 and "like 14:30" in bad_time.text
    assert sql(settings, "SELECT count(*) FROM journal_entry") == [(0,)]


def test_an_edit_keeps_the_earlier_version_for_the_survivor_and_a_caseworker_it_is_shared_with(client, other_client,
                                                                                               settings):
    sign_up(client, "river")
    url = entry_url(write_entry(client, "He hit the table.", happened_time="20:00", place="The flat"))
    entry_id = url.rsplit("/", 1)[1]
    edit = client.get(f"{url}/edit")
    assert edit.status_code == 200 and "He hit the table." in edit.text and "Save entry" in edit.text

    # Saving the same words keeps no version and changes nothing.
    same = post_form(client, f"{url}/edit", {"happened_on": DAY, "happened_time": "20:00", "what": "He hit the table.",
                                             "place": "The flat"})
    assert same.status_code == 303
    assert sql(settings, "SELECT count(*) FROM journal_version") == [(0,)]
    assert sql(settings, "SELECT changed_at FROM journal_entry") == [(None,)]

    changed = post_form(client, f"{url}/edit", {"happened_on": EARLIER, "happened_time": "", "what": "He hit the wall.",
                                                "place": "The flat, kitchen"})
    assert changed.status_code == 303
    page = client.get(url).text
    assert "He hit the wall." in page and "changed on" in page and "Earlier versions" in page
    current, earlier = page.split("Earlier versions", 1)
    assert "He hit the table." not in current and "He hit the table." in earlier and "The flat" in earlier
    assert "20:00" in earlier and "replaced on" in earlier
    assert "Changed on" in client.get("/journal").text
    [(written_at, replaced_at)] = sql(settings, "SELECT written_at, replaced_at FROM journal_version")
    [(created_at, changed_at)] = sql(settings, "SELECT created_at, changed_at FROM journal_entry")
    assert written_at == created_at and replaced_at == changed_at

    # A second change keeps the second words, written when the first change was made.
    post_form(client, f"{url}/edit", {"happened_on": EARLIER, "happened_time": "", "what": "Third words.", "place": ""})
    rows = sql(settings, "SELECT what, written_at FROM journal_version ORDER BY replaced_at")
    assert [what for what, _at in rows] == ["He hit the table.", "He hit the wall."]
    assert rows[1][1] == changed_at

    # Shared with Ana (this entry only): she reads it with its earlier versions; Ben, not shared, gets 404.
    make_user(settings, "ana", Role.CASEWORKER)
    make_user(settings, "ben", Role.CASEWORKER)
    shared = make_connection(settings, "river", "ana", item_ids=(("journal", entry_id),))
    unshared = make_connection(settings, "river", "ben")
    sign_in(other_client, "ana")
    staff_page = other_client.get(f"/people/{shared}/journal/{entry_id}")
    assert staff_page.status_code == 200
    assert "Third words." in staff_page.text and "Earlier versions" in staff_page.text
    assert "He hit the table." in staff_page.text and "He hit the wall." in staff_page.text
    assert "opened your journal entry of" in client.get("/sharing/log").text
    other_client.cookies.clear()
    sign_in(other_client, "ben")
    assert other_client.get(f"/people/{unshared}/journal/{entry_id}").status_code == 404
    assert other_client.get(f"/people/{shared}/journal/{entry_id}").status_code == 404


def test_photos_and_pdfs_are_encrypted_and_opened_by_the_owner_and_a_shared_caseworker_only(client, other_client,
                                                                                            settings):
    sign_up(client, "river")
    big = big_file(700_000)  # several encrypted chunks
    url = entry_url(write_entry(client, files=(("bruise.png", PNG), ("letter.pdf", big))))
    entry_id = url.rsplit("/", 1)[1]
    first, second = file_ids(client, url)
    assert "bruise" in client.get(url).text
    stored = chunks(settings)
    assert len(stored) >= 3 and not any(MARKER in chunk for chunk in stored)
    photo = client.get(f"{url}/files/{first}")
    assert photo.status_code == 200 and photo.content == PNG and photo.headers["content-type"] == "image/png"
    assert photo.headers["content-disposition"] == 'attachment; filename="file.png"'
    assert photo.headers["cache-control"] == "no-store"
    assert client.get(f"{url}/files/{second}").content == big
    assert client.get(f"{url}/files/no-such-file").status_code == 404

    # A file of another entry is not reachable through this one.
    other_url = entry_url(write_entry(client, "Another day.", files=(("x.pdf", PDF),)))
    [other_file] = file_ids(client, other_url)
    assert client.get(f"{url}/files/{other_file}").status_code == 404

    make_user(settings, "ana", Role.CASEWORKER)
    make_user(settings, "ben", Role.CASEWORKER)
    shared = make_connection(settings, "river", "ana", ("journal",))
    unshared = make_connection(settings, "river", "ben", ("goals",))
    sign_in(other_client, "ana")
    staff_file = f"/people/{shared}/journal/{entry_id}/files/{second}"
    assert f'href="{staff_file}"' in other_client.get(f"/people/{shared}/journal/{entry_id}").text
    download = other_client.get(staff_file)
    assert download.status_code == 200 and download.content == big
    assert "Ana · caseworker · Safe Harbor downloaded a file from your journal entry of" in client.get("/sharing/log").text
    assert other_client.get(f"/journal/{entry_id}/files/{second}").status_code == 404  # the survivor's own address
    assert other_client.get(f"/people/{shared}/journal/{entry_id}/files/{other_file}").status_code == 404
    assert other_client.get(f"/people/{shared}{other_url}/files/{other_file}").content == PDF
    assert other_client.get(f"/people/{shared}/documents/{entry_id}/files/{second}").status_code == 404

    # Only me wins over the card; stopping the share hides the file at once.
    post_form(client, f"{url}/private", {"private": "1"})
    assert other_client.get(staff_file).status_code == 404
    post_form(client, f"{url}/private", {"private": "0"})
    assert other_client.get(staff_file).status_code == 200
    post_form(client, f"/sharing/{shared}/save", {})
    assert other_client.get(staff_file).status_code == 404

    other_client.cookies.clear()
    sign_in(other_client, "ben")
    assert other_client.get(f"/people/{unshared}/journal/{entry_id}/files/{second}").status_code == 404
    other_client.cookies.clear()
    sign_up(other_client, "sea")
    assert other_client.get(f"{url}/files/{first}").status_code == 404
    assert other_client.get(url).status_code == 404


def test_a_file_that_is_not_a_pdf_or_a_photo_is_refused_and_nothing_is_kept(client, settings):
    sign_up(client, "river")
    refused = write_entry(client, "What I typed stays.", place="Here", files=(("notes.txt", b"plain text " * 20),))
    assert refused.status_code == 400
    assert "Choose a PDF or a photo" in refused.text and "What I typed stays." in refused.text
    assert 'class="error-summary"' in refused.text and 'href="#file"' in refused.text
    too_many = write_entry(client, "Six files", files=tuple((f"{n}.pdf", PDF) for n in range(6)))
    assert too_many.status_code == 400 and "up to 5 files" in too_many.text
    assert sql(settings, "SELECT count(*) FROM journal_entry") == [(0,)]
    assert sql(settings, "SELECT count(*) FROM journal_file") == [(0,)] and chunks(settings) == []
    # A refused form with a good file: the entry is not saved, and the file is not kept either.
    refused_words = write_entry(client, "", files=(("x.pdf", PDF),))
    assert refused_words.status_code == 400 and "Choose the files again" in refused_words.text
    assert chunks(settings) == []


def test_start_up_keeps_the_chunks_of_journal_files(client, settings):
    sign_up(client, "river")
    url = entry_url(write_entry(client, files=(("x.pdf", big_file(300_000)),)))
    [file_id] = file_ids(client, url)
    sql(settings, "INSERT INTO document_chunk (storage_key, position, data) VALUES ('orphan', 0, :d)", d=b"\x00" * 64)
    with TestClient(create_app(settings), base_url=BASE_URL) as started:  # start-up runs remove_orphans
        assert started.get("/healthz").status_code == 200
    assert sql(settings, "SELECT count(*) FROM document_chunk WHERE storage_key = 'orphan'") == [(0,)]
    assert len(chunks(settings)) == 2
    assert client.get(f"{url}/files/{file_id}").status_code == 200


def test_deleting_an_entry_asks_first_and_removes_its_versions_files_and_chunks(client, settings):
    sign_up(client, "river")
    keep = entry_url(write_entry(client, "Keep me.", files=(("k.pdf", PDF),)))
    url = entry_url(write_entry(client, "Delete me.", files=(("d.pdf", PDF), ("d.png", PNG))))
    post_form(client, f"{url}/edit", {"happened_on": DAY, "what": "Delete me, changed."})
    assert sql(settings, "SELECT count(*) FROM journal_version") == [(1,)]
    ask = client.get(f"{url}/delete")
    assert ask.status_code == 200 and "Delete this entry?" in ask.text and "earlier versions" in ask.text
    assert post_form(client, f"{url}/delete").status_code == 303
    assert client.get(url).status_code == 404
    assert sql(settings, "SELECT what FROM journal_entry") == [("Keep me.",)]
    assert sql(settings, "SELECT count(*) FROM journal_version") == [(0,)]
    assert sql(settings, "SELECT count(*) FROM journal_file") == [(1,)]
    assert len(chunks(settings)) == 1
    [file_id] = file_ids(client, keep)
    assert client.get(f"{keep}/files/{file_id}").content == PDF


def test_the_export_holds_entries_their_versions_and_their_files(client, settings):
    sign_up(client, "river")
    big = big_file(700_000)
    url = entry_url(write_entry(client, "First words.", happened_time="09:30", place="Station",
                                files=(("big.pdf", big), ("p.png", PNG))))
    post_form(client, f"{url}/edit", {"happened_on": DAY, "happened_time": "09:30", "what": "Second words.",
                                      "place": "Station"})
    export = post_form(client, "/settings/export", {"export_password": PASSWORD})
    assert export.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    [entry] = json.loads(archive.read("journal.json"))
    assert entry["what"] == "Second words." and entry["happened_on"] == DAY and entry["happened_time"] == "09:30"
    assert [version["what"] for version in entry["earlier_versions"]] == ["First words."]
    assert {"written_at", "replaced_at", "happened_on", "place"} <= set(entry["earlier_versions"][0])
    assert sorted(archive.read(each["file"]) for each in entry["files"]) == sorted([big, PNG])
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"storage_key" not in everything and b"wrapped_key" not in everything
    assert "journal.json" in archive.read("README.txt").decode()


def test_deleting_the_account_leaves_no_journal_row_or_chunk(client, settings):
    sign_up(client, "river")
    url = entry_url(write_entry(client, files=(("x.pdf", PDF),)))
    post_form(client, f"{url}/edit", {"happened_on": DAY, "what": "Changed."})
    assert post_form(client, "/settings/delete", {"password": PASSWORD}).status_code == 303
    for table in ("journal_entry", "journal_version", "journal_file", "document_chunk"):
        assert sql(settings, f"SELECT count(*) FROM {table}") == [(0,)], table  # noqa: S608


def test_the_form_works_without_javascript_and_staff_have_no_journal_of_their_own(client, settings):
    sign_up(client, "river")
    form = client.get("/journal/new").text
    assert 'action="/journal"' in form and 'enctype="multipart/form-data"' in form
    assert "Add photos or PDFs" in form and "Save entry" in form and "When it happened" in form
    assert 'name="happened_time"' in form and 'name="place"' in form and 'name="what"' in form
    make_user(settings, "ana", Role.CASEWORKER)
    client.cookies.clear()
    sign_in(client, "ana")
    assert client.get("/journal").status_code == 404 and client.get("/journal/new").status_code == 404


def add_files(client, url: str, files: tuple[tuple[str, bytes], ...]):  # type: ignore[no-untyped-def]
    parts = [("file", (name, content, "application/octet-stream")) for name, content in files] \
        or [("file", ("", b"", "application/octet-stream"))]
    return client.post(f"{url}/files", data={"_csrf_token": csrf_token(client)}, files=parts, follow_redirects=False)


def test_photos_can_be_added_to_an_entry_later_by_its_owner_only(client, other_client, settings):
    sign_up(client, "river")
    url = entry_url(write_entry(client, "Words first, photos later."))
    assert 'action="' + url + '/files"' in client.get(url).text
    added = add_files(client, url, (("later.png", PNG),))
    assert added.status_code == 303 and added.headers["location"] == f"{url}?added=1#files"
    page = client.get(url).text
    assert "later" in page and "Added on" in page and "Added to this entry." in client.get(f"{url}?added=1").text
    [file_id] = file_ids(client, url)
    assert client.get(f"{url}/files/{file_id}").content == PNG

    nothing = add_files(client, url, ())
    assert nothing.status_code == 400 and "Choose a photo or a PDF to add." in nothing.text
    assert 'class="error-summary"' in nothing.text and 'href="#file"' in nothing.text
    wrong_kind = add_files(client, url, (("x.txt", b"just some text here"),))
    assert wrong_kind.status_code == 400 and "Choose a PDF or a photo" in wrong_kind.text
    assert sql(settings, "SELECT count(*) FROM journal_file") == [(1,)]

    sign_up(other_client, "sea")
    assert add_files(other_client, url, (("y.pdf", PDF),)).status_code == 404
    make_user(settings, "ana", Role.CASEWORKER)
    make_connection(settings, "river", "ana", ("journal",))
    other_client.cookies.clear()
    sign_in(other_client, "ana")
    assert add_files(other_client, url, (("y.pdf", PDF),)).status_code == 404
    assert sql(settings, "SELECT count(*) FROM journal_file") == [(1,)] and len(chunks(settings)) == 1


def test_under_another_master_key_a_journal_file_is_reported_with_a_way_back_to_its_entry(client, settings):
    from dataclasses import replace

    from portal.config import new_document_key

    sign_up(client, "river")
    url = entry_url(write_entry(client, "What happened.", files=(("p.png", PNG),)))
    [file_id] = file_ids(client, url)
    with TestClient(create_app(replace(settings, document_key=new_document_key())), base_url=BASE_URL,
                    cookies=dict(client.cookies)) as second:
        response = second.get(f"{url}/files/{file_id}")
    assert response.status_code == 500 and "cannot be opened right now" in response.text
    assert f'<a href="{url}">Back to the entry</a>' in response.text

