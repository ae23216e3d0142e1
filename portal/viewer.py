"""Who is making this request: the signed-in viewer, and the guards that let a route answer only to
some roles (anyone else gets 404, as if the page did not exist)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler

from portal.models import Role


@dataclass(frozen=True)
class Viewer:
    """The signed-in person making this request."""

    user_id: int
    role: Role
    username: str
    session_id: str
    exit_url: str
    time_zone: str = "UTC"
    # Messages from the other person not read yet (survivors and peer mentors), for the navigation.
    unread: int = 0
    # Requests for access waiting for the survivor's answer, for the navigation.
    waiting: int = 0
    # Safety settings the pages carry out: cover when hidden, the installed app's name.
    cover_when_hidden: bool = True
    app_name: str = "waypoint"
    # The language the person chose on their account ("" for none).
    language: str = ""
    # Staff and admins: their organisation, and the name survivors know them by.
    organisation_id: int | None = None
    organisation_name: str = ""
    display_name: str = ""
    # Survivors: whether they have answered "Count me in anonymous totals?" (Home asks until they have).
    count_asked: bool = True


def viewer_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Viewer | None:
    return connection.scope.get("state", {}).get("viewer")


# Guards are coroutines: Litestar runs a guard that is a plain function in a worker thread, on every request.


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if viewer_of(connection) is None:
        raise NotAuthorizedException()


def _role_guard(*roles: Role):
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        viewer = viewer_of(connection)
        if viewer is None:
            raise NotAuthorizedException()
        if viewer.role not in roles:
            # Not found, not forbidden: a page that is not yours does not exist for you.
            raise NotFoundException()

    return guard


survivor_only = _role_guard(Role.SURVIVOR)


staff_only = _role_guard(Role.CASEWORKER, Role.MENTOR)


# Message threads and reminders on the phone: the two people who write to each other.
survivor_or_mentor = _role_guard(Role.SURVIVOR, Role.MENTOR)


admin_only = _role_guard(Role.ADMIN)


def current_viewer(request: Request[Any, Any, Any]) -> Viewer:
    """The viewer in a handler whose guard already required one."""
    viewer = viewer_of(request)
    if viewer is None:
        raise NotAuthorizedException()
    return viewer


def home_for(role: Role | str) -> str:
    return {Role.SURVIVOR: "/home", Role.ADMIN: "/admin/staff"}.get(Role(role), "/staff")
