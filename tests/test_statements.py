"""How many SQL statements each page costs: every page a survivor, a caseworker and a mentor use most, counted
through the database driver, against a budget. A page that reads one row per item (N+1) grows with the items and
fails here; `test_an_n_plus_one_is_caught` shows that it would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from portal.models import Role
from portal.parts import BY_KEY, PARTS
from tests.conftest import make_connection, make_user, post_form, run, sign_in, sign_up, sql, statements_run
from tests.part_builders import BUILDERS


def statements_of(client, url: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The SQL statements a page runs: through SQLAlchemy and straight on SQLite alike (tests.conftest)."""
    client.get(url)  # once before: a first visit may write (the session's last seen, a staff member's Home)
    with statements_run() as found:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [statement for statement, _values in found]


@pytest.fixture
def world(client, other_client, settings):  # type: ignore[no-untyped-def]
    """A survivor with several items of every part, all shared with a caseworker who has looked at them, and a
    mentor's thread: so a statement per row would show."""
    sign_up(client, "river")
    items = {part.key: [BUILDERS[part.key](client, f"note {n}") for n in range(1 if part.key == "safety_plan" else 3)]
             for part in PARTS}
    for url in items["goals"]:
        for step in ("One", "Two"):
            post_form(client, f"{url}/steps", {"step": step})
    make_user(settings, "cw-ana", Role.CASEWORKER)
    make_user(settings, "pm-jo", Role.MENTOR)
    connection = make_connection(settings, "river", "cw-ana", tuple(BY_KEY))
    make_connection(settings, "river", "pm-jo")
    sign_in(other_client, "cw-ana")
    for part in PARTS:
        for url in items[part.key]:
            other_client.get(f"/people/{connection}/{part.key}/{url.rsplit('/', 1)[1]}")
    return {"items": items, "connection": connection}


# Statements each page may run, counted after a first visit. Home: the viewer (session, person, menu counts) in one,
# what it shows of every part in one, and who can see each part.
BUDGETS = {
    "/home": 3, "/goals": 4, "/goals/achieved": 4, "/appointments": 3, "/appointments/past": 3, "/documents": 3,
    "/check-ins": 3, "/safety-plan": 4, "/life-areas": 5, "/journal": 3, "/sharing": 3, "/sharing/log": 4,
    "/messages": 4, "/settings": 1, "goal": 5, "journal entry": 6,
    # A caseworker's pages.
    "/staff": 5, "/people": 4, "person": 3, "shared goals": 4, "shared journal": 4, "shared goal": 5,
}


def _pages(world) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Budget name -> (who asks: "survivor" or "caseworker", address)."""
    c, goal, entry = world["connection"], world["items"]["goals"][0], world["items"]["journal"][0]
    pages = {name: ("survivor", name) for name in BUDGETS if name.startswith("/")}
    pages.update({"goal": ("survivor", goal), "journal entry": ("survivor", entry)})
    for name in ("/staff", "/people"):
        pages[name] = ("caseworker", name)
    pages.update({"person": ("caseworker", f"/people/{c}"), "shared goals": ("caseworker", f"/people/{c}/goals"),
                  "shared journal": ("caseworker", f"/people/{c}/journal"),
                  "shared goal": ("caseworker", f"/people/{c}/goals/{goal.rsplit('/', 1)[1]}")})
    return pages


def over_budget(client, other_client, world) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Every page over its budget, with the statements it ran."""
    found = {}
    for name, (who, url) in _pages(world).items():
        seen = statements_of(client if who == "survivor" else other_client, url)
        if len(seen) > BUDGETS[name]:
            found[name] = seen
    return found


def test_every_page_keeps_to_its_statement_budget(client, other_client, world):
    problems = over_budget(client, other_client, world)
    assert not problems, {name: [s[:120] for s in seen] for name, seen in problems.items()}
    assert set(_pages(world)) == set(BUDGETS)


def test_statements_do_not_grow_with_the_rows_shown(client, other_client, settings, world):
    """Twice the items of every part (and more looks in Who has looked): every page runs as many statements."""
    pages = _pages(world)
    before = {name: len(statements_of(client if who == "survivor" else other_client, url))
              for name, (who, url) in pages.items()}
    for part in PARTS:
        if part.key != "safety_plan":
            for n in range(3):
                url = BUILDERS[part.key](client, f"more {n}")
                other_client.get(f"/people/{world['connection']}/{part.key}/{url.rsplit('/', 1)[1]}")
    after = {name: len(statements_of(client if who == "survivor" else other_client, url))
             for name, (who, url) in pages.items()}
    assert after == before


def test_an_n_plus_one_is_caught(client, other_client, world, monkeypatch):
    """A list that reads each of its rows again (the classic N+1) puts its pages over budget, and the check
    above says so. Every list is made to do that here by wrapping the registry's list read."""
    from portal import policy

    shown = policy.shown

    async def one_by_one(db, viewer, listing, owner_id, **kwargs):  # type: ignore[no-untyped-def]
        rows, more = await shown(db, viewer, listing, owner_id, **kwargs)
        model = listing.part.model
        return [(await db.exec(select(model).where(model.id == row.id))).one() for row in rows], more

    assert not over_budget(client, other_client, world)
    monkeypatch.setattr(policy, "shown", one_by_one)
    problems = over_budget(client, other_client, world)
    assert {"/goals", "/appointments", "/documents", "/journal", "shared goals", "shared journal"} <= set(problems), set(problems)


def test_a_row_kept_for_the_commit_goes_in_with_it_and_a_rollback_drops_it(client, settings):
    """A look in Who has looked is inserted when the request commits, as one Core statement: a rollback (a request
    that failed after its read) drops it, and a commit writes it, whatever the session committed before."""
    from portal.db import insert_at_commit, make_engine, session_factory
    from portal.models import AccessLog

    owner = make_user(settings, "river")
    table = AccessLog.__table__  # type: ignore[attr-defined]

    def look(words: str) -> dict[str, object]:
        return {"survivor_id": owner, "viewer_id": None, "viewer_name": words, "viewer_role": "caseworker",
                "viewer_organisation": "", "part": "goals", "item_id": None, "action": "list",
                "at": datetime.now(UTC)}

    async def scenario() -> None:
        engine = make_engine(settings.database_url)
        async with session_factory(engine)() as db:
            await db.exec(select(AccessLog))  # a look is noted after the read it records
            insert_at_commit(db, table, look("rolled back"))
            await db.rollback()
            await db.exec(select(AccessLog))
            insert_at_commit(db, table, look("first"))
            insert_at_commit(db, table, look("second"))
            await db.commit()
            await db.commit()  # nothing left for a second commit
        await engine.dispose()

    run(scenario())
    names = [row[0] for row in sql(settings, "SELECT viewer_name FROM access_log ORDER BY id")]
    assert names == ["first", "second"]
