"""Command line: `python -m portal run` and `python -m portal create-admin --username NAME`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from portal.settings import Settings, SettingsError


def _run(settings: Settings) -> int:
    import uvicorn

    from portal.db import migrate

    migrate(settings.database_url)
    print(f"Waypoint is running at http://localhost:{settings.port}  (Ctrl+C to stop)", flush=True)
    uvicorn.run(
        "app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        # No access log: it would record who visited when, and from where.
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=",".join(settings.trusted_proxies),
        server_header=False,
        log_level="info",
    )
    return 0


async def _create_admin(settings: Settings, username: str, password: str) -> str | None:
    from portal.accounts import create_user, find_user, normalise_username, username_problem
    from portal.db import make_engine, session_factory
    from portal.models import Role
    from portal.passwords import Hasher, password_problem

    username = normalise_username(username)
    problem = username_problem(username) or password_problem(password, username)
    if problem:
        return problem
    engine = make_engine(settings.database_url)
    try:
        async with session_factory(engine)() as db:
            if await find_user(db, username):
                return "That username is taken."
            await create_user(db, Hasher(settings.password_hash_memory_kib, settings.password_hash_passes),
                              username, password, Role.ADMIN)
            await db.commit()
    finally:
        await engine.dispose()
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal", description="Waypoint")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="upgrade the database, then serve the portal")
    commands.add_parser("migrate", help="upgrade the database to the newest schema")
    admin = commands.add_parser("create-admin", help="make an organisation admin account")
    admin.add_argument("--username", required=True)
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"Settings problem: {exc}", file=sys.stderr)
        return 2
    if args.command == "run":
        return _run(settings)
    from portal.db import migrate

    migrate(settings.database_url)
    if args.command == "migrate":
        return 0
    password = os.environ.get("PORTAL_PASSWORD") or getpass.getpass("Password for the new admin: ")
    problem = asyncio.run(_create_admin(settings, args.username, password))
    if problem:
        print(problem, file=sys.stderr)
        return 1
    print(f"Admin account made. Sign in at http://localhost:{settings.port}/sign-in")
    return 0


if __name__ == "__main__":
    sys.exit(main())
