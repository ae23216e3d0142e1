"""Feedback: how an organisation's help feels to the people it helps, read by that organisation's admins.

A survivor answers from the page about someone they are connected with (portal.profiles): 1 to 5 in words, and
their own words if they like. The admin sees the answers without a name, and with no time finer than the month,
and only once 5 or more people have answered (the rule is `policy.organisation_feedback`): until then the page
says so, and never how many fewer. The organisation is always the admin's own; no address names one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_skeleton
from babel.numbers import format_decimal
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from portal import policy
from portal.i18n import _, babel_locale
from portal.viewer import admin_only, current_viewer
from portal.web import page

WORDS_MAX = 1000


def rating_words() -> dict[int, str]:
    """The five answers, kindest last."""
    return {1: _("Not helpful at all"), 2: _("Not very helpful"), 3: _("Some help"), 4: _("Helpful"),
            5: _("Very helpful")}


def rating_label(rating: int) -> str:
    """"4 · Helpful"."""
    return _("{number} · {words}").format(number=rating, words=rating_words().get(rating, ""))


def month_name(month: str) -> str:
    """A stored month ("2026-12") as people read it: "December 2026", "diciembre de 2026"."""
    year, number = (int(part) for part in month.split("-", 1))
    return format_skeleton("yMMMM", date(year, number, 1), locale=babel_locale())


@get("/admin/feedback", guards=[admin_only], name="admin_feedback")
async def admin_feedback(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Template:
    answers = await policy.organisation_feedback(db, current_viewer(request))
    average = ""
    if answers:
        average = format_decimal(sum(rating for _month, rating, _words in answers) / len(answers), format="0.0",
                                 locale=babel_locale())
    return page(request, "admin/feedback.html", title=_("Feedback"), answers=answers, average=average,
                threshold=policy.FEEDBACK_FROM, rating_label=rating_label, month_name=month_name)


routes = [admin_feedback]
