"""Choosing a language: from the short list on every signed-out page, or Settings -> Language when signed in.

Each language is offered by its own name ("English", "Español", "العربية"). The choice is kept in a cookie on
this browser, and, signed in, on the account, so it follows the person to any phone. It works without JavaScript:
a plain form, then back to the page it was sent from.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from litestar import Request, Response, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.response import Redirect
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import i18n
from portal.forms import form_value
from portal.models import User
from portal.viewer import viewer_of
from portal.web import page, services_of

COOKIE_LIFETIME = timedelta(days=365)
# Where to go back to: a path of this site only (never another site, never "//host").
_LOCAL_PATH = re.compile(r"^/(?!/)[A-Za-z0-9/_.~-]{0,200}(\?[A-Za-z0-9_.~=&-]{1,100})?(#[A-Za-z0-9_-]{1,40})?$")


def back_to(raw: str) -> str:
    """The page to go back to after choosing: a plain path of this site, else the start page."""
    return raw if _LOCAL_PATH.match(raw) else "/"


@post("/language", name="choose_language")
async def choose_language(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    form = await request.form()
    chosen = form_value(form, "language", 8)
    if chosen not in i18n.LANGUAGES:
        return page(request, "error.html", status_code=400, heading=i18n._("Choose a language from the list."),
                    body=i18n._("Go back and try again."))
    viewer = viewer_of(request)
    if viewer is not None:
        user = await db.get(User, viewer.user_id)
        if user is not None:
            user.language = chosen
            db.add(user)
    cookie = Cookie(key=i18n.COOKIE, value=chosen, max_age=int(COOKIE_LIFETIME.total_seconds()), path="/",
                    httponly=True, samesite="lax", secure=services_of(request).config.production)
    return Redirect(back_to(form_value(form, "next", 250)), status_code=303, cookies=[cookie])


routes = [choose_language]
