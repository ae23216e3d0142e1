"""Command line: `python -m portal run`, `migrate`, `create-admin --username NAME [--organisation NAME]`,
`create-organisation --name NAME --admin USERNAME`,
`backup [--to PATH]` and `restore PATH [--yes]` (the last two live in `portal/backup.py`)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path

from portal.config import Config, ConfigError


def _run(settings: Config) -> int:
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


async def _create_admin(settings: Config, username: str, password: str, country: str = "", *,
                        organisation: str = "", new_organisation: bool = False) -> str | None:
    """An admin account in an organisation: with `new_organisation`, a new organisation named `organisation`
    (its first admin); otherwise the one named `organisation`, or, unnamed, the only one there is (made when the
    deployment has none yet)."""
    from portal.db import make_engine, session_factory
    from portal.organisation import country_names, find_organisation, set_country
    from portal.users import create_user, find_user, normalise_username, username_problem
    from portal.models import Organisation, Role
    from portal.passwords import Hasher, password_problem

    username, organisation = normalise_username(username), " ".join(organisation.split())
    problem = username_problem(username) or password_problem(password, username)
    if problem:
        return problem
    if country and country.upper() not in country_names():
        return "Unknown country: use its two-letter code, like GB or US."
    if new_organisation and not 1 <= len(organisation) <= 120:
        return "Give the organisation a name of 1 to 120 characters."
    engine = make_engine(settings.database_url)
    try:
        async with session_factory(engine)() as db:
            if await find_user(db, username):
                return "That username is taken."
            found = await find_organisation(db, organisation)
            if new_organisation:
                if isinstance(found, Organisation):
                    return "There is already an organisation with that name."
                found = Organisation(name=organisation)
                db.add(found)
                await db.flush()
            elif not isinstance(found, Organisation):
                return found
            user = await create_user(db, Hasher(settings.password_hash_memory_kib, settings.password_hash_passes),
                                     username, password, Role.ADMIN, organisation_id=found.id, display_name=username)
            if country:
                await set_country(db, country.upper(), user.organisation_id)
            await db.commit()
    finally:
        await engine.dispose()
    return None


def _backup(settings: Config, target: Path | None) -> int:
    from portal.backup import BackupError, backup, human_size, key_reminder

    try:
        written = backup(settings, target)
    except BackupError as exc:
        print(f"No backup made. {exc}", file=sys.stderr)
        return 1
    print(f"Backup written to {written} ({human_size(written.stat().st_size)}).")
    print(key_reminder(settings))
    return 0


def _confirmed(settings: Config, source: Path) -> bool:
    """Ask at a terminal; anywhere else the answer is no (a script must say --yes)."""
    from portal.backup import where

    if not sys.stdin.isatty():
        print("Restore replaces the whole database: add --yes to do it without a terminal to ask.", file=sys.stderr)
        return False
    print(f"This replaces everything in {where(settings)} with {source}, and signs everyone out.")
    print("Stop the portal first.")
    return input("Type yes to restore: ").strip().lower() == "yes"


def _restore(settings: Config, source: Path, yes: bool) -> int:
    from portal.backup import BackupError, check_backup, key_reminder, replace_database, where

    try:
        revision = check_backup(settings, source)  # before asking: a wrong file is refused without a question
        if not (yes or _confirmed(settings, source)):
            print("Nothing restored.", file=sys.stderr)
            return 1
        replace_database(settings, source)
    except BackupError as exc:
        print(f"Nothing restored. {exc}", file=sys.stderr)
        return 1
    print(f"Restored {source} into {where(settings)} (schema {revision}, now upgraded to the newest).")
    print("Everyone has been signed out and must sign in again.")
    print(key_reminder(settings))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal", description="Waypoint")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="upgrade the database, then serve the portal")
    commands.add_parser("migrate", help="upgrade the database to the newest schema")
    admin = commands.add_parser("create-admin", help="make an admin account for an organisation")
    admin.add_argument("--username", required=True)
    admin.add_argument("--organisation", default="", metavar="NAME",
                       help="the organisation's name (needed once there are several)")
    admin.add_argument("--country", default="", metavar="CODE",
                       help="where the organisation is, as a two-letter code (GB, US, ...): it sets the help lines")
    made = commands.add_parser("create-organisation", help="make a new organisation with its first admin")
    made.add_argument("--name", required=True, help="the name survivors see beside its staff's names")
    made.add_argument("--admin", required=True, metavar="USERNAME", help="the first admin's username")
    made.add_argument("--country", default="", metavar="CODE",
                      help="where the organisation is, as a two-letter code (GB, US, ...): it sets the help lines")
    backup = commands.add_parser("backup", help="copy the database into one new file (safe while the portal runs)")
    backup.add_argument("--to", type=Path, metavar="PATH",
                        help="where to write it (default: backups/ in the data folder)")
    restore = commands.add_parser("restore", help="replace the database with a backup, then upgrade it")
    restore.add_argument("path", type=Path, metavar="PATH")
    restore.add_argument("--yes", action="store_true", help="do not ask first")
    args = parser.parse_args(argv)
    try:
        settings = Config.from_env()
    except ConfigError as exc:
        print(f"Settings problem: {exc}", file=sys.stderr)
        return 2
    if args.command == "run":
        return _run(settings)
    if args.command == "backup":
        return _backup(settings, args.to)
    if args.command == "restore":
        return _restore(settings, args.path, args.yes)
    from portal.db import migrate

    migrate(settings.database_url)
    if args.command == "migrate":
        return 0
    password = os.environ.get("PORTAL_PASSWORD") or getpass.getpass("Password for the new admin: ")
    if args.command == "create-organisation":
        problem = asyncio.run(_create_admin(settings, args.admin, password, args.country, organisation=args.name,
                                            new_organisation=True))
    else:
        problem = asyncio.run(_create_admin(settings, args.username, password, args.country,
                                            organisation=args.organisation))
    if problem:
        print(problem, file=sys.stderr)
        return 1
    done = "Organisation and its first admin made" if args.command == "create-organisation" else "Admin account made"
    print(f"{done}. Sign in at http://localhost:{settings.port}/sign-in")
    return 0


if __name__ == "__main__":
    sys.exit(main())
