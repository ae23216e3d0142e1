"""Language: every user-facing string goes through gettext, in Python and in templates.

English is the source language. A translation is a Babel catalogue in `portal/translations/<lang>/`
(extract with `pybabel extract -F babel.cfg -o portal/translations/messages.pot .`); templates need
no change to gain a language.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).with_name("translations")
DEFAULT_LOCALE = "en"


@cache
def translations(locale: str = DEFAULT_LOCALE) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")


def _(message: str) -> str:
    return translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations().ngettext(singular, plural, n)
