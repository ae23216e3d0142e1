"""Lists stay flat as they grow: no query behind a list page sorts all of a person's items to show 20
(SQLite's plan says "USE TEMP B-TREE FOR ORDER BY"; sorting what one index range gives, "RIGHT PART OF
ORDER BY", is fine) and none reads a whole table. The plans are SQLite's; `python -m bench growth`
measures both databases."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import pytest

from portal.models import Role
from portal.parts import PARTS
from tests.conftest import DATABASE_URL, make_connection, make_user, sign_in, sign_up, statements_run
from tests.test_sharing import make_item

# What grows with a person's use: their items, messages and the log of looks (share cards and
# connections are a handful per person, and sorting a handful is fine).
GROWING = re.compile(r"\bFROM (goal|goal_step|appointment|document|checkin|message|access_log)\b")

pytestmark = pytest.mark.skipif(DATABASE_URL.startswith("postgres"), reason="SQLite's query plans")


@pytest.fixture
def statements() -> Iterator[list[tuple[str, object]]]:
    """The statements run meanwhile: through SQLAlchemy and straight on SQLite alike (tests.conftest)."""
    with statements_run() as seen:
        yield seen


def plans(settings, seen) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    database = settings.database_url.split("///", 1)[1]
    with sqlite3.connect(database) as db:
        return [(statement, " | ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + statement, parameters)))
                for statement, parameters in seen if statement.lstrip().upper().startswith("SELECT")]


def _without_mentor_branch(statement: str, plan: str) -> str:
    """The plan, less the staff-side lookups of the statement that reads the viewer: its only one is a peer
    mentor's unread count over their own threads."""
    if "FROM web_session" not in statement and "AS me" not in statement:
        return plan
    return " | ".join(step for step in plan.split("|") if "ix_connection_staff" not in step)


def test_no_list_page_sorts_everything_or_reads_a_whole_table(client, other_client, settings, statements):
    sign_up(client, "river")
    for part in ("goals", "appointments", "documents", "checkins"):
        make_item(client, part, f"One of the {part}")
    make_user(settings, "Ana", Role.CASEWORKER)
    connection = make_connection(settings, "river", "Ana", tuple(part.key for part in PARTS))
    sign_in(other_client, "Ana")
    statements.clear()
    for path in ("/home", "/goals", "/goals/achieved", "/appointments", "/appointments?past=1", "/documents",
                 "/check-ins", "/sharing", "/sharing/log", "/messages", "/settings",
                 "/settings/safety", "/settings/security", "/settings/reminders", "/settings/language", "/settings/data"):
        assert client.get(path).status_code == 200, path
    for part in ("goals", "appointments", "documents", "checkins"):
        assert other_client.get(f"/people/{connection}/{part}").status_code == 200, part
    assert other_client.get("/people").status_code == 200
    found = plans(settings, statements)
    assert len(found) > 40, len(found)
    growing = [(statement, plan) for statement, plan in found if GROWING.search(statement)]
    assert len(growing) > 15, len(growing)
    for statement, plan in growing:
        # The share check looks for one survivor's connection to one viewer: through a staff index it would read
        # all of a caseworker's connections for every row (22 ms a page with 10,000 people).
        # (The menu's unread count of a peer mentor, in the statement that reads the viewer, is the one that
        # rightly goes through the staff index: it is that mentor's own threads.)
        assert "INDEX ix_connection_staff" not in _without_mentor_branch(statement, plan), (
            " ".join(statement.split())[:300], plan)
        assert "TEMP B-TREE FOR ORDER BY" not in plan, (" ".join(statement.split())[:300], plan)
        # (A scan of a subquery's own few rows, "anon_1", read in its index order and limited, reads no table.)
        assert not any(step.strip().startswith("SCAN ") and " USING " not in step
                       and not step.strip().startswith(("SCAN anon_", "SCAN (subquery-")) for step in plan.split("|")), (
            " ".join(statement.split())[:300], plan)
