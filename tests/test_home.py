"""Home over HTTP: the next appointment, active goals, the last check-in, documents to renew, and one
clear next action; every item says who can see it; nothing of another survivor's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.conftest import post_form, sign_up
from tests.test_checkins import check_in
from tests.test_documents import PDF, upload

TODAY = datetime.now(UTC).date()


def next_action(client) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    section = client.get("/home").text.split('aria-labelledby="next-action"')[1].split("</section>")[0]
    link = re.search(r'<a class="button" href="([^"]+)">([^<]+)</a>', section)
    assert link, section
    return link.group(2), link.group(1)


def new_goal(client, title: str) -> str:  # type: ignore[no-untyped-def]
    response = post_form(client, "/goals", {"title": title, "why": "", "area": "work", "target_date": ""})
    assert response.status_code == 303
    return response.headers["location"]


def test_home_gathers_the_survivors_own_things_each_marked_only_you(client):
    sign_up(client, "river")
    empty = client.get("/home").text
    assert "A check-in takes less than a minute" in empty and "Documents to renew" not in empty

    goal = new_goal(client, "Finish my course")
    check_in(client, feeling="4")
    soon = (TODAY + timedelta(days=20)).isoformat()
    upload(client, PDF, name="Work permit", kind="immigration", expires_on=soon)
    upload(client, PDF, name="Library card", kind="other", expires_on=(TODAY + timedelta(days=400)).isoformat())
    future = (TODAY + timedelta(days=30)).isoformat()
    assert post_form(client, "/appointments", {"what": "Visit the clinic", "date": future, "time": "10:00",
                                              "reminder": "none"}).status_code == 303
    home = client.get("/home").text
    assert "<title>Waypoint – Home</title>" in home
    assert "Visit the clinic" in home and f'href="{goal}"' in home
    assert "Feeling: 4 · Good" in home
    renew = home.split("Documents to renew")[1]
    assert "Work permit" in renew and "Expires within 60 days" in renew and "Library card" not in renew
    # Every item on Home says who can see it: today, only the survivor.
    sections = {part.split("</h2>")[0]: part for part in home.split("<h2>")[1:]}
    for heading in ("Next appointment", "Your goals", "Last check-in", "Documents to renew"):
        cards = sections[heading].split('class="card"')[1:]
        assert cards and all("Only you can see this." in card for card in cards), heading


def test_the_next_action_is_one_clear_step(client):
    sign_up(client, "river")
    assert next_action(client) == ("New check-in", "/check-ins/new")
    check_in(client)
    assert next_action(client) == ("New goal", "/goals/new")
    goal = new_goal(client, "Open a bank account")
    assert post_form(client, f"{goal}/steps", {"step": "Find which papers I need"}).status_code == 303
    assert next_action(client) == ("Take the next step on a goal", goal)
    upload(client, PDF, name="Passport", kind="id", expires_on=(TODAY - timedelta(days=2)).isoformat())
    assert next_action(client) == ("Look at your documents", "/documents")
    assert "A document has expired or expires soon." in client.get("/home").text


def test_home_shows_nothing_of_another_survivor(client, other_client):
    sign_up(client, "river")
    new_goal(client, "River's goal")
    check_in(client, feeling="1", note="private")
    upload(client, PDF, name="River's passport", kind="id", expires_on=(TODAY + timedelta(days=3)).isoformat())
    sign_up(other_client, "someone-else")
    home = other_client.get("/home").text
    assert "River" not in home and "private" not in home and "Feeling:" not in home
    assert "Documents to renew" not in home
