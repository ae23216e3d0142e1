"""Reading what a person sent: one text value from a form, whole numbers, the page of a list, and the
plain messages for text that is missing or too long."""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any

from litestar import Request

from portal.i18n import _


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def whole_number(raw: str, digits: int) -> int | None:
    """`raw` as a whole number of at most `digits` plain digits, else None. ASCII only: "²" is a digit to
    str.isdigit() but not to int(), and a number of thousands of digits is more than int() will read."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= digits else None


def page_number(request: Request[Any, Any, Any]) -> int:
    """The ?page= of a list: a whole number from 1, anything else is page 1."""
    number = whole_number(request.query_params.get("page", "1"), 5)
    return number if number else 1


def text_problem(value: str, limit: int, missing: str = "") -> str:
    """What is wrong with a typed text, or "": empty when it is needed (`missing` says what to
    write; "" when it may be empty), or longer than `limit` characters."""
    if not value:
        return missing
    if len(value) > limit:
        return _("Use {limit} characters or fewer.").format(limit=f"{limit:,}")
    return ""


def text_errors(values: dict[str, Any], rules: dict[str, tuple[int, str]]) -> dict[str, str]:
    """Messages for the typed texts of a form: `rules` maps a field to its limit and its `missing` message."""
    return {name: problem for name, (limit, missing) in rules.items()
            if (problem := text_problem(values[name], limit, missing))}


def form_value(form: Any, name: str, max_length: int = 10_000) -> str:
    """A single text value from a submitted form; lists and files become ''.

    Control characters (NUL and the like; not tab or line breaks) are dropped: PostgreSQL refuses
    NUL in text, and none of them is something a person meant to type.
    """
    value = form.get(name, "")
    if not isinstance(value, str):
        return ""
    return _CONTROL.sub("", value[:max_length])


# ----- the error summary ------------------------------------------------------------------------
# A refused form shows each problem beside its field and, GOV.UK-style, all of them in a summary at the top of the
# page, each a link to its field. The layout draws the page's content first with collecting on; every field macro
# (components/field) notes its error as it is drawn; then the layout puts the summary above the content.

_NOTED: ContextVar[list[tuple[str, str]] | None] = ContextVar("noted_errors", default=None)


def collect_errors() -> str:
    """Start noting the errors this page shows (the layout calls it before drawing the content)."""
    _NOTED.set([])
    return ""


def note_error(target: str, message: str) -> str:
    """Note a problem shown beside the element `target` (an id the summary links to); returns "" for the page."""
    noted = _NOTED.get()
    if noted is not None and message and (target, str(message)) not in noted:
        noted.append((target, str(message)))
    return ""


def noting_errors() -> bool:
    """Whether this page has an error summary to note errors for (a fragment swapped in by htmx has none)."""
    return _NOTED.get() is not None


def noted_errors() -> list[tuple[str, str]]:
    """The problems noted while the content was drawn, in the order they appear (target id, message)."""
    return list(_NOTED.get() or [])
