"""Reads straight on SQLite (portal.reads) give what SQLAlchemy gives: the same rows, values and types, for the
statements pages run that way; they see what the request has written; and a look written alone is stored exactly as
the session would have stored it."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session
from sqlmodel import col

from portal import goals, policy, reads
from portal.db import make_engine, session_factory
from portal.middleware import SESSION_AND_PERSON
from portal.models import AccessLog, Goal, Role
from tests.conftest import DATABASE_URL, make_connection, make_user, post_form, run, sign_in, sign_up, sql, user_id
from tests.test_sharing import make_item

pytestmark = pytest.mark.skipif(DATABASE_URL.startswith("postgres"), reason="reads straight on SQLite only")


def both(settings, statement: Any, values: dict[str, Any]) -> tuple[list[Any], list[Any]]:  # type: ignore[no-untyped-def]
    """The rows of one statement through the reader and through SQLAlchemy's engine."""
    async def scenario() -> tuple[list[Any], list[Any]]:
        engine = make_engine(settings.database_url)
        reader = reads.Reader.of(engine)
        assert reader is not None
        try:
            straight = await reader.rows(statement, values)
            async with engine.connect() as connection:
                through = list((await connection.execute(statement, values)).all())
        finally:
            reader.close()
            await engine.dispose()
        return straight, through

    return run(scenario())


def same(straight: list[Any], through: list[Any]) -> None:
    assert straight, "nothing to compare"
    assert [row._fields for row in straight] == [tuple(row._fields) for row in through]
    assert [tuple(row) for row in straight] == [tuple(row) for row in through]
    assert [[type(value) for value in row] for row in straight] == [[type(value) for value in row] for row in through]


def test_the_rows_read_straight_are_sqlalchemys_rows(client, settings):
    sign_up(client, "river")
    for title in ("Find a flat", "Open a bank account", "Learn to drive"):
        make_item(client, "goals", title)
    make_user(settings, "Ana", Role.CASEWORKER)
    make_connection(settings, "river", "Ana", ("goals",))
    owner, staff = user_id(settings, "river"), user_id(settings, "Ana")
    session_id = sql(settings, "SELECT id FROM web_session")[0][0]
    now = datetime.now(UTC)

    # The viewer: dates made aware, booleans, a role, counts.
    same(*both(settings, SESSION_AND_PERSON, {"session_id": session_id}))
    # A caseworker's shared list (notes held back in the statement, an IN list of statuses) and its count.
    listing = {"viewer_id": staff, "now": now, "list_owner": owner, "list_offset": 0, "list_limit": 21,
               "statuses": ["active", "paused", "achieved"]}
    straight, through = both(settings, goals.BY_STATUS.statement(Role.CASEWORKER, rows=True), listing)
    same(straight, through)
    assert len(straight) == 3 and {row.why for row in straight} == {None}
    same(*both(settings, goals.BY_STATUS.statement(Role.CASEWORKER, count=True), listing))
    # Who can see each part, and a staff member's connection with its cards.
    same(*both(settings, policy._SEEN_BY_PART, {"owner_id": owner, "now": now}))
    same(*both(settings, policy._connections_statement("staff", False, False, False, rows=True),
               {"viewer_id": staff, "organisation_id": None, "staff_id": None, "now": now, "connection_id": "",
                "offset": 0, "limit": 21}))
    # One connection, with only its cards on one part (a staff member's shared pages).
    connection_id = sql(settings, "SELECT id FROM connection")[0][0]
    straight, through = both(settings, policy._connections_statement("staff", False, True, False, rows=True,
                                                                     by_part=True),
                             {"viewer_id": staff, "now": now, "connection_id": connection_id, "part": "goals"})
    same(straight, through)
    assert [row.card_part for row in straight] == ["goals"]


def test_in_lists_of_every_length_read_what_sqlalchemy_reads(client, settings):
    """An IN list's SQL is worked out once for each count of values and kept: asked again with other values or
    another count, the same reader gives SQLAlchemy's rows (a list written into the statement, a given list, and a
    given list of times that must be converted)."""
    sign_up(client, "river")
    for title in ("Find a flat", "Open a bank account", "Learn to drive", "See a doctor"):
        make_item(client, "goals", title)
    ids = [row[0] for row in sql(settings, "SELECT id FROM goal ORDER BY created_at")]
    times = [row.created_at for row in run(_rows(settings, select(Goal.created_at).order_by(col(Goal.created_at))))]
    statement = (select(Goal.id, Goal.title, Goal.created_at)
                 .where(col(Goal.status).in_(["active", "paused"]), col(Goal.id).in_(bindparam("ids", expanding=True)),
                        col(Goal.created_at).in_(bindparam("times", expanding=True)))
                 .order_by(col(Goal.created_at)))
    asked = [(ids[:1], times), (ids, times), (ids[1:3], times), ([], times), (ids[2:3], times[2:3]), (ids[:1], []),
             (ids[3:], times), (ids, times[1:])]

    async def scenario() -> list[tuple[list[Any], list[Any]]]:
        engine = make_engine(settings.database_url)
        reader = reads.Reader.of(engine)
        assert reader is not None
        found = []
        try:
            for chosen, at in asked:
                values = {"ids": chosen, "times": at}
                async with engine.connect() as connection:
                    through = list((await connection.execute(statement, values)).all())
                found.append((await reader.rows(statement, values), through))
        finally:
            reader.close()
            await engine.dispose()
        return found

    results = run(scenario())
    for (chosen, at), (straight, through) in zip(asked, results, strict=True):
        assert [tuple(row) for row in straight] == [tuple(row) for row in through]
        assert len(straight) == len(set(chosen) & {ids[times.index(moment)] for moment in at})
    assert any(straight for straight, _ in results)


async def _rows(settings, statement: Any) -> list[Any]:  # type: ignore[no-untyped-def]
    engine = make_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(statement)).all())
    finally:
        await engine.dispose()


def test_a_read_sees_what_the_request_has_written(settings):
    owner = make_user(settings, "river")

    async def scenario() -> tuple[int, int]:
        engine = make_engine(settings.database_url)
        reader = reads.Reader.of(engine)
        statement = goals.BY_STATUS.statement(Role.SURVIVOR, count=True)
        values = {"viewer_id": owner, "now": datetime.now(UTC), "list_owner": owner, "statuses": ["active"]}
        try:
            async with session_factory(engine, reader)() as db:
                db.add(Goal(owner_id=owner, title="Not yet flushed", area="housing"))
                pending = (await reads.rows(db, statement, values))[0][0]  # flushed first, as autoflush would
                await db.rollback()
                after = (await reads.rows(db, statement, values))[0][0]
        finally:
            if reader is not None:
                reader.close()
            await engine.dispose()
        return pending, after

    assert run(scenario()) == (1, 0)


def test_a_look_written_alone_is_stored_as_the_session_stores_it(settings):
    from portal.db import insert_at_commit

    owner = make_user(settings, "river")
    at = datetime(2026, 12, 3, 22, 51, 15, 123456, tzinfo=UTC)
    look = {"survivor_id": owner, "viewer_id": None, "viewer_name": "Ana", "viewer_role": "caseworker",
            "viewer_organisation": "Safe Harbor", "part": "goals", "item_id": None, "action": "list", "at": at}
    table = AccessLog.__table__  # type: ignore[attr-defined]

    async def scenario() -> None:
        engine = make_engine(settings.database_url)
        reader = reads.Reader.of(engine)
        assert reader is not None
        try:
            assert await reader.insert({table: [look]})
            async with session_factory(engine)() as db:
                await db.connection()
                insert_at_commit(db, table, look)
                await db.commit()
        finally:
            reader.close()
            await engine.dispose()

    run(scenario())
    stored = sql(settings, "SELECT survivor_id, viewer_id, viewer_name, viewer_role, viewer_organisation, part, "
                           "item_id, action, at FROM access_log ORDER BY id")
    assert len(stored) == 2 and stored[0] == stored[1], stored


def test_looks_that_arrive_during_a_commit_are_committed_together_and_a_bad_one_alone(settings):
    """Rows handed in while the database is busy wait, then go in one transaction; when one request's rows cannot be
    written, that request gets the error and every other request's rows are still stored."""
    owner = make_user(settings, "river")
    table = AccessLog.__table__  # type: ignore[attr-defined]

    def look(survivor: int, number: int) -> dict[str, Any]:
        return {"survivor_id": survivor, "viewer_id": None, "viewer_name": f"Ana {number}", "viewer_role": "caseworker",
                "viewer_organisation": "", "part": "goals", "item_id": None, "action": "list",
                "at": datetime(2026, 12, 4, 9, 0, number, tzinfo=UTC)}

    async def scenario(survivors: list[int]) -> tuple[list[Any], int]:
        engine = make_engine(settings.database_url)
        reader = reads.Reader.of(engine)
        assert reader is not None
        holder = sqlite3.connect(engine.url.database, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another writer holds the database: the looks must wait
            waiting = asyncio.gather(*(reader.insert({table: [look(survivor, number)]})
                                       for number, survivor in enumerate(survivors)), return_exceptions=True)
            await asyncio.sleep(0.2)
            holder.execute("COMMIT")
            return await waiting, reader._committer.transactions
        finally:
            holder.close()
            reader.close()
            await engine.dispose()

    answers, transactions = run(scenario([owner] * 20))
    assert answers == [True] * 20
    assert transactions <= 2, transactions  # the first look's transaction, then all the others' together
    assert sql(settings, "SELECT count(*) FROM access_log")[0][0] == 20

    nobody = owner + 1000  # no such person: the foreign key refuses this one look
    answers, _ = run(scenario([owner] * 9 + [nobody] + [owner] * 10))
    assert [answer is True for answer in answers] == [True] * 9 + [False] + [True] * 10
    assert isinstance(answers[9], sqlite3.IntegrityError)
    assert sql(settings, "SELECT count(*) FROM access_log")[0][0] == 20 + 19


def test_a_page_that_only_reads_leaves_sqlalchemys_session_untouched(client, other_client, settings):
    """Pages whose reads all run straight on SQLite (and a shared list, whose look is written alone) never begin a
    transaction of SQLAlchemy's session: its commit and close at the end of the request are skipped (portal.db).
    A request that writes through the session still begins one, and what it wrote is stored."""
    sign_up(client, "river")
    make_item(client, "goals", "Find a flat")
    assert post_form(client, "/check-ins", {"feeling": "4", "safe": "yes", "note": ""}).status_code == 303
    make_user(settings, "Ana", Role.CASEWORKER)
    connection = make_connection(settings, "river", "Ana", ("goals",))
    sign_in(other_client, "Ana")
    begun: list[object] = []

    def count(_session: Any, transaction: Any) -> None:
        if transaction.parent is None:
            begun.append(transaction)

    event.listen(Session, "after_transaction_create", count)
    try:
        for browser, path in ((client, "/check-ins"), (client, "/goals"), (client, "/home"),
                              (other_client, f"/people/{connection}/goals")):
            begun.clear()
            assert browser.get(path).status_code == 200, path
            assert begun == [], path
        looks = sql(settings, "SELECT count(*) FROM access_log WHERE action = 'list'")[0][0]
        assert looks >= 1  # the shared list's look was stored without the session
        begun.clear()
        made = make_item(client, "goals", "Open a bank account")
        assert begun, "a write went past the session"
        assert client.get(made).status_code == 200
    finally:
        event.remove(Session, "after_transaction_create", count)
