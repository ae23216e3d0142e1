"""Every language is whole: the catalogue template is what the code says today (extracted here, as `pybabel
extract` would), and each language's catalogue has every message, none empty or fuzzy, every plural form, and
the same placeholders as the English. Then the choice itself, through HTTP: the browser's Accept-Language on a
first visit, the list on signed-out pages (kept in a cookie), and Settings -> Language, kept on the account."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal import i18n
from tests.conftest import PASSWORD, post_form, sign_in, sign_up, sql

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "portal" / "translations"
OTHER_LANGUAGES = [code for code in i18n.LANGUAGES if code != i18n.DEFAULT_LOCALE]
PLURAL_FORMS = {"es": 2, "ar": 6}


def extracted() -> dict[str | tuple[str, str], list[tuple[str, int]]]:
    """Every message in the code and templates, as `pybabel extract -F babel.cfg` finds it: id -> places."""
    method_map = [("portal/**.py", "python"), ("portal/templates/**.html", "jinja2"), ("components/**.html", "jinja2")]
    options = {pattern: {"extensions": "jinja2.ext.i18n"} for pattern, method in method_map if method == "jinja2"}
    found: dict[str | tuple[str, str], list[tuple[str, int]]] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options, keywords={"_": None, "ngettext": (1, 2)}):
        key = message if isinstance(message, str) else (message[0], message[1])
        found.setdefault(key, []).append((filename, line))
    return found


def template() -> Catalog:
    with (TRANSLATIONS / "messages.pot").open("rb") as source:
        return read_po(source)


def catalog(code: str) -> Catalog:
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=code)


def test_the_catalogue_template_holds_exactly_what_the_code_says():
    """A string added, changed or removed in the code without `pybabel extract` fails here (docs/translations.md)."""
    in_code = set(extracted())
    in_template = {message.id for message in template() if message.id}
    assert sorted(map(str, in_code - in_template)) == [], "run pybabel extract (docs/translations.md)"
    assert sorted(map(str, in_template - in_code)) == [], "run pybabel extract (docs/translations.md)"


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_every_message_is_translated_in_every_language(code):
    wanted = {message.id for message in template() if message.id}
    translated = catalog(code)
    assert str(translated.locale) == code
    assert translated.num_plurals == PLURAL_FORMS[code]
    have = {message.id: message for message in translated if message.id}
    assert sorted(map(str, wanted - set(have))) == [], f"{code}: missing"
    assert sorted(map(str, set(have) - wanted)) == [], f"{code}: no longer in the code (run pybabel update)"
    for message in have.values():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert not message.fuzzy, f"{code}: fuzzy: {message.id}"
        assert all(strings), f"{code}: empty: {message.id}"
        if isinstance(message.id, tuple):
            assert len(strings) == PLURAL_FORMS[code], f"{code}: plural forms: {message.id}"
    problems = [(message.id, [str(error) for error in errors]) for message, errors in translated.check()]
    assert problems == [], f"{code}: placeholders differ from the English"


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_brace_placeholders_are_kept(code):
    """`{name}` in the English must be `{name}` in the translation (str.format would fail or say nothing). A
    plural's forms for one or two may leave the number out, as the English singular does; the last form never."""
    def braces(text: str) -> set[str]:
        return set(re.findall(r"\{[a-z_]*\}", text))

    for message in catalog(code):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            known = braces(message.id[0]) | braces(message.id[1])
            assert all(braces(form) <= known for form in message.string), f"{code}: {message.id!r}"
            assert braces(message.string[-1]) == braces(message.id[1]), f"{code}: {message.id!r}"
        else:
            assert braces(message.string) == braces(message.id), f"{code}: {message.id!r} -> {message.string!r}"


def test_the_checks_find_a_missing_an_empty_and_a_fuzzy_translation(tmp_path):
    broken = Catalog(locale="es")
    broken.add("Exit now", "")
    broken.add("Goals", "Metas", flags=["fuzzy"])
    problems = [message.id for message in broken if message.id and (message.fuzzy or not message.string)]
    assert problems == ["Exit now", "Goals"]
    assert "Home" not in {message.id for message in broken}


# ----- choosing a language --------------------------------------------------------------------------


def _html_tag(text: str) -> str:
    return re.search(r"<html[^>]*>", text).group(0)  # type: ignore[union-attr]


def test_a_first_visit_speaks_the_browsers_language_when_we_have_it(client):
    spanish = client.get("/sign-in", headers={"accept-language": "es-MX,es;q=0.9,en;q=0.5"}).text
    assert _html_tag(spanish) == '<html lang="es" dir="ltr">'
    assert "Salir ya" in spanish
    arabic = client.get("/sign-in", headers={"accept-language": "ar-EG"}).text
    assert _html_tag(arabic) == '<html lang="ar" dir="rtl">'
    other = client.get("/sign-in", headers={"accept-language": "de-DE,fr;q=0.8"}).text
    assert _html_tag(other) == '<html lang="en" dir="ltr">' and "Exit now" in other


def test_the_signed_out_list_names_each_language_in_itself_and_keeps_the_choice(client):
    page = client.get("/sign-in").text
    for code, name in i18n.LANGUAGES.items():
        assert f'value="{code}" lang="{code}"' in page and f">{name}</button>" in page
    chosen = post_form(client, "/language", {"language": "es", "next": "/sign-in"}, token_from="/sign-in")
    assert chosen.status_code == 303 and chosen.headers["location"] == "/sign-in"
    assert client.cookies.get(i18n.COOKIE) == "es"
    page = client.get("/sign-in", headers={"accept-language": "ar"}).text  # the choice wins over the browser
    assert _html_tag(page) == '<html lang="es" dir="ltr">' and "Salir ya" in page
    title = re.search(r"<title>([^<]*)</title>", page).group(1)  # type: ignore[union-attr]
    assert title.startswith("Waypoint") and not any(name in title for name in i18n.LANGUAGES.values())


def test_choosing_refuses_what_is_not_a_language_and_never_leaves_the_site(client):
    assert post_form(client, "/language", {"language": "xx"}, token_from="/sign-in").status_code == 400
    for away in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        answer = post_form(client, "/language", {"language": "ar", "next": away}, token_from="/sign-in")
        assert answer.headers["location"] == "/", away


def test_the_choice_in_settings_follows_the_account_to_a_fresh_browser(client, other_client, settings):
    sign_up(client, "river")
    assert post_form(client, "/language", {"language": "ar", "next": "/settings/language"}).headers["location"] \
        == "/settings/language"
    assert sql(settings, "SELECT language FROM app_user WHERE username = 'river'") == [("ar",)]
    other_client.cookies.clear()
    sign_in(other_client, "river", PASSWORD)
    home = other_client.get("/home", headers={"accept-language": "es"}).text
    assert _html_tag(home) == '<html lang="ar" dir="rtl">'
    assert 'id="language-ar" name="language" type="radio" value="ar" checked' in other_client.get("/settings/language").text


def test_an_unknown_address_answers_in_the_persons_language(client):
    """No route matched, so no route middleware ran: the error page still speaks the browser's language."""
    client.cookies.set(i18n.COOKIE, "es")
    answer = client.get("/no-such-page")
    assert answer.status_code == 404 and _html_tag(answer.text) == '<html lang="es" dir="ltr">'
    assert i18n.translations("es").gettext("Page not found") in answer.text and "Salir ya" in answer.text
    client.cookies.clear()
    arabic = client.get("/no-such-page", headers={"accept-language": "ar"})
    assert _html_tag(arabic.text) == '<html lang="ar" dir="rtl">'


def test_the_time_zone_is_chosen_by_country_then_city_named_in_the_persons_language(client, settings):
    sql(settings, "INSERT INTO organisation (country, exit_url, created_at) VALUES ('GB', '', CURRENT_TIMESTAMP)")
    sign_up(client, "river")
    assert post_form(client, "/language", {"language": "es"}).status_code == 303
    page = client.get("/settings/language").text
    step_one = page.split('<select id="country"', 1)[1].split("</select>", 1)[0]
    names = re.findall(r"<option[^>]*>([^<]+)</option>", step_one)
    assert names[1] == "Reino Unido"  # after "Choose a country": the organisation's country, the likeliest guess
    assert "Estados Unidos" in names and "Japón" in names and len(names) > 200
    step_two = client.get("/settings/time-zone?country=US").text
    assert re.search(r'<option value="America/New_York"[^>]*>Nueva York</option>', step_two)
    for html in (step_one, step_two):
        shown = re.findall(r"<option[^>]*>([^<]+)</option>", html)
        assert not [name for name in shown if "/" in name or "_" in name]  # never "America/New_York"
    assert client.get("/settings/time-zone?country=XX").status_code == 400
    assert post_form(client, "/settings/time-zone", {"time_zone": "Asia/Tokyo"}).status_code == 200
    assert '<option value="Asia/Tokyo" selected>Tokio</option>' in client.get("/settings/time-zone?country=JP").text
    assert "hora de Japón" in client.get("/settings/language").text


def test_words_outside_pages_speak_the_persons_language(client, settings):
    """The service worker's notification words, a calendar file's plain title and the account's language for
    reminders (sent with no page to take it from) all follow the person's language."""
    client.cookies.set(i18n.COOKIE, "es")
    assert "Tienes una novedad" in client.get("/sw.js").text
    sign_up(client, "river")  # chosen on this phone before signing up: the account keeps it
    assert sql(settings, "SELECT language FROM app_user WHERE username = 'river'") == [("es",)]
    made = post_form(client, "/appointments", {"what": "Abogada", "date": "2030-01-02", "time": "10:00",
                                               "reminder": "none"}).headers["location"]
    calendar = client.get(f"{made}/calendar.ics").text
    assert "SUMMARY:Cita" in calendar and "Abogada" not in calendar


def test_an_old_name_of_a_zone_is_shown_under_its_country(client, settings):
    """A browser may give an old name (Asia/Calcutta): the picker still finds its country and city."""
    sign_up(client, "river")
    sql(settings, "UPDATE app_user SET time_zone = 'Asia/Calcutta' WHERE username = 'river'")
    assert '<option value="IN" selected>' in client.get("/settings/language").text
    assert '<option value="Asia/Kolkata" selected>' in client.get("/settings/time-zone").text
