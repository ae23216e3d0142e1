"""Delete my account: afterwards no row in any table mentions the survivor (their id, name, words, items,
connections or documents), everyone else's rows are untouched, every session of theirs has ended, and the
people they were connected with see only that someone left. A wrong password deletes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlmodel import SQLModel

from portal.models import Role
from tests.conftest import PASSWORD, make_connection, make_user, post_form, sign_in, sign_up, sql
from tests.test_checkins import check_in
from tests.test_documents import PDF, PNG, upload
from tests.test_home import new_goal
from tests.test_journal import entry_url, write_entry

MARK = "Zanzibar-marker"


def _everything(settings) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def,type-arg]
    return {table.name: [tuple(row) for row in sql(settings, f"SELECT * FROM {table.name}")]
            for table in SQLModel.metadata.sorted_tables}


def _user_columns() -> dict[str, list[str]]:
    """For each table, the columns that point at a person (app_user.id)."""
    return {table.name: [column.name for column in table.columns if any(fk.column.table.name == "app_user" for fk in column.foreign_keys)]
            for table in SQLModel.metadata.sorted_tables}


def _survivor_with_everything(client, other_client, third_client, settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    sign_up(client, "river")
    goal = new_goal(client, f"Goal {MARK}")
    post_form(client, f"{goal}/steps", {"step": f"Step {MARK}"})
    private = new_goal(client, f"Private {MARK}")
    post_form(client, f"{private}/private", {"private": "1"})
    post_form(client, "/appointments", {"what": f"Clinic {MARK}", "date": "2030-01-02", "time": "10:00", "reminder": "1d"})
    document = upload(client, PDF, name=f"Paper {MARK}", expires_on="2030-01-01").headers["location"].rsplit("/", 1)[1]
    check_in(client, note=f"Note {MARK}")
    entry = entry_url(write_entry(client, f"Entry {MARK}", place=f"Place {MARK}", files=(("p.png", PNG),)))
    post_form(client, f"{entry}/edit", {"happened_on": "2026-01-02", "what": f"Changed {MARK}"})  # an earlier version
    post_form(client, "/settings/reminders", {"kinds": "messages", "text": f"Words {MARK}", "checkin_time": "18:00"})
    sql(settings, "INSERT INTO push_subscription (id, user_id, endpoint, endpoint_hash, p256dh, auth, device, created_at) "
                  "SELECT 'rivers-phone', id, 'https://fcm.googleapis.com/x', 'h', 'k', 'a', '', :t FROM app_user WHERE username = 'river'",
        t=datetime.now(UTC))
    make_user(settings, "ana", Role.MENTOR)
    make_user(settings, "casey", Role.CASEWORKER)
    mentor = make_connection(settings, "river", "ana", ("goals", "documents"), label=f"Label {MARK}")
    casework = make_connection(settings, "river", "casey", item_ids=(("documents", document),))
    sign_in(other_client, "ana")
    post_form(other_client, f"/messages/{mentor}", {"body": f"Mentor says {MARK}"})
    post_form(client, f"/messages/{mentor}", {"body": f"River says {MARK}"})
    post_form(other_client, f"/people/{mentor}/ask", {"part": "checkins", "reason": f"Reason {MARK}"})
    other_client.get(f"/people/{mentor}/goals")
    other_client.get(f"/people/{mentor}/documents/{document}/download")
    # Feedback to the organisation of the staff on a connection (its words marked, and river's id on the row).
    assert post_form(client, f"/sharing/{casework}/feedback", {"rating": "4", "words": f"Kind {MARK}"}).status_code == 303
    sign_in(third_client, "river")  # a second browser of river's
    return {"mentor": mentor, "casework": casework, "document": document}


def test_deleting_leaves_no_trace_and_leaves_everyone_else_alone(client, other_client, third_client, settings):
    # Someone else's account, which must come through untouched.
    sign_up(other_client, "sea")
    new_goal(other_client, "Sea's goal")
    upload(other_client, PDF, name="Sea's paper")
    make_user(settings, "other-cw", Role.CASEWORKER)
    make_connection(settings, "sea", "other-cw", ("goals",))
    other_client.cookies.clear()
    ids = _survivor_with_everything(client, other_client, third_client, settings)
    river = sql(settings, "SELECT id FROM app_user WHERE username = 'river'")[0][0]
    storage_keys = [row[0] for row in sql(settings, "SELECT storage_key FROM document WHERE owner_id = :u", u=river)]
    storage_keys += [row[0] for row in sql(settings, "SELECT storage_key FROM journal_file")]  # only river's
    before = _everything(settings)
    assert before["message"] and before["access_log"] and before["recovery_code"] and before["document_chunk"]
    assert before["journal_entry"] and before["journal_version"] and before["journal_file"]
    assert before["feedback"]
    person_columns = _user_columns()

    def about_river(table: str, row: tuple) -> bool:  # type: ignore[type-arg]
        """Does this row mention river: their id in a person column, their name, words, ids or document keys?"""
        text = repr(row)
        columns = [column.name for column in SQLModel.metadata.tables[table].columns]
        values = dict(zip(columns, row, strict=True))
        return (MARK in text or "'river'" in text or any(key in text for key in storage_keys)
                or any(ids[name] in text for name in ids)
                or any(values[column] == river for column in person_columns[table]))

    others = {table: [row for row in rows if not about_river(table, row)] for table, rows in before.items()}

    wrong = post_form(client, "/settings/delete", {"password": "not-the-password"})
    assert wrong.status_code == 400 and "Nothing was deleted." in wrong.text
    assert _everything(settings) == before

    done = post_form(client, "/settings/delete", {"password": PASSWORD})
    assert done.headers["location"] == "/?deleted=1"
    assert "Your account and everything in it is deleted." in client.get("/?deleted=1").text

    after = _everything(settings)
    mentions = [(table, row) for table, rows in after.items() for row in rows if about_river(table, row)]
    assert not mentions, mentions
    # Everything that was not river's is still there, and nothing else went.
    for table, rows in others.items():
        assert set(rows) <= set(after[table]), table
    # Every session river had has ended; the staff see only that someone left.
    assert third_client.get("/home", follow_redirects=False).status_code == 303
    people = other_client.get("/people").text
    assert "A person you were connected with left Waypoint on" in people and MARK not in people
    assert other_client.get(f"/people/{ids['mentor']}/goals").status_code == 404
    assert other_client.get(f"/messages/{ids['mentor']}").status_code == 404
    assert post_form(other_client, f"/messages/{ids['mentor']}", {"body": "Hello?"}).status_code == 404
    # The name can be used again by someone new, who finds nothing of river's.
    client.cookies.clear()
    sign_up(client, "river")
    assert MARK not in client.get("/goals").text and MARK not in client.get("/messages").text


def test_only_a_survivor_deletes_an_account_here(client, settings):
    make_user(settings, "casey", Role.CASEWORKER)
    sign_in(client, "casey")
    assert client.get("/settings/delete").status_code == 404
    assert post_form(client, "/settings/delete", {"password": PASSWORD}).status_code == 404
    assert sql(settings, "SELECT count(*) FROM app_user WHERE username = 'casey'")[0][0] == 1


def test_the_delete_page_says_what_goes_and_what_it_cannot_reach(client):
    sign_up(client, "river")
    page = client.get("/settings/delete").text
    assert "It cannot be undone." in page and "What this cannot do" in page
    assert re.search(r'href="/settings/data"', page)
    assert 'href="/settings/delete"' in client.get("/settings/data").text
