"""Only `portal/policy.py` reads survivor-owned tables: the parts (every table in the registry), messages,
and what is about the survivor's sharing (connections, share cards, requests, the access log). This test
reads the code, every module under portal/ however deep: any `select(...)`, `db.get(...)` or `db.exec(...)`
naming one of those tables anywhere else fails it, unless it is one of the few places listed below, each
with the reason it is safe. A new query in a handler therefore
cannot skip the policy without someone adding it here, in review."""

from __future__ import annotations

import ast
from pathlib import Path

from portal.parts import PARTS

PORTAL = Path(__file__).resolve().parent.parent / "portal"
# Every part's table comes from the registry: a new part is covered without touching this test.
OWNED = {part.model.__name__ for part in PARTS} | {
    "GoalStep", "DocumentChunk", "Message", "Connection", "Grant", "AccessRequest", "AccessLog",
    "JournalVersion", "JournalFile", "Feedback",
}
ALLOWED = {
    # Steps of a goal that policy.readable or policy.changeable has just returned.
    ("goals.py", "steps_of", "GoalStep"),
    ("goals.py", "_step", "GoalStep"),
    ("goals.py", "add_step", "GoalStep"),
    # A survivor's first safety plan, written for themselves (one each: a second first save at once does nothing).
    ("safety_plan.py", "create", "SafetyPlan"),
    # What an item holds, deleted before it (shares.remove_item, after policy.changeable has returned the item):
    # a goal's steps, a journal entry's files and earlier versions, by that item's id.
    ("goals.py", "remove", "GoalStep"),
    ("goals.py", "steps_go", "GoalStep"),
    # A journal entry's earlier versions and files, by the id of an entry that policy.readable or
    # policy.changeable has just returned (its file, also by that entry's id).
    ("journal.py", "versions_of", "JournalVersion"),
    ("journal.py", "files_of", "JournalFile"),
    ("journal.py", "file_of", "JournalFile"),
    ("journal.py", "remove", "JournalFile"),
    ("journal.py", "remove", "JournalVersion"),
    ("journal.py", "files_and_versions_go", "JournalFile"),
    ("journal.py", "files_and_versions_go", "JournalVersion"),
    # Encrypted chunks by a storage key that only an allowed document (or journal file) row supplies; the
    # clean-up of chunks that no document or journal file owns reads no survivor data.
    ("storage.py", "write", "DocumentChunk"),
    ("storage.py", "read", "DocumentChunk"),
    ("storage.py", "delete", "DocumentChunk"),
    ("storage.py", "remove_orphans", "DocumentChunk"),
    ("storage.py", "remove_orphans", "Document"),
    ("storage.py", "remove_orphans", "JournalFile"),
    # Writes the survivor makes on their own connections and cards, after policy.connections or
    # policy.changeable returned them: the row lock of a connection while its sharing is saved, stopping cards.
    ("shares.py", "hold_connection", "Connection"),
    ("shares.py", "revoke", "Grant"),
    ("shares.py", "revoke_item_cards", "Grant"),
    ("sharing.py", "stop_card", "Grant"),
    # The admin's overview counts live connections in the whole deployment: a number, nobody's data.
    ("admin.py", "_staff_page", "Connection"),
    # The reminder worker acts for each owner on their own items: it reads ids and times to queue a
    # notification for that owner's own phones, and sends none of their words (tests/test_push.py).
    ("outbox.py", "schedule_due", "Appointment"),
    ("outbox.py", "schedule_due", "Document"),
    ("outbox.py", "_still_wanted", "Appointment"),
    # ... and whether a request it is to remind of is still unanswered (a yes or no, never its words).
    ("outbox.py", "_still_wanted", "AccessRequest"),
    ("outbox.py", "_still_wanted", "Document"),
    ("outbox.py", "_still_wanted", "Message"),
    # A survivor's own answer to an organisation (feedback), written and taken back by them, for the organisation
    # of the staff member on a connection that policy.own_connection has just returned as theirs.
    ("profiles.py", "send_feedback", "Feedback"),
    ("profiles.py", "take_back_feedback", "Feedback"),
    # ... and taken back from Settings: a delete of that survivor's own row only (survivor_id is the viewer's).
    ("profiles.py", "take_back_answer", "Feedback"),
}
QUERY_CALLS = {"select", "get", "exec", "delete", "update", "insert"}


def _queries(folder: Path = PORTAL) -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    for path in sorted(folder.rglob("*.py")):
        if path == PORTAL / "policy.py":
            continue
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for call in ast.walk(function):
                if not isinstance(call, ast.Call):
                    continue
                name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
                if name not in QUERY_CALLS:
                    continue
                for arg in call.args:
                    for node in ast.walk(arg):
                        if isinstance(node, ast.Name) and node.id in OWNED:
                            found.add((path.name, function.name, node.id))
    return found


def test_only_the_policy_reads_survivor_owned_tables():
    outside = _queries() - ALLOWED
    assert not outside, f"survivor data read outside portal/policy.py (go through policy, or justify it here): {sorted(outside)}"


def test_the_list_of_exceptions_has_no_stale_entries():
    assert ALLOWED <= _queries(), sorted(ALLOWED - _queries())


def test_the_scan_finds_a_handler_that_queries_for_itself(tmp_path):
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "log.py").write_text(
        "async def peek(db, owner_id):\n"
        "    return (await db.exec(select(AccessLog).where(AccessLog.survivor_id == owner_id))).all()\n"
    )
    (tmp_path / "sneaky.py").write_text(
        "async def peek(db, owner_id):\n"
        "    return (await db.exec(select(Goal).where(Goal.owner_id == owner_id))).all()\n"
        "async def fetch(db, item_id):\n"
        "    return await db.get(CheckIn, item_id)\n"
    )
    assert _queries(tmp_path) == {("sneaky.py", "peek", "Goal"), ("sneaky.py", "fetch", "CheckIn"),
                                  ("log.py", "peek", "AccessLog")}

