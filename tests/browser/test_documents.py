"""Documents in Chromium: choose a file, upload, download the same bytes; a wrong kind of file is
explained beside the field; the same with JavaScript off; every documents page passes axe-core."""

from __future__ import annotations

import os

from tests.browser.helpers import axe_violations as _axe_violations
from tests.browser.helpers import sign_up

CONTENT = b"%PDF-1.7\n" + os.urandom(300_000)


def _upload(page, server: str, name: str, content: bytes, filename: str = "scan.pdf") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/documents")
    page.get_by_role("link", name="Upload a document").first.click()
    page.get_by_label("File").set_input_files({"name": filename, "mimeType": "application/pdf", "buffer": content})
    page.get_by_label("Name").fill(name)
    page.get_by_label("Type").select_option("immigration")
    page.get_by_label("Expires on").fill("2030-01-31")
    page.get_by_role("button", name="Upload").click()


def _upload_and_download(page, server: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _upload(page, server, "Residence permit", CONTENT)
    page.get_by_role("heading", name="Residence permit").wait_for()
    assert page.title() == "Waypoint – Documents"
    with page.expect_download() as info:
        page.get_by_role("link", name="Download").click()
    download = info.value
    assert download.suggested_filename == "document.pdf"
    target = tmp_path / "downloaded"
    download.save_as(target)
    assert target.read_bytes() == CONTENT
    # A renamed program is refused, with the message beside the file field.
    _upload(page, server, "Not a PDF", b"MZ\x90\x00" + b"\x00" * 5000, "passport.pdf")
    page.locator("#file-error").get_by_text("cannot be kept here").wait_for()
    assert page.get_by_label("Name").input_value() == "Not a PDF"
    # The form that came back carries a good token: the corrected file goes through the first time.
    page.get_by_label("File").set_input_files({"name": "scan.pdf", "mimeType": "application/pdf", "buffer": CONTENT})
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("heading", name="Not a PDF").wait_for()


def test_upload_and_download_in_the_browser_and_axe_finds_nothing(page, axe_page, server, tmp_path):
    sign_up(page, server)
    _upload_and_download(page, server, tmp_path)
    # The pages, checked by axe-core in a context that lets it run.
    sign_up(axe_page, server, "second")
    _upload(axe_page, server, "Court letter", CONTENT)
    axe_page.get_by_role("heading", name="Court letter").wait_for()
    detail = axe_page.url
    for path in (detail, f"{detail}/edit", f"{detail}/delete", f"{server}/documents"):
        axe_page.goto(path)
        assert _axe_violations(axe_page) == [], path
    _upload(axe_page, server, "", b"")
    axe_page.locator("#file-error").wait_for()
    assert _axe_violations(axe_page) == []


def test_documents_work_without_javascript(browser, server, hosts_seen, tmp_path):
    from tests.browser.conftest import _loopback_only

    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844}, accept_downloads=True)
    _loopback_only(context, hosts_seen)
    page = context.new_page()
    try:
        sign_up(page, server)
        _upload_and_download(page, server, tmp_path)
    finally:
        context.close()
