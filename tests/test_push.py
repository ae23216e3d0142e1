"""Reminders on the phone, end to end: real encrypted pushes (RFC 8291) signed with VAPID, received and
decrypted by a push service on loopback; the payload never carries a person's words. The sender is the
app's own worker, run here with a controlled clock: quiet hours hold a notification until they end,
failures are retried with backoff, gone devices are removed, a crashed worker's rows are taken over, and
two workers never send one notification twice. Subscriptions a browser sends are checked."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from portal import outbox as push_outbox, push
from portal.db import make_engine, session_factory
from portal.models import Role
from tests.conftest import make_connection, make_user, post_form, run, sign_in, sign_up, sql, user_id
from tests.push_service import PushService
from tests.test_passkeys import confirm

SECRET = "Court on Tuesday, bring the visa"


@pytest.fixture
def service(app, settings) -> Iterator[PushService]:  # type: ignore[no-untyped-def]
    started = PushService(app.state.services.vapid.public_key, settings.push_contact).start()
    yield started
    started.close()
    assert not started.problems, started.problems


def work(app, settings, now: datetime | None = None, *, timeout: float = 10.0, workers: int = 1) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Run the app's reminder worker once (several at once with `workers`), as the background task does."""

    async def go() -> dict[str, int]:
        engine = make_engine(settings.database_url)
        try:
            crew = [push_outbox.Worker(session_factory(engine), app.state.services.vapid, app.state.services.push_hosts,
                                 send_timeout=timeout) for _ in range(workers)]
            results = await asyncio.gather(*(worker.run_once(now) for worker in crew))
        finally:
            await engine.dispose()
        totals: dict[str, int] = {}
        for result in results:
            for name, value in result.items():
                totals[name] = totals.get(name, 0) + value
        return totals

    return run(go())


def add_device(client, service: PushService, name: str = "phone") -> None:  # type: ignore[no-untyped-def]
    """Confirm it's you (the password again), then turn reminders on for a new phone."""
    confirm(client, kind="device")
    response = post_form(client, "/settings/devices", service.subscription(name))
    assert response.headers["location"] == "/settings/reminders?done=device-added"


def moment(value: datetime | str) -> datetime:
    """A time read back with plain SQL (SQLite gives text, PostgreSQL a datetime), in UTC."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def outbox(settings) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    return sql(settings, "SELECT kind, state, attempts, next_at, key FROM push_outbox ORDER BY id")


@pytest.fixture
def thread(client, other_client, settings, service) -> str:  # type: ignore[no-untyped-def]
    """river (survivor, one phone) and ana (river's peer mentor, signed in on other_client); the connection id."""
    sign_up(client, "river")
    add_device(client, service)
    make_user(settings, "ana", Role.MENTOR)
    connection = make_connection(settings, "river", "ana")
    sign_in(other_client, "ana")
    return connection


def test_a_new_message_reaches_the_phone_encrypted_signed_and_without_words(app, client, other_client, settings, service, thread):
    assert post_form(other_client, f"/messages/{thread}", {"body": SECRET}).status_code == 303
    counts = work(app, settings)
    assert counts["sent"] == 1
    [delivery] = service.deliveries
    assert delivery.payload == {"text": "You have a new update", "open": "/messages"}
    assert delivery.headers["ttl"] == str(push.TTL) and delivery.headers["topic"] == "update"  # the same for every kind
    raw = repr(delivery.payload) + repr(delivery.headers)
    for word in ("Court", "visa", "ana", "river", thread):
        assert word not in raw
    assert work(app, settings)["sent"] == 0  # sent once


def test_the_words_on_the_lock_screen_are_the_persons_choice(app, client, other_client, settings, service, thread):
    response = post_form(client, "/settings/reminders", {"kinds": "messages", "text": "Weather update", "checkin_time": "18:00"})
    assert response.status_code == 303
    post_form(other_client, f"/messages/{thread}", {"body": SECRET})
    work(app, settings)
    assert [d.payload["text"] for d in service.deliveries] == ["Weather update"]


def test_each_kind_can_be_switched_off_and_a_read_message_is_not_pushed(app, client, other_client, settings, service, thread):
    post_form(client, "/settings/reminders", {"kinds": "appointments", "checkin_time": "18:00"})
    post_form(other_client, f"/messages/{thread}", {"body": "One"})
    assert work(app, settings)["sent"] == 0
    post_form(client, "/settings/reminders", {"kinds": "messages", "checkin_time": "18:00"})
    post_form(other_client, f"/messages/{thread}", {"body": "Two"})
    client.get(f"/messages/{thread}")  # read before the worker came round
    counts = work(app, settings)
    assert counts["sent"] == 0 and counts["dropped"] == 1
    assert service.deliveries == []


def test_quiet_hours_hold_a_notification_until_they_end(app, client, other_client, settings, service, thread):
    post_form(client, "/settings/time-zone", {"time_zone": "America/New_York"})
    post_form(client, "/settings/reminders", {"kinds": "messages", "checkin_time": "18:00", "quiet_from": "21:00", "quiet_to": "08:00"})
    post_form(other_client, f"/messages/{thread}", {"body": "Late"})
    night = datetime(2030, 1, 15, 3, 30, tzinfo=UTC)  # 22:30 in New York
    assert work(app, settings, night)["waiting"] == 1
    assert service.deliveries == []
    [(kind, state, attempts, next_at, key)] = outbox(settings)
    opens = datetime(2030, 1, 15, 13, 0, tzinfo=UTC)  # 08:00 in New York
    assert (state, attempts) == ("waiting", 0) and moment(next_at) == opens
    assert work(app, settings, opens - timedelta(minutes=1))["sent"] == 0
    assert work(app, settings, opens)["sent"] == 1
    assert len(service.deliveries) == 1


def test_a_failing_push_service_is_retried_with_backoff(app, client, other_client, settings, service, thread):
    service.scripted["/push/phone"] = [500, 429]
    post_form(other_client, f"/messages/{thread}", {"body": "Hello"})
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert work(app, settings, now)["retry"] == 1
    [(_kind, state, attempts, next_at, _key)] = outbox(settings)
    assert (state, attempts) == ("waiting", 1) and moment(next_at) == now + timedelta(seconds=30)
    later = now + timedelta(seconds=30)
    assert work(app, settings, later)["retry"] == 1  # 429 with Retry-After: 120
    [(_kind, state, attempts, next_at, _key)] = outbox(settings)
    assert attempts == 2 and moment(next_at) == later + timedelta(seconds=120)
    assert work(app, settings, later + timedelta(seconds=119))["sent"] == 0
    assert work(app, settings, later + timedelta(seconds=120))["sent"] == 1
    assert outbox(settings)[0][1] == "sent"


def test_a_push_service_that_hangs_is_given_up_on_and_tried_again(app, client, other_client, settings, service, thread):
    service.scripted["/push/phone"] = ["hang"]
    post_form(other_client, f"/messages/{thread}", {"body": "Hello"})
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert work(app, settings, now, timeout=0.5)["retry"] == 1
    assert work(app, settings, now + timedelta(seconds=30))["sent"] == 1


def test_a_device_the_push_service_no_longer_knows_is_removed(app, client, other_client, settings, service, thread):
    service.scripted["/push/phone"] = [410]
    post_form(other_client, f"/messages/{thread}", {"body": "Hello"})
    assert work(app, settings)["gone"] == 1
    assert sql(settings, "SELECT count(*) FROM push_subscription")[0][0] == 0
    assert outbox(settings) == []
    assert "Phones and browsers that get reminders" not in client.get("/settings/reminders").text


def test_rows_a_crashed_worker_claimed_are_sent_once_its_lease_ends(app, client, other_client, settings, service, thread):
    post_form(other_client, f"/messages/{thread}", {"body": "Hello"})
    now = datetime.now(UTC) + timedelta(seconds=1)

    async def claim_and_die() -> None:
        engine = make_engine(settings.database_url)
        async with session_factory(engine)() as db:
            await push_outbox.claim(db, now)
        await engine.dispose()

    run(claim_and_die())
    assert work(app, settings, now + timedelta(minutes=1))["claimed"] == 0
    assert work(app, settings, now + push_outbox.LEASE + timedelta(seconds=1))["sent"] == 1


def test_two_workers_at_once_send_each_notification_once(app, client, settings, service):
    sign_up(client, "river")
    for number in range(5):
        add_device(client, service, f"phone-{number}")
    make_user(settings, "ana", Role.MENTOR)
    connection = make_connection(settings, "river", "ana")
    survivor = user_id(settings, "river")
    for _ in range(40):
        sql(settings, "INSERT INTO message (connection_id, sender_id, body, created_at, held) "
                      "SELECT :c, id, 'x', :t, false FROM app_user WHERE username = 'ana'", c=connection, t=datetime.now(UTC))
    ids = [row[0] for row in sql(settings, "SELECT id FROM message")]

    async def queue_all() -> None:
        engine = make_engine(settings.database_url)
        async with session_factory(engine)() as db:
            for message_id in ids:
                await push_outbox.queue_message(db, survivor, message_id)
            await db.commit()
        await engine.dispose()

    run(queue_all())
    counts = work(app, settings, workers=2)
    assert counts["sent"] == 200
    assert set(service.counts().values()) == {40} and len(service.counts()) == 5
    assert {row[1] for row in outbox(settings)} == {"sent"}


def test_appointment_reminders_go_out_once_at_their_time(app, client, settings, service):
    sign_up(client, "river")
    add_device(client, service)
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    response = post_form(client, "/appointments", {"what": "Clinic", "date": day.isoformat(), "time": "10:00", "reminder": "1d"})
    appointment = response.headers["location"].rsplit("/", 1)[1]
    starts = datetime.combine(day, datetime.min.time(), tzinfo=UTC).replace(hour=10)
    [(remind_at,)] = sql(settings, "SELECT remind_at FROM appointment")
    assert moment(remind_at) == starts - timedelta(days=1)
    assert work(app, settings, starts - timedelta(days=1, minutes=1))["sent"] == 0
    counts = work(app, settings, starts - timedelta(days=1))
    assert counts["queued"] == 1 and counts["sent"] == 1
    assert service.deliveries[0].payload == {"text": "You have a new update", "open": "/appointments"}
    assert appointment not in repr(service.deliveries[0])
    assert work(app, settings, starts - timedelta(hours=2))["sent"] == 0  # once
    assert sql(settings, "SELECT remind_at FROM appointment") == [(None,)]


def test_a_document_is_warned_about_30_and_7_days_before_it_expires(app, client, settings, service):
    from tests.test_documents import PDF, upload

    sign_up(client, "river")
    add_device(client, service)
    expires = date.today() + timedelta(days=60)
    upload(client, PDF, expires_on=expires.isoformat())
    first = datetime.combine(expires - timedelta(days=30), datetime.min.time(), tzinfo=UTC).replace(hour=10)
    [(warn_at,)] = sql(settings, "SELECT warn_at FROM document")
    assert moment(warn_at) == first
    assert work(app, settings, first)["sent"] == 1
    [(warn_at,)] = sql(settings, "SELECT warn_at FROM document")
    assert moment(warn_at) == first + timedelta(days=23)
    assert work(app, settings, first + timedelta(days=23))["sent"] == 1
    assert sql(settings, "SELECT warn_at FROM document") == [(None,)]
    assert [d.payload["open"] for d in service.deliveries] == ["/documents", "/documents"]


def test_check_in_reminders_come_on_the_chosen_days_at_the_chosen_time(app, client, settings, service):
    sign_up(client, "river")
    add_device(client, service)
    response = post_form(client, "/settings/reminders", {"kinds": "checkins", "days": "2", "checkin_time": "18:30"})
    assert response.status_code == 303
    [(next_at,)] = sql(settings, "SELECT checkin_next_at FROM push_settings")
    next_at = moment(next_at)
    assert next_at.weekday() == 2 and (next_at.hour, next_at.minute) == (18, 30)
    assert work(app, settings, next_at)["sent"] == 1
    [(following,)] = sql(settings, "SELECT checkin_next_at FROM push_settings")
    assert moment(following) == next_at + timedelta(days=7)
    assert service.deliveries[0].payload["open"] == "/check-ins/new"


def test_a_request_to_see_something_can_remind_the_survivor_in_neutral_words_and_is_off_by_default(
        app, client, other_client, settings, service):
    sign_up(client, "river")
    add_device(client, service)
    make_user(settings, "amira", Role.CASEWORKER)
    connection = make_connection(settings, "river", "amira")
    sign_in(other_client, "amira")

    def ask(part: str) -> None:
        asked = post_form(other_client, f"/people/{connection}/ask", {"part": part, "reason": "For the court letter"})
        assert asked.status_code == 303, asked.text

    ask("goals")
    assert work(app, settings)["sent"] == 0 and outbox(settings) == []  # off until the survivor turns it on
    assert 'value="requests" checked' not in client.get("/settings/reminders").text
    post_form(client, "/settings/reminders", {"kinds": ["messages", "requests"], "checkin_time": "18:00"})
    assert 'value="requests" checked' in client.get("/settings/reminders").text
    ask("documents")
    assert work(app, settings)["sent"] == 1
    [delivery] = service.deliveries
    assert delivery.payload == {"text": "You have a new update", "open": "/sharing#requests"}
    for word in ("court", "amira", "documents", "river", connection):
        assert word not in (repr(delivery.payload) + repr(delivery.headers)).lower()
    # Answered before the worker came round: not sent.
    ask("appointments")
    waiting = re.findall(r'id="request-([^"]+)"', client.get("/sharing").text)
    for request_id in waiting:
        post_form(client, f"/sharing/requests/{request_id}/decline")
    counts = work(app, settings)
    assert counts["sent"] == 0 and counts["dropped"] == 1


def test_reminder_settings_refuse_bad_times_and_keep_what_was_typed(client):
    sign_up(client, "river")
    response = post_form(client, "/settings/reminders", {"kinds": "checkins", "checkin_time": "25:99", "quiet_from": "21:00",
                                                         "text": "x" * 61})
    assert response.status_code == 400
    assert "Enter a time like 18:00." in response.text
    assert "Enter both times, or leave both empty." in response.text
    assert "Use 60 characters or fewer." in response.text
    assert 'value="21:00"' in response.text


def test_a_refused_reminder_form_changes_nothing_and_is_not_a_500_on_any_database(client, settings):
    # The refused values were set on the stored row and went to the database with the page: saved on SQLite,
    # and a 500 on PostgreSQL for a time longer than its 5 characters.
    sign_up(client, "river")
    saved = {"kinds": "messages", "text": "Weather update", "checkin_time": "18:00", "quiet_from": "21:00", "quiet_to": "07:00"}
    assert post_form(client, "/settings/reminders", saved).status_code == 303
    response = post_form(client, "/settings/reminders", {**saved, "kinds": "checkins", "quiet_from": "9:00 pm"})
    assert response.status_code == 400 and 'value="9:00 pm"' in response.text  # what was typed is kept on the page
    assert sql(settings, "SELECT messages, checkins, text, quiet_from, quiet_to FROM push_settings") == [
        (True, False, "Weather update", "21:00", "07:00")]


@pytest.mark.parametrize("change", [
    {"endpoint": "not a url"},
    {"endpoint": "ftp://127.0.0.1/push/x"},
    {"endpoint": "http://push.example.org/x"},
    {"endpoint": "https://evil.example.org/x"},
    {"endpoint": "https://user:pw@fcm.googleapis.com/x"},
    {"endpoint": "http://127.0.0.1:99999/x"},
    {"endpoint": "https://fcm.googleapis.com/" + "x" * 1000},
    {"p256dh": "AAAA"},
    {"p256dh": "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    {"auth": "c2hvcnQ"},
    {"auth": "%%%"},
    {"endpoint": ""},
])
def test_a_forged_subscription_is_refused(client, settings, service, change):
    sign_up(client, "river")
    confirm(client, kind="device")
    form = {**service.subscription("phone"), **change}
    response = post_form(client, "/settings/devices", form)
    assert response.headers["location"] == "/settings/reminders?done=device-refused"
    assert sql(settings, "SELECT count(*) FROM push_subscription")[0][0] == 0
    assert "This phone could not be added." in client.get(response.headers["location"]).text


def test_production_accepts_only_https_push_services(settings, service):
    subscription = service.subscription("phone")
    production = push.PushHosts.of(replace(settings, env="production"))
    keys = subscription["p256dh"], subscription["auth"]
    assert push.subscription_problem(subscription["endpoint"], *keys, production) == "endpoint"
    assert push.subscription_problem(subscription["endpoint"], *keys, push.PushHosts.of(settings)) == ""
    assert push.subscription_problem("https://fcm.googleapis.com/fcm/send/abc", *keys, production) == ""
    assert push.subscription_problem("https://updates.push.services.mozilla.com/wpush/v2/x", *keys, production) == ""
    assert push.subscription_problem("https://FCM.googleapis.com/fcm/send/abc", *keys, production) == ""


# Addresses that are not a listed push service on its default port, however they are dressed up; each
# one was let through by some reading of a URL (ours, the HTTP client's, or a resolver's).
NOT_PUSH_SERVICES = [
    "https://127.0.0.1\\.fcm.googleapis.com/x",  # the client stops the host at the backslash
    "https://fcm.googleapis.com\\@127.0.0.1/x",
    "https://fcm.googleapis.com:8443/x",
    "https://fcm.googleapis.com:/x",  # an empty port
    "https://fcm.googleapis.com:443/x",  # the default port, written out: still not the plain name
    "https://fcm.googleapis.com@127.0.0.1/x",
    "https://user:pw@fcm.googleapis.com/x",
    "https://localhost/x",
    "https://127.0.0.1/x",
    "https://[::1]/x",
    "https://2130706433/x",  # 127.0.0.1 as one number
    "https://0x7f.0.0.1/x",
    "https://fcm.googleapis.com.127.0.0.1.nip.io/x",
    "https://evilfcm.googleapis.com.example.org/x",
    "https://notfcm.googleapis.com.evil/x",
    "https://xn--fcm-googleapis.com/x",
    "https://fcm%2egoogleapis.com/x",
    "https://fcm.googleapis%2Ecom/x",
    "https://fcm.googleapis.com./x",  # a trailing dot names another host to some resolvers
    "https://fcm.goog\u0131eapis.com/x",
    "https://fcm.googleapis.com\t/x",
    "http://fcm.googleapis.com/x",
    "HTTPS://fcm.googleapis.com/x",
    "//fcm.googleapis.com/x",
    "https:fcm.googleapis.com/x",
    "https:///fcm.googleapis.com/x",
    "wss://fcm.googleapis.com/x",
]


@pytest.mark.parametrize("endpoint", NOT_PUSH_SERVICES)
def test_an_address_that_is_not_a_push_service_is_refused_and_nothing_stored(client, settings, service, endpoint):
    assert push.PushHosts.of(replace(settings, push_loopback=False)).refuse(endpoint)
    assert push.PushHosts.of(settings).refuse(endpoint)  # the test's own loopback allowance changes nothing here
    sign_up(client, "river")
    confirm(client, kind="device")
    response = post_form(client, "/settings/devices", {**service.subscription("phone"), "endpoint": endpoint})
    assert response.headers["location"] == "/settings/reminders?done=device-refused"
    assert sql(settings, "SELECT count(*) FROM push_subscription")[0][0] == 0
    assert "This phone could not be added." in client.get(response.headers["location"]).text


def test_loopback_push_services_are_for_development_and_tests_only(settings):
    local = "http://127.0.0.1:8080/push/x"
    assert not push.PushHosts.of(settings).refuse(local)
    assert push.PushHosts.of(replace(settings, push_loopback=False)).refuse(local)
    assert push.PushHosts.of(replace(settings, env="production")).refuse(local)
    assert push.PushHosts.of(settings).refuse("http://127.0.0.1:8080@fcm.googleapis.com/x")


def _poison(settings, username: str, endpoint: str, p256dh: str, auth: str) -> None:  # type: ignore[no-untyped-def]
    """A device row as an older version (or a bug) might have stored it, past today's checks."""
    sql(settings, "INSERT INTO push_subscription (id, user_id, endpoint, endpoint_hash, p256dh, auth, device, created_at) "
        "VALUES (:id, :user, :endpoint, :hash, :p256dh, :auth, 'phone', :now)", id=f"poison-{len(endpoint)}-{len(p256dh)}",
        user=user_id(settings, username), endpoint=endpoint, hash=push.endpoint_hash(endpoint), p256dh=p256dh, auth=auth,
        now=datetime.now(UTC))


def test_a_poisoned_device_never_blocks_or_repeats_anyone_elses_reminder(app, client, other_client, settings, service, thread):
    """Beside river's good phone: a stored address the sender must refuse, and one whose keys make the
    encryption library raise. river's reminder goes once; the broken rows are counted, retried with
    backoff and given up; nothing is sent twice."""
    good = service.subscription("good")
    make_user(settings, "sea")
    _poison(settings, "sea", "https://fcm.googleapis.com:/x", good["p256dh"], good["auth"])
    _poison(settings, "sea", service.origin + "/push/broken", "BAAA", good["auth"])
    sea = user_id(settings, "sea")

    async def queue_for_sea() -> None:
        engine = make_engine(settings.database_url)
        async with session_factory(engine)() as db:
            await push_outbox.queue(db, sea, "messages", "message:poison", ref=None)
            await db.commit()
        await engine.dispose()

    run(queue_for_sea())
    post_form(other_client, f"/messages/{thread}", {"body": "Hello"})
    counts = work(app, settings)
    assert counts["sent"] == 1 and counts["gone"] == 1 and counts["retry"] == 1, counts
    assert service.counts() == {"/push/phone": 1}
    assert sql(settings, "SELECT endpoint FROM push_subscription WHERE user_id = :u", u=sea) == [(service.origin + "/push/broken",)]
    later = datetime.now(UTC)
    for _ in range(push_outbox.MAX_ATTEMPTS + 1):
        later += timedelta(hours=7)
        work(app, settings, later)
    assert service.counts() == {"/push/phone": 1}  # river's reminder was never repeated
    assert sql(settings, "SELECT state, attempts FROM push_outbox WHERE user_id = :u", u=sea) == [("failed", push_outbox.MAX_ATTEMPTS)]


def test_a_redirecting_push_service_gets_one_post_and_no_more(app, client, other_client, settings, service, thread):
    service.scripted["/push/phone"] = ["redirect:/push/elsewhere"]
    post_form(other_client, f"/messages/{thread}", {"body": "Hello"})
    counts = work(app, settings)
    assert counts["failed"] == 1 and counts["sent"] == 0, counts
    assert service.posts == {"/push/phone": 1}  # the 307 was not followed to /push/elsewhere
    assert work(app, settings, datetime.now(UTC) + timedelta(hours=1))["sent"] == 0  # a 3xx is a failure, not a retry


def test_devices_are_listed_and_removed_and_the_same_phone_replaces_itself(client, settings, service):
    sign_up(client, "river")
    confirm(client, kind="device")
    same = service.subscription("phone")
    post_form(client, "/settings/devices", same)
    post_form(client, "/settings/devices", same)
    page = client.get("/settings/reminders").text
    assert page.count("/remove") == 1
    device = re.search(r"/settings/devices/([A-Za-z0-9_-]+)/remove", page).group(1)  # type: ignore[union-attr]
    assert post_form(client, f"/settings/devices/{device}/remove").headers["location"] == "/settings/reminders?done=device-removed"
    assert sql(settings, "SELECT count(*) FROM push_subscription")[0][0] == 0
    assert post_form(client, f"/settings/devices/{device}/remove").status_code == 404


def test_the_settings_page_offers_reminders_with_the_servers_key(app, client):
    sign_up(client, "river")
    page = client.get("/settings/reminders").text
    assert "Turn on reminders on this phone" in page
    assert f'data-key="{app.state.services.vapid.public_key}"' in page
    assert "You have a new update" in page


def test_the_check_in_reminder_keeps_its_local_time_when_the_time_zone_changes(client, settings):
    sign_up(client, "river")
    post_form(client, "/settings/reminders", {"kinds": "checkins", "days": list("0123456"), "checkin_time": "18:30"})
    post_form(client, "/settings/time-zone", {"time_zone": "Asia/Tokyo"})
    [(next_at,)] = sql(settings, "SELECT checkin_next_at FROM push_settings")
    local = moment(next_at).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    assert (local.hour, local.minute) == (18, 30)


def test_a_mentor_finds_each_persons_thread_on_my_people(client, other_client, settings, thread):
    people = other_client.get("/people").text
    assert f'href="/messages/{thread}"' in people
    assert f'href="/messages/{thread}"' in other_client.get(f"/people/{thread}").text
