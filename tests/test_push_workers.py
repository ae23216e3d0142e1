"""Two app processes (uvicorn, as deployed) on one database, each running its reminder worker: 1,000 queued
notifications are each sent exactly once, to a push service on loopback that decrypts every one. On
PostgreSQL the workers claim rows with FOR UPDATE SKIP LOCKED; on SQLite one writer at a time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bench import server
from portal.db import make_engine, session_factory
from portal.models import PushOutbox, PushSubscription
from portal.push import endpoint_hash
from portal.config import Config
from tests.conftest import deployment_env, make_user, run, sql
from tests.push_service import PushService

COUNT = 1000


@pytest.fixture
def service(settings: Config) -> Iterator[PushService]:
    from portal.keys import Vapid

    started = PushService(Vapid(settings.vapid_private_key, settings.push_contact).public_key, settings.push_contact).start()
    yield started
    started.close()


def _queue(settings: Config, service: PushService, due: datetime) -> None:
    """One survivor with 1,000 devices and one waiting notification for each."""
    make_user(settings, "river")
    owner = sql(settings, "SELECT id FROM app_user WHERE username = 'river'")[0][0]

    async def build() -> None:
        engine = make_engine(settings.database_url)
        async with session_factory(engine)() as db:
            for number in range(COUNT):
                subscription = service.subscription(f"device-{number}")
                db.add(PushSubscription(id=f"device-{number}", user_id=owner, endpoint=subscription["endpoint"],
                                        endpoint_hash=endpoint_hash(subscription["endpoint"]),
                                        p256dh=subscription["p256dh"], auth=subscription["auth"]))
            await db.flush()
            for number in range(COUNT):
                db.add(PushOutbox(user_id=owner, subscription_id=f"device-{number}", kind="messages", key=f"load:{number}",
                                  next_at=due))
            await db.commit()
        await engine.dispose()

    run(build())


def test_two_app_processes_send_each_of_1000_notifications_exactly_once(settings, service, tmp_path):
    # Due a few seconds from now, when both processes are up and their workers are looking.
    _queue(settings, service, datetime.now(UTC) + timedelta(seconds=8))
    started = [server.start("app:create_app", deployment_env(settings, push_worker=True), tmp_path / f"worker-{n}.log")
               for n in range(2)]
    try:
        for one in started:
            one.wait_until_up()
        deadline = time.monotonic() + 180
        while sum(service.counts().values()) < COUNT and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(6)  # one more round of both workers: a second send would show now
    finally:
        for one in started:
            one.stop()
    counts = service.counts()
    assert not service.problems, service.problems[:5]
    assert len(counts) == COUNT, f"{len(counts)} of {COUNT} devices got their notification"
    assert set(counts.values()) == {1}, [path for path, times in counts.items() if times > 1][:5]
    assert sql(settings, "SELECT state, count(*) FROM push_outbox GROUP BY state") == [("sent", COUNT)]
    assert {delivery.payload["text"] for delivery in service.deliveries} == {"You have a new update"}
