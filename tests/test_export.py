"""Export my data: the ZIP holds every item, the messages, sharing and who has looked, as JSON, and every
document byte for byte; nothing of anyone else; it needs the password, and only a survivor has one."""

from __future__ import annotations

import io
import json
import re
import os
import zipfile
from datetime import UTC, datetime

from portal.models import Role
from tests.conftest import PASSWORD, make_connection, make_user, post_form, sign_in, sign_up
from tests.test_checkins import check_in
from tests.test_documents import PDF, PNG, upload
from tests.test_home import new_goal


def export(client, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return post_form(client, "/settings/export", {"export_password": password})


def test_the_export_holds_everything_and_every_document_byte_for_byte(client, other_client, third_client, settings):
    sign_up(third_client, "someone-else")
    new_goal(third_client, "Not river's goal")
    sign_up(client, "river")
    goal = new_goal(client, "Find a flat")
    post_form(client, f"{goal}/steps", {"step": "Call the housing office"})
    post_form(client, "/appointments", {"what": "Lawyer", "date": "2030-01-02", "time": "10:00", "reminder": "1h"})
    check_in(client, note="A calm day")
    big = b"%PDF-1.7\n" + os.urandom(700_000)  # several encrypted chunks
    upload(client, big, name="Court letter")
    upload(client, PNG, "photo.png", name="ID photo")
    make_user(settings, "ana", Role.MENTOR)
    thread = make_connection(settings, "river", "ana", ("goals",))
    sign_in(other_client, "ana")
    post_form(other_client, f"/messages/{thread}", {"body": "How was the lawyer?"})
    post_form(client, f"/messages/{thread}", {"body": "It went well"})
    other_client.get(f"/people/{thread}/goals")  # a look river can read about
    assert post_form(client, f"/sharing/{thread}/feedback", {"rating": "5", "words": "Ana listens"}).status_code == 303

    response = export(client)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    # Named like any notes app's export, even for someone who keeps the name Waypoint.
    assert re.fullmatch(r'attachment; filename="notes-export-\d{4}-\d{2}-\d{2}\.zip"', response.headers["content-disposition"])
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    data = {name: json.loads(archive.read(name)) for name in archive.namelist() if name.endswith(".json")}
    assert [goal["title"] for goal in data["goals.json"]] == ["Find a flat"]
    assert data["goals.json"][0]["steps"][0]["text"] == "Call the housing office"
    assert data["appointments.json"][0]["what"] == "Lawyer" and data["appointments.json"][0]["reminder"] == "1h"
    assert data["checkins.json"][0]["note"] == "A calm day"
    files = {entry["name"]: archive.read(entry["file"]) for entry in data["documents.json"]}
    assert files == {"Court letter": big, "ID photo": PNG}
    [conversation] = data["messages.json"]
    mentor = "Ana · peer mentor · Safe Harbor"  # as the survivor knows her, never her username
    assert conversation["with"] == mentor
    assert [(m["from"], m["text"]) for m in conversation["messages"]] == [(mentor, "How was the lawyer?"), ("you", "It went well")]
    [link] = data["sharing.json"]
    assert (link["person"], link["organisation"]) == ("Ana", "Safe Harbor") and [card["part"] for card in link["share_cards"]] == ["goals"]
    assert link["share_cards"][0]["include_notes"] is False  # what each share said about the survivor's notes
    assert [(look["viewer_name"], look["part"]) for look in data["who_has_looked.json"]] == [("Ana", "goals")]
    [told] = data["feedback.json"]
    assert told == {"organisation": "Safe Harbor", "month": datetime.now(UTC).strftime("%Y-%m"), "rating": 5,
                    "words": "Ana listens"}
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"Not river's goal" not in everything and b"someone-else" not in everything
    assert b"wrapped_key" not in everything and b"storage_key" not in everything
    assert "README.txt" in archive.namelist()


def test_an_empty_account_exports_empty_lists(client):
    sign_up(client, "river")
    archive = zipfile.ZipFile(io.BytesIO(export(client).content))
    assert json.loads(archive.read("goals.json")) == [] and json.loads(archive.read("messages.json")) == []


def test_the_export_needs_the_password(client):
    sign_up(client, "river")
    new_goal(client, "Find a flat")
    refused = export(client, "not-the-password")
    assert refused.status_code == 400 and "That password is not right." in refused.text
    assert refused.headers["content-type"].startswith("text/html")


def test_staff_have_no_export(client, settings):
    make_user(settings, "casey", Role.CASEWORKER)
    sign_in(client, "casey")
    assert export(client).status_code == 404
    assert client.get("/settings/data").status_code == 404
    assert 'href="/settings/data"' not in client.get("/settings").text


def test_a_pdf_marker_document_round_trips_too(client):
    sign_up(client, "river")
    upload(client, PDF, name="Small")
    archive = zipfile.ZipFile(io.BytesIO(export(client).content))
    [entry] = json.loads(archive.read("documents.json"))
    assert archive.read(entry["file"]) == PDF
