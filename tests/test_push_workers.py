"""Two app processes (uvicorn, as deployed) on one database, each running its reminder worker: 1,000 queued
notifications are each sent exactly once, to a push service on loopback that decrypts every one. On
PostgreSQL the workers claim rows with FOR UPDATE SKIP LOCKED; on SQLite one writer at a time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from portal.db import make_engine, session_factory
from portal.models import PushOutbox, PushSubscription
from portal.push import endpoint_hash
from portal.settings import Settings
from tests.conftest import REDIS_URL, _free_port, make_user, run, sql
from tests.push_service import PushService

ROOT = Path(__file__).resolve().parent.parent
COUNT = 1000


@pytest.fixture
def service(settings: Settings) -> Iterator[PushService]:
    from portal.push import Vapid

    started = PushService(Vapid(settings.vapid_private_key, settings.push_contact).public_key, settings.push_contact).start()
    yield started
    started.close()


def _start(settings: Settings, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": REDIS_URL, "PORTAL_DATA_DIR": str(settings.data_dir),
        "PORTAL_SECRET_KEY": settings.secret_key, "PORTAL_DOCUMENT_KEY": settings.document_key,
        "PORTAL_VAPID_PRIVATE_KEY": settings.vapid_private_key, "PORTAL_PUSH_WORKER": "true",
    }
    with log.open("wb") as output:  # the child keeps its own copy of the file
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "app:create_app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}"


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError as exc:  # not listening yet
            last_error = exc
        time.sleep(0.2)
    raise AssertionError(f"{url} did not start ({last_error!r}): {log.read_text()}")


def _queue(settings: Settings, service: PushService, due: datetime) -> None:
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
    started = [_start(settings, tmp_path / f"worker-{n}.log") for n in range(2)]
    try:
        for n, (process, url) in enumerate(started):
            _wait_until_up(process, url, tmp_path / f"worker-{n}.log")
        deadline = time.monotonic() + 180
        while sum(service.counts().values()) < COUNT and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(6)  # one more round of both workers: a second send would show now
    finally:
        for process, _url in started:
            process.terminate()
        for process, _url in started:
            process.wait(timeout=20)
    counts = service.counts()
    assert not service.problems, service.problems[:5]
    assert len(counts) == COUNT, f"{len(counts)} of {COUNT} devices got their notification"
    assert set(counts.values()) == {1}, [path for path, times in counts.items() if times > 1][:5]
    assert sql(settings, "SELECT state, count(*) FROM push_outbox GROUP BY state") == [("sent", COUNT)]
    assert {delivery.payload["text"] for delivery in service.deliveries} == {"You have a new update"}
