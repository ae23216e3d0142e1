"""Parts of a page that are the same for everyone who gives the same key: made once, then kept.

The menu, the links to the style sheet and scripts and a goal's progress line were made again on every page, yet each
depends on a handful of values (the language, the menu's entries and which is current, two counts; the brand; two
numbers), and making them took a tenth of a page's time. In a template:

    {% call kept("menu", menu_entries, menu_current, viewer.unread, viewer.waiting) %} … {% endcall %}

The block is made the first time a key is seen, in the request's language (always part of the key), and the same
markup is given for that key afterwards. Every value the block reads must be in the key: tests/test_fragments.py reads
each block in the templates and fails on one that is not. Only what is not a person's own words belongs in one (the
kept markup stays in memory): roles, counts, addresses of the portal's own pages and files.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from markupsafe import Markup

from portal import i18n

KEPT_AT_MOST = 5_000  # pieces kept (for each language, role, current entry and counts seen), then all forgotten

_kept: dict[tuple[Hashable, ...], Markup] = {}


def kept(*key: Hashable, caller: Callable[[], Markup]) -> Markup:
    """The block of a `{% call kept(...) %}`, made once for `key` in the request's language."""
    full = (i18n.current(), *key)
    found = _kept.get(full)
    if found is None:
        if len(_kept) >= KEPT_AT_MOST:
            _kept.clear()
        found = _kept[full] = caller()  # a macro's markup, escaped as the template escapes
    return found
