"""Messages between a survivor and a peer mentor, over HTTP: only the two of them read a thread (never a
caseworker, never another mentor), text is shown as text, bad input is refused with the text kept, a
paused mentor's messages wait and nothing is pushed, the open thread learns of new messages by asking,
and asking does not keep an idle session alive. The mentor writes through a second app instance, as a
second worker would, so what one worker stores another shows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from portal.db import make_engine, session_factory
from portal.models import Role
from portal.sessions import DatabaseSessionStore, RedisSessionStore, hash_token
from tests.conftest import REDIS_URL, make_connection, make_user, post_form, run, sign_in, sign_up, sql

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


@pytest.fixture
def thread(client, other_client, settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """river (survivor, on client) and ana (river's peer mentor, on other_client); the connection id."""
    sign_up(client, "river")
    make_user(settings, "ana", Role.MENTOR)
    connection = make_connection(settings, "river", "ana", label="Jo")
    sign_in(other_client, "ana")
    yield connection


def send(client, connection: str, body: str, **extra: str):  # type: ignore[no-untyped-def]
    return post_form(client, f"/messages/{connection}", {"body": body, **extra})


def test_a_mentors_message_is_read_by_the_survivor_with_an_unread_count(client, other_client, thread):
    assert send(other_client, thread, "How is your week going?").headers["location"] == f"/messages/{thread}?sent=1#latest"
    home = client.get("/home").text
    assert '<span class="badge">1<span class="visually-hidden"> unread</span></span>' in home
    listing = client.get("/messages").text
    assert "Ana · peer mentor · Safe Harbor" in listing and "1 new message" in listing
    assert client.get("/unread").text.count('class="badge"') == 1
    page = client.get(f"/messages/{thread}").text
    assert "How is your week going?" in page and "Messages with Ana · peer mentor · Safe Harbor" in page
    assert 'class="badge"' not in client.get("/unread").text  # read now
    mentor_view = other_client.get(f"/messages/{thread}").text
    assert "Messages with Jo" in mentor_view  # the name river chose, never the username
    assert "river" not in mentor_view


def test_the_survivor_replies_and_taps_quick_answers(client, other_client, thread):
    assert send(client, thread, "Better, thanks").status_code == 303
    assert post_form(client, f"/messages/{thread}", {"quick": "talk"}).status_code == 303
    mentor_view = other_client.get(f"/messages/{thread}").text
    assert "Better, thanks" in mentor_view and "Can we talk?" in mentor_view
    # Quick answers are the survivor's; a mentor's empty message with one is still empty.
    response = post_form(other_client, f"/messages/{thread}", {"quick": "ok"})
    assert response.status_code == 400 and "Write a message first." in response.text


def test_html_in_a_message_is_shown_as_text(client, other_client, thread):
    send(other_client, thread, '<script>alert(1)</script><b>bold</b>')
    page = client.get(f"/messages/{thread}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold</b>" not in page


@pytest.mark.parametrize("body, problem", [("", "Write a message first."), ("   ", "Write a message first."),
                                           ("x" * 100_000, "Use 1,000 characters or fewer.")])
def test_an_empty_or_huge_message_is_refused_and_what_was_typed_is_kept(client, other_client, settings, thread, body, problem):
    response = send(other_client, thread, body)
    assert response.status_code == 400 and problem in response.text
    if body.strip():
        assert "x" * 1000 in response.text
    assert sql(settings, "SELECT count(*) FROM message")[0][0] == 0
    assert send(other_client, thread, "y" * 1000).status_code == 303


def test_a_mentor_has_a_daily_limit(client, other_client, settings, thread):
    for _ in range(100):
        sql(settings, "INSERT INTO message (connection_id, sender_id, body, created_at, held) "
                      "SELECT :c, id, 'x', :t, false FROM app_user WHERE username = 'ana'", c=thread, t=datetime.now(UTC))
    response = send(other_client, thread, "One more")
    assert response.status_code == 429
    assert "You have sent 100 messages today." in response.text and "One more" in response.text
    assert send(client, thread, "The survivor can still answer").status_code == 303


def test_only_the_two_people_of_a_thread_ever_reach_it(client, other_client, third_client, settings, thread):
    make_user(settings, "casey", Role.CASEWORKER)
    casework = make_connection(settings, "river", "casey", ("goals",))
    make_user(settings, "other-mentor", Role.MENTOR)
    send(other_client, thread, "Private words")
    # A caseworker's connection has no thread, for the survivor either; caseworkers have no Messages.
    assert client.get(f"/messages/{casework}").status_code == 404
    assert "casey" not in client.get("/messages").text
    sign_in(third_client, "casey")
    assert third_client.get("/messages").status_code == 404
    assert third_client.get(f"/messages/{thread}").status_code == 404
    assert third_client.get(f"/messages/{casework}").status_code == 404
    assert "Private words" not in third_client.get(f"/people/{casework}/goals").text
    # Another mentor can neither read nor write it.
    third_client.cookies.clear()
    sign_in(third_client, "other-mentor")
    assert third_client.get(f"/messages/{thread}").status_code == 404
    assert send(third_client, thread, "Let me in").status_code == 404
    assert third_client.get(f"/messages/{thread}/new?after=0", headers=HTMX).status_code == 404
    assert sql(settings, "SELECT count(*) FROM message WHERE body = 'Let me in'")[0][0] == 0


def test_after_the_connection_ends_the_mentor_can_no_longer_write(client, other_client, settings, thread):
    send(other_client, thread, "Before")
    assert post_form(client, f"/sharing/{thread}/end").status_code == 303
    assert send(other_client, thread, "After").status_code == 404
    assert other_client.get(f"/messages/{thread}").status_code == 404
    assert client.get(f"/messages/{thread}").status_code == 404
    assert [row[0] for row in sql(settings, "SELECT body FROM message")] == ["Before"]


def test_a_paused_mentors_messages_wait_and_nothing_is_pushed_until_the_survivor_resumes(client, other_client, settings, thread):
    assert post_form(client, f"/messages/{thread}/pause").status_code == 303
    assert "You paused Ana · peer mentor · Safe Harbor." in client.get(f"/messages/{thread}").text
    assert post_form(other_client, f"/messages/{thread}/pause").status_code == 404  # only the survivor pauses
    assert send(other_client, thread, "Are you there?").status_code == 303
    mentor_view = other_client.get(f"/messages/{thread}").text
    assert "Paused. Jo is taking a break." in mentor_view and "waiting: paused" in mentor_view
    assert "Are you there?" not in client.get(f"/messages/{thread}").text
    assert 'class="badge"' not in client.get("/unread").text
    sql(settings, "INSERT INTO push_subscription (id, user_id, endpoint, endpoint_hash, p256dh, auth, device, created_at) "
                  "SELECT 'phone', id, 'https://fcm.googleapis.com/x', 'h', 'k', 'a', '', :t FROM app_user WHERE username = 'river'",
        t=datetime.now(UTC))
    send(other_client, thread, "Still there?")
    assert sql(settings, "SELECT count(*) FROM push_outbox")[0][0] == 0
    assert post_form(client, f"/messages/{thread}/resume").status_code == 303
    page = client.get(f"/messages/{thread}").text
    assert "Are you there?" in page and "Still there?" in page
    assert sql(settings, "SELECT kind FROM push_outbox") == [("messages",)]  # one note for what waited


def test_the_open_thread_asks_for_news_and_gets_204_when_there_is_none(client, other_client, thread):
    page = client.get(f"/messages/{thread}").text
    assert f'hx-get="/messages/{thread}/new?after=0"' in page
    quiet = client.get(f"/messages/{thread}/new?after=0", headers=HTMX)
    assert quiet.status_code == 204 and quiet.content == b""
    send(other_client, thread, "News!")
    fresh = client.get(f"/messages/{thread}/new?after=0", headers=HTMX)
    assert fresh.status_code == 200
    assert "News!" in fresh.text and 'id="thread"' in fresh.text
    assert '<div id="wp-announce" hx-swap-oob="innerHTML">1 new message</div>' in fresh.text
    assert "<html" not in fresh.text
    newest = sql_newest(client, thread)
    assert client.get(f"/messages/{thread}/new?after={newest}", headers=HTMX).status_code == 204
    assert client.get(f"/messages/{thread}/new?after=0", follow_redirects=False).status_code == 303  # not a page


@pytest.mark.parametrize("number", ["²", "¹²", "x", "9" * 5000], ids=["superscript", "superscripts", "letter", "5000-digits"])
def test_a_message_id_in_the_address_that_is_not_plain_digits_is_ignored(client, other_client, thread, number):
    # "²" is a digit to str.isdigit() but not to int(): ?before= and ?after= with it were a 500.
    send(other_client, thread, "News!")
    assert "News!" in client.get(f"/messages/{thread}", params={"before": number}).text
    fresh = client.get(f"/messages/{thread}/new", params={"after": number}, headers=HTMX)
    assert fresh.status_code == 200 and "News!" in fresh.text


def sql_newest(client, thread: str) -> str:  # type: ignore[no-untyped-def]
    import re

    return re.search(r"/new\?after=(\d+)", client.get(f"/messages/{thread}").text).group(1)  # type: ignore[union-attr]


def test_sending_with_htmx_puts_the_thread_back_with_an_empty_box(client, thread):
    response = post_form(client, f"/messages/{thread}", {"body": "Quick hello"}, headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="conversation">')
    assert "Quick hello" in response.text and "></textarea>" in response.text


def _store(settings):  # type: ignore[no-untyped-def]
    """The session store the app uses, opened from the test's own event loop; and what to close after."""
    if REDIS_URL:
        redis = Redis.from_url(REDIS_URL)
        return RedisSessionStore(redis, "waypoint:"), redis.aclose
    engine = make_engine(settings.database_url)
    return DatabaseSessionStore(session_factory(engine)), engine.dispose


def _last_seen(settings, token: str, set_to: datetime | None = None) -> datetime:  # type: ignore[no-untyped-def]
    async def go() -> datetime:
        store, close = _store(settings)
        record = await store.get(hash_token(token))
        assert record is not None
        if set_to is not None:
            await store.touch(record, set_to)
        record = await store.get(hash_token(token))
        await close()
        return record.last_seen_at  # type: ignore[union-attr]

    return run(go())


def test_asking_for_news_does_not_keep_an_idle_session_alive(client, thread, settings):
    token = client.cookies.get("wp_session")
    long_ago = datetime.now(UTC) - timedelta(minutes=14)
    _last_seen(settings, token, set_to=long_ago)
    assert client.get("/unread").status_code == 200
    assert client.get(f"/messages/{thread}/new?after=0", headers=HTMX).status_code == 204
    assert abs(_last_seen(settings, token) - long_ago) < timedelta(seconds=1)
    client.get("/messages")  # a person at work
    assert datetime.now(UTC) - _last_seen(settings, token) < timedelta(minutes=1)
