"""Language: every string a person sees goes through gettext, in Python and in templates, in the language of the
person asking.

English is the source language. Each other language is one folder, `portal/translations/<code>/LC_MESSAGES/
messages.po` (see docs/translations.md); the catalogue is compiled in memory the first time it is asked for, so no
binary file is kept beside it. The language of a request (`use`) is set once, by the viewer middleware: the
account's choice when signed in, else the `lang` cookie, else the browser's Accept-Language when it is one we have,
else English.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from markupsafe import Markup, escape

TRANSLATIONS_DIR = Path(__file__).with_name("translations")
DEFAULT_LOCALE = "en"
# Each language by its own name, in the order they are offered.
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "ar": "العربية"}
RIGHT_TO_LEFT = frozenset({"ar"})
COOKIE = "lang"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LOCALE)


@cache
def translations(locale: str = DEFAULT_LOCALE) -> NullTranslations:
    """The catalogue of one language (English: the source, as written)."""
    if locale == DEFAULT_LOCALE or locale not in LANGUAGES:
        return NullTranslations()
    with (TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def use(locale: str) -> None:
    """The language of the rest of this request (anything unknown: English)."""
    _current.set(locale if locale in LANGUAGES else DEFAULT_LOCALE)


def current() -> str:
    return _current.get()


def direction(locale: str | None = None) -> str:
    return "rtl" if (locale or current()) in RIGHT_TO_LEFT else "ltr"


def babel_locale(locale: str | None = None) -> Locale:
    return _locale(locale or current())


@cache
def _locale(code: str) -> Locale:
    """One Locale per language, made once: Locale.parse of a name makes a new one each time, and a new one loads
    its data again (it was about a tenth of a page of dates)."""
    return Locale.parse(code)


def from_accept_language(header: str) -> str:
    """The language we have that the browser asks for first (Accept-Language), else English."""
    wanted = []
    for part in header[:2000].split(",")[:20]:
        tag, *parameters = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _sep, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and 0 < weight <= 1:
            wanted.append((weight, tag.lower().replace("_", "-")))
    ordered = [tag for _weight, tag in sorted(wanted, key=lambda pair: -pair[0])]
    return negotiate_locale(ordered, list(LANGUAGES), sep="-") or DEFAULT_LOCALE


def chosen(account: str, cookie: str, accept_language: str) -> str:
    """A request's language: the account's choice, else this browser's (the cookie), else what it asks for."""
    for choice in (account, cookie):
        if choice in LANGUAGES:
            return choice
    return from_accept_language(accept_language)


def _(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def _filled(translation: str, variables: dict[str, Any]) -> Markup:
    """`Markup(translation) % variables`, as Jinja fills a translation (each value escaped; a number stays a number,
    for "%(num)d"), in half its time: markupsafe wraps every value in a helper object first."""
    return Markup(translation % {name: value if isinstance(value, int | float) else escape(value)  # noqa: S704 - our catalogs
                                 for name, value in variables.items()})


PLAIN_KEPT = 10_000  # at most this many translations kept worked out (all strings in all languages need fewer)


def template_callables(gettext: Callable[[str], str] = _,
                       ngettext: Callable[[str, str, int], str] = ngettext) -> dict[str, Callable[..., Markup]]:
    """`_()`, `gettext()` and `ngettext()` for templates, as Jinja's "newstyle" gettext gives them with autoescaping
    (the translation is markup, the values are escaped into it, and it is always a format string, so "%%" is "%"),
    but as plain functions: Jinja's own take the template's context, and each call with the context inside a loop
    or a block first copies it, which was most of a page's translation time."""

    plain: dict[tuple[str, str], Markup] = {}  # (language, message) -> what a call without values gives

    def template_gettext(message: str, **variables: Any) -> Markup:
        if variables:
            return _filled(gettext(message), variables)
        key = (_current.get(), message)
        found = plain.get(key)
        if found is None:
            if len(plain) >= PLAIN_KEPT:
                plain.clear()
            found = plain[key] = Markup(gettext(message)) % variables  # noqa: S704 - as above
        return found

    def template_ngettext(singular: str, plural: str, num: int, **variables: Any) -> Markup:
        variables.setdefault("num", num)
        return _filled(ngettext(singular, plural, num), variables)

    return {"_": template_gettext, "gettext": template_gettext, "ngettext": template_ngettext}
