"""A survivor's yes or no to being counted in anonymous totals (an organisation's Impact page, portal.impact).

Asked once on Home, changed any time in Settings → Your data, off until they say yes. Both forms send the same
fixed words to one route; nothing is counted from a person who has not said yes."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.forms import form_value
from portal.models import User
from portal.viewer import current_viewer, survivor_only

BACK = {"home": "/home", "settings": "/settings/data?done=counting#counting"}


@post("/settings/counting", guards=[survivor_only], name="save_counting")
async def save_counting(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Response[Any]:
    """count=yes|no from Home's two buttons; from Settings' checkbox (from=settings), no `count` means no."""
    form = await request.form()
    back = form_value(form, "from", 16) or "home"
    answer = form_value(form, "count", 4) or ("no" if back == "settings" else "")
    if answer not in ("yes", "no") or back not in BACK:
        raise HTTPException(status_code=400, detail="Choose yes or no.")
    user = await db.get(User, current_viewer(request).user_id)
    if user is not None:
        user.count_me_in = answer == "yes"
        user.count_asked = True
        db.add(user)
    return Redirect(BACK[back], status_code=303)


routes = [save_counting]
