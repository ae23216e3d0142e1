"""What the benchmark's modes share: a seeded run's settings and environment, signed-in browsers, the machine."""

from __future__ import annotations

import asyncio
import os
import platform
from dataclasses import dataclass
from pathlib import Path

from bench.client import Browser
from bench.seed import PASSWORD
from portal.config import Config


@dataclass
class Run:
    """One seeded database and the environment a server needs to serve it."""

    settings: Config
    env: dict[str, str]
    workers: int
    folder: Path


def prepare(folder: Path, database: str, redis: str, workers: int) -> Run:
    if database.startswith("postgres"):
        ensure_database(database)
    settings = Config.from_env({}, data_dir=folder, database_url=database or f"sqlite:///{folder / 'bench.db'}",
                                 redis_url=redis)
    env = {"PORTAL_DATA_DIR": str(folder), "DATABASE_URL": settings.database_url, "REDIS_URL": redis,
           "PORTAL_SECRET_KEY": settings.secret_key, "PORTAL_DOCUMENT_KEY": settings.document_key,
           "PORTAL_VAPID_PRIVATE_KEY": settings.vapid_private_key, "PORTAL_ENV": "development", "PORTAL_DEBUG": "false"}
    return Run(settings, env, workers, folder)


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database the benchmark was pointed at, if the server does not have it yet."""
    from sqlalchemy import make_url, text

    from portal.db import make_engine

    name = make_url(url).database

    async def create() -> None:
        engine = make_engine(str(make_url(url).set(database="postgres")))
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            if not (await conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})).first():
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()

    asyncio.run(create())


async def browsers_for(url: str, username: str, count: int) -> list[Browser]:
    port = int(url.rsplit(":", 1)[1])
    signed_in = []
    for _ in range(count):
        browser = Browser("127.0.0.1", port)
        await browser.sign_in(username, PASSWORD)
        signed_in.append(browser)
    return signed_in


def close(browsers: list[Browser]) -> None:
    for browser in browsers:
        browser.close()


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")
