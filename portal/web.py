"""What every page shares: the services built once at start, page-or-fragment rendering, the error
pages, and the client's address."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.config.csrf import CSRFConfig
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.viewer import viewer_of
from portal import disguise
from portal.crypto import MasterKey
from portal import i18n
from portal.i18n import _
from portal.limits import Throttle
from portal.organisation import ExitDefault
from portal.passwords import Hasher
from portal.keys import Vapid
from portal.push import PushHosts
from portal.sessions import Sessions
from portal.storage import DocumentStorage
from portal.config import Config

log = logging.getLogger("portal")


@dataclass(frozen=True)
class Services:
    """Long-lived helpers built once by create_app and shared by every request."""

    config: Config
    sessions: Sessions
    hasher: Hasher
    throttle: Throttle
    master_key: MasterKey
    storage: DocumentStorage
    csrf: CSRFConfig
    vapid: Vapid
    push_hosts: PushHosts
    # Where Exit now leads for anyone who chose no place of their own (kept in memory: portal.organisation).
    exit_default: ExitDefault
    # Database sessions for work that outlives a request's own (a download streamed after the handler).
    factory: async_sessionmaker[AsyncSession]


def services_of(request: Request[Any, Any, Any]) -> Services:
    return request.app.state.services


# ----- rendering ------------------------------------------------------------------------------


def wants_fragment(request: Request[Any, Any, Any]) -> bool:
    """True for an htmx request that swaps part of a page (htmx 4 headers).

    Boosted navigations and history restores ask for the whole page.
    """
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-request-type") == "partial"
        and headers.get("hx-history-restore-request") != "true"
    )


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    title: str = "",
    status_code: int = 200,
    fragment: str | None = None,
    **context: Any,
) -> Template:
    """Render a page, or only `fragment` (a template of its own) when htmx asked for a part.

    `title` is a section name ("Goals"), never a person's words: it shows on the lock screen's
    app switcher and in history.
    """
    sync = disguise.cookie_to_sync(request, services_of(request).config.production)
    return Template(
        media_type=MediaType.HTML,  # known: Litestar would otherwise guess it from the name on every page
        template_name=fragment if fragment and wants_fragment(request) else template,
        # `brand`: the app's name as this person chose it (portal.disguise), for the title and header.
        context={"title": title, "viewer": viewer_of(request), "brand": disguise.brand_of(request), **context},
        status_code=status_code,
        cookies=[sync] if sync else None,
    )


def ask_before_delete(request: Request[Any, Any, Any], *, title: str, heading: str, message: str, item_id: str,
                      list_href: str) -> Template:
    """The one plain question before a delete. A page of its own (its "No" leads back to the item);
    or, asked from a list card with htmx, the same question inside that card ("No" fetches the card)."""
    item_href = f"{list_href}/{item_id}"
    return page(request, "delete.html", fragment="_delete.html", title=title, heading=heading, message=message,
                action=f"{item_href}/delete", back_href=item_href, card_id=f"card-{item_id}",
                card_href=f"{item_href}/card")


def card(request: Request[Any, Any, Any], template: str, item_href: str, **context: Any) -> Response[Any]:
    """One list card alone, for htmx to put back after "No" (focus on its Delete link). Not a page:
    anyone asking for it without htmx is sent to the item."""
    if not wants_fragment(request):
        return Redirect(item_href, status_code=303)
    return Template(media_type=MediaType.HTML, template_name=template,
                    context={"viewer": viewer_of(request), "focus": True, **context})


def deleted(request: Request[Any, Any, Any], list_href: str, message: str) -> Response[Any]:
    """After a delete: back to the list; with htmx, the card says it is gone (and the live region too)."""
    if wants_fragment(request):
        return Template(media_type=MediaType.HTML, template_name="_deleted.html", context={"message": message})
    return Redirect(list_href, status_code=303)


def current_entry(entries: tuple[tuple[str, bool, str], ...], path: str) -> str:
    """The address of the menu entry (address, only that page itself, its count) that is the page at `path`: the
    path is it, or, unless the entry is only that page itself, below it. "" when none is."""
    for href, exact, _count in entries:
        if path == href or (not exact and path.startswith(href) and path[len(href):len(href) + 1] == "/"):
            return href
    return ""


def page_link(query: Any, number: int) -> str:
    """The link to page `number` of a list, keeping whatever else the list was asked with (?past=1, ?person=…)."""
    kept = [(name, value) for name, value in query.multi_items() if name != "page"]
    return "?" + urlencode([*kept, ("page", str(number))])


# ----- error pages ----------------------------------------------------------------------------


def _their_language(request: Request[Any, Any, Any]) -> None:
    """An error page speaks the person's language even where no route matched (an unknown address), so the
    middleware that chooses it never ran: then the browser's choice (cookie) or its Accept-Language."""
    if "viewer" not in request.scope.get("state", {}):
        i18n.use(i18n.chosen("", request.cookies.get(i18n.COOKIE, ""), request.headers.get("accept-language", "")))


def _error_page(request: Request[Any, Any, Any], status_code: int, heading: str, body: str) -> Template:
    if wants_fragment(request):
        # htmx swaps 4xx and 5xx answers too: a whole page must not land inside a card or a list, so a
        # short message goes to the top of the page instead, where focus follows it.
        return Template(media_type=MediaType.HTML, template_name="_error.html",
                        context={"heading": heading, "body": body},
                        status_code=status_code,
                        headers={"HX-Retarget": "#main", "HX-Reswap": "afterbegin"})
    return Template(
        media_type=MediaType.HTML,
        template_name="error.html",
        context={"title": "", "viewer": viewer_of(request), "brand": disguise.brand_of(request), "heading": heading,
                 "body": body},
        status_code=status_code,
    )


def not_signed_in(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    _their_language(request)
    if request.headers.get("hx-request") == "true":
        return Response(content=b"", status_code=401, headers={"HX-Redirect": "/sign-in"})
    if request.method in ("GET", "HEAD"):
        return Redirect("/sign-in", status_code=303)
    return _error_page(request, 401, _("Please sign in"), _("You were signed out. Sign in to carry on."))


def not_found(request: Request[Any, Any, Any], exc: Exception) -> Template:
    _their_language(request)
    return _error_page(request, 404, _("Page not found"), _("This page does not exist, or it is not shared with you."))


def forbidden(request: Request[Any, Any, Any], exc: Exception) -> Template:
    _their_language(request)
    # Litestar's CSRF check raises PermissionDeniedException.
    return _error_page(
        request, 403, _("Please try again"), _("This form was out of date. Go back, reload the page and send it again.")
    )


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Template:
    _their_language(request)
    status = exc.status_code
    if status == 429:
        return _error_page(request, 429, _("Please wait"), _("Too many tries. Wait a minute, then try again."))
    if status == 413:
        return _error_page(request, 413, _("Too large"), _("What you sent is too large."))
    if status < 500:
        return _error_page(request, status, _("Something was not right"), _("Go back and check what you sent."))
    return server_error(request, exc)


def loggable_path(path: str) -> str:
    """The path with secrets masked: set-password links carry a live token."""
    return re.sub(r"^/set-password/.*", "/set-password/…", path)


def server_error(request: Request[Any, Any, Any], exc: Exception) -> Template:
    _their_language(request)
    # Logged by id only: never a person's words.
    viewer = viewer_of(request)
    log.error(
        "error on %s %s for user %s", request.method, loggable_path(request.url.path),
        viewer.user_id if viewer else "-", exc_info=exc,
    )
    return _error_page(request, 500, _("Sorry, something went wrong"), _("Please try again in a moment."))


def exception_handlers() -> dict[Any, Any]:
    return {
        NotAuthorizedException: not_signed_in,
        NotFoundException: not_found,
        PermissionDeniedException: forbidden,
        HTTPException: http_error,
        Exception: server_error,
    }


def client_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"
