"""What stays on this machine's disk (SQLite): the data folder is the portal's alone (0700, its files
0600), and words a person deleted are found in no file of the data folder afterwards: not in the
database, not in its write-ahead log. On PostgreSQL the data is not in the data folder; there
tests/test_delete.py reads every column of every row after an account is deleted."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app import create_app
from portal.db import migrate
from portal.models import Role
from portal.config import Config
from tests.conftest import BASE_URL, DATABASE_URL, PASSWORD, make_connection, make_user, post_form, sign_in, sign_up
from tests.test_checkins import check_in
from tests.test_documents import PDF, upload

pytestmark = pytest.mark.skipif(DATABASE_URL.startswith("postgres"),
                                reason="PostgreSQL keeps its data outside the data folder (tests/test_delete.py reads every row)")


@pytest.fixture
def own(tmp_path: Path) -> Iterator[tuple[Config, TestClient, TestClient]]:
    """The portal as `python -m portal run` sets it up: the database in the data folder, nothing made beforehand."""
    settings = Config.from_env({}, data_dir=tmp_path / "var", allowed_hosts=("testserver.local",), push_worker=False)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(migrate, settings.database_url).result()
    app = create_app(settings)
    with TestClient(app, base_url=BASE_URL) as client, TestClient(app, base_url=BASE_URL) as other:
        yield settings, client, other


def _files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_the_data_folder_and_every_file_in_it_are_the_portals_alone(own):
    settings, client, _other = own
    sign_up(client, "river")
    upload(client, PDF, name="A paper")
    folder = Path(settings.data_dir)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    names = {path.name for path in _files(folder)}
    assert {"waypoint.db", "waypoint.db-wal", "waypoint.db-shm", "secret_key", "document_key"} <= names, names
    # Templates compiled once, kept as bytecode for the next worker to load, in a folder of the portal's alone.
    assert any(path.parent.name == "template-cache" for path in _files(folder)), names
    assert stat.S_IMODE((folder / "template-cache").stat().st_mode) == 0o700
    loose = {str(path.relative_to(folder)): oct(stat.S_IMODE(path.stat().st_mode)) for path in _files(folder)
             if stat.S_IMODE(path.stat().st_mode) & 0o077}
    assert not loose, loose


def test_a_database_left_readable_by_an_older_version_is_narrowed(tmp_path):
    folder = tmp_path / "var"
    folder.mkdir(mode=0o755)
    database = folder / "waypoint.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(migrate, f"sqlite:///{database}").result()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(database.stat().st_mode) == 0o600


def _found(folder: Path, marks: list[str]) -> list[str]:
    return [f"{mark} in {path.name}" for path in _files(folder) for mark in marks if mark.encode() in path.read_bytes()]


def test_deleted_words_are_in_no_file_of_the_data_folder(own):
    settings, client, other = own
    folder = Path(settings.data_dir)
    sign_up(client, "river")
    marks = {part: f"Qx{part}Marker7" for part in ("goal", "step", "visit", "paper", "mood", "account", "thread")}
    goal = post_form(client, "/goals", {"title": marks["goal"], "why": marks["goal"], "area": "work",
                                        "target_date": ""}).headers["location"]
    post_form(client, f"{goal}/steps", {"step": marks["step"]})
    visit = post_form(client, "/appointments", {"what": marks["visit"], "date": "2030-01-02", "time": "10:00",
                                                "reminder": "none", "notes": marks["visit"]}).headers["location"]
    paper = upload(client, PDF, name=marks["paper"]).headers["location"]
    mood = check_in(client, note=marks["mood"]).split("?")[0]
    assert _found(folder, [marks["goal"], marks["visit"], marks["mood"]])  # written: the scan can see them
    for url in (goal, visit, paper, mood):
        assert post_form(client, f"{url}/delete").status_code == 303, url
    assert not _found(folder, [marks[part] for part in ("goal", "step", "visit", "paper", "mood")])

    # A whole account, with a mentor's thread: every word of it, the mentor's too, leaves the disk.
    post_form(client, "/goals", {"title": marks["account"], "why": "", "area": "work", "target_date": ""})
    make_user(settings, "ana", Role.MENTOR)
    thread = make_connection(settings, "river", "ana")
    sign_in(other, "ana")
    post_form(other, f"/messages/{thread}", {"body": marks["thread"]})
    post_form(client, f"/messages/{thread}", {"body": marks["thread"]})
    assert _found(folder, [marks["account"], marks["thread"]])
    assert post_form(client, "/settings/delete", {"password": PASSWORD}).headers["location"] == "/?deleted=1"
    assert not _found(folder, list(marks.values()))
