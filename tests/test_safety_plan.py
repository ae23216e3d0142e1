"""The safety plan over HTTP: a kind empty state and the form, a plan saved and changed in the survivor's own words
(one each), bad input refused with what was typed kept, papers ticked from the survivor's own Documents only, what
a caseworker sees while it is shared (and only the names of papers they may read), Only me, Home, the warning
before the export, the export itself, and deleting it."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile

from hypothesis import given
from hypothesis import strategies as st

from portal.models import Role
from tests.conftest import PASSWORD, make_connection, make_user, post_form, sign_in, sign_up, sql
from tests.test_documents import PDF, upload
from tests.test_fuzz_forms import (
    FEWER, WORDS, Body, bodies, check, created, kept, plain, send, several, signed_in_survivor,
)

EMPTY_WORDS = "A safety plan is what you would do, and who you would call, if things got unsafe."


def save_plan(client, **fields):  # type: ignore[no-untyped-def]
    """Send the new-plan form; the plan's address (without ?saved=1)."""
    response = post_form(client, "/safety-plan", fields)
    assert response.status_code == 303, response.text[:2000]
    return response.headers["location"].split("?")[0]


def plans(settings) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    return sql(settings, "SELECT people, places, signs, take, take_documents, take_other, code_word, code_with, plan "
                         "FROM safety_plan")


def document_id(client, name: str) -> str:  # type: ignore[no-untyped-def]
    response = upload(client, PDF, name=name)
    assert response.status_code == 303
    return str(response.headers["location"].rsplit("/", 1)[1])


def test_with_no_plan_the_page_explains_it_kindly_and_offers_the_form(client, settings):
    sign_up(client, "river")
    page = client.get("/safety-plan")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "<title>Waypoint \N{EN DASH} Safety plan</title>" in text
    assert EMPTY_WORDS in text and "every part is optional" in text
    assert 'href="/safety-plan" aria-current="page">Safety plan</a>' in text  # in the menu, after Check-ins
    assert text.index('href="/check-ins"') < text.index('href="/safety-plan"')
    for words in ("People I can call", "Safe places", "Signs that things are getting unsafe",
                  "What I would take with me", "A code word", "What I will do if…", "Save safety plan"):
        assert words in text, words
    assert text.count("For example") >= 6  # a plain example for each section
    # Rows for people without a script: a few empty ones to fill in.
    assert 'id="person-0-name"' in text and 'id="person-2-reach"' in text and 'id="person-3-name"' not in text
    assert 'value="medicines"' in text and "Things for my children" in text
    assert plans(settings) == []


def test_a_plan_is_saved_shown_and_changed(client, settings):
    sign_up(client, "river")
    passport = document_id(client, "My passport")
    url = save_plan(client, **{"person-0-name": "Rosa", "person-0-reach": "555 0101", "person-1-name": "",
                               "person-2-name": "Help line", "person-2-reach": "0800 1234",
                               "places": "The library on Main Street", "signs": "He takes my phone",
                               "take": ["id", "medicines"], "take_documents": [passport],
                               "take_other": "A photo of my son", "code_word": "Did you feed the cat?",
                               "code_with": "Sam", "plan": "Go to Rosa's and call the help line."})
    assert re.fullmatch(r"/safety-plan/[A-Za-z0-9_-]{16}", url)
    [row] = plans(settings)
    assert json.loads(row[0]) == [{"name": "Rosa", "reach": "555 0101"}, {"name": "Help line", "reach": "0800 1234"}]
    assert row[3] == "id,medicines" and row[4] == passport
    page = html.unescape(client.get(f"{url}?saved=1").text)
    assert "Your safety plan is saved." in page
    for words in ("Rosa", "555 0101", "The library on Main Street", "He takes my phone", "ID or passport", "Medicines",
                  "My passport", "A photo of my son", "Did you feed the cat?", "Sam",
                  "Go to Rosa's and call the help line.", "Only you can see this."):
        assert words in page, words
    assert "Phone and charger" not in page  # not ticked
    assert "Did you feed the cat?" in html.unescape(client.get("/safety-plan").text)  # the part's page shows the plan

    form = client.get(f"{url}/edit").text
    assert 'value="Rosa"' in form and 'value="0800 1234"' in form
    assert re.search(r'id="take-id" name="take" type="checkbox" value="id" checked', form)
    ticked = rf'id="take_documents-{passport}" name="take_documents" type="checkbox" value="{passport}" checked'
    assert re.search(ticked, form)
    # The two people saved, then three empty rows.
    assert 'id="person-4-name"' in form and 'id="person-5-name"' not in form
    changed = post_form(client, f"{url}/edit", {"person-0-name": "", "person-0-reach": "", "person-1-name": "Help line",
                                                "person-1-reach": "0800 1234", "take": "phone", "plan": "Call Sam."})
    assert changed.status_code == 303
    [row] = plans(settings)
    assert json.loads(row[0]) == [{"name": "Help line", "reach": "0800 1234"}]
    assert row[1:] == ("", "", "phone", "", "", "", "", "Call Sam.")


def test_one_plan_each_sent_again_it_changes_the_same_plan(client, settings):
    sign_up(client, "river")
    first = save_plan(client, places="The library")
    second = save_plan(client, places="The church")
    assert first == second
    assert [row[1] for row in plans(settings)] == ["The church"]


def test_bad_input_is_refused_beside_its_field_keeping_what_was_typed_and_saving_nothing(client, other_client,
                                                                                        settings):
    sign_up(other_client, "sea")
    not_mine = document_id(other_client, "Sea's visa")
    sign_up(client, "river")
    mine = document_id(client, "River's ID")
    refused = post_form(client, "/safety-plan", {"places": "x" * 2001, "person-1-name": "y" * 81,
                                                 "person-1-reach": "Kept number", "signs": "Kept signs",
                                                 "take": ["id", "spaceship"], "take_documents": [mine, not_mine]})
    assert refused.status_code == 400
    text = html.unescape(refused.text)
    assert 'class="error-summary"' in text
    assert "Use 2,000 characters or fewer." in text and "Use 80 characters or fewer." in text
    assert 'id="person-1-name-error"' in text  # beside the row it was typed in
    assert "Choose from the list." in text and "Choose from your own papers in the list." in text
    assert "Kept number" in text and "Kept signs" in text
    assert "Sea's visa" not in text and "River's ID" in text
    assert plans(settings) == []

    url = save_plan(client, places="The library")
    refused = post_form(client, f"{url}/edit", {"places": "The church", "take_documents": not_mine})
    assert refused.status_code == 400 and "Choose from your own papers in the list." in refused.text
    assert refused.text.count('action="' + url + '/edit"') == 1  # the change form again, not a second plan
    assert [row[1] for row in plans(settings)] == ["The library"]


def test_another_survivor_and_an_unshared_caseworker_find_nothing(client, other_client, settings):
    sign_up(client, "river")
    url = save_plan(client, places="The library")
    plan_id = url.rsplit("/", 1)[1]
    sign_up(other_client, "sea")
    for path in (url, f"{url}/edit", f"{url}/delete"):
        assert other_client.get(path).status_code == 404, path
    for path in (f"{url}/edit", f"{url}/delete", f"{url}/private"):
        assert post_form(other_client, path, {"places": "Mine now", "private": "1"}).status_code == 404, path
    assert "The library" not in other_client.get("/safety-plan").text  # their own page: their own empty state
    assert EMPTY_WORDS in html.unescape(other_client.get("/safety-plan").text)
    other_client.cookies.clear()
    make_user(settings, "ana", Role.CASEWORKER)
    connection = make_connection(settings, "river", "ana")
    sign_in(other_client, "ana")
    assert other_client.get(f"/people/{connection}/safety_plan").status_code == 404
    assert other_client.get(f"/people/{connection}/safety_plan/{plan_id}").status_code == 404
    assert [row[1] for row in plans(settings)] == ["The library"]


def test_a_caseworker_reads_the_plan_while_shared_and_only_names_of_papers_they_may_read(client, other_client,
                                                                                        settings):
    sign_up(client, "river")
    passport, letter, gone = (document_id(client, name) for name in ("My passport", "Court letter", "Old card"))
    url = save_plan(client, **{"person-0-name": "Rosa", "person-0-reach": "555 0101", "take": "keys",
                               "take_documents": [passport, letter, gone], "code_word": "Blue door"})
    plan_id = url.rsplit("/", 1)[1]
    assert post_form(client, f"/documents/{gone}/delete").status_code == 303
    make_user(settings, "ana", Role.CASEWORKER)
    connection = make_connection(settings, "river", "ana", ("safety_plan",))
    sign_in(other_client, "ana")
    listing = other_client.get(f"/people/{connection}/safety_plan")
    assert f'href="/people/{connection}/safety_plan/{plan_id}"' in listing.text
    page = html.unescape(other_client.get(f"/people/{connection}/safety_plan/{plan_id}").text)
    assert "Rosa" in page and "555 0101" in page and "Keys" in page and "Blue door" in page
    assert "My passport" not in page and "Court letter" not in page and "Old card" not in page
    assert "papers from Documents" not in page and "paper from Documents" not in page  # not even counted
    assert 'href="/safety-plan' not in page.split("<main", 1)[1]  # read-only: no Change, Delete or Print
    log = html.unescape(client.get("/sharing/log").text)
    assert "Ana · caseworker · Safe Harbor opened your safety plan" in log

    # One paper shared on its own: its name shows, the other is not mentioned; one kept Only me is not either.
    assert post_form(client, "/sharing/item", {"part": "documents", "item_id": passport, "connection": connection,
                                               "until": "week"}).status_code == 303
    page = html.unescape(other_client.get(f"/people/{connection}/safety_plan/{plan_id}").text)
    assert "My passport" in page and "Court letter" not in page and "other paper" not in page
    share_documents = post_form(client, f"/sharing/{connection}/save", {"parts": ["safety_plan", "documents"],
                                                                        "until-safety_plan": "keep",
                                                                        "until-documents": "week"})
    assert share_documents.status_code == 303
    assert post_form(client, f"/documents/{letter}/private", {"private": "1"}).status_code == 303
    page = html.unescape(other_client.get(f"/people/{connection}/safety_plan/{plan_id}").text)
    assert "My passport" in page and "Court letter" not in page and "other paper" not in page

    # Only me wins over the part shared; taking it away from the part hides it at once.
    assert post_form(client, f"{url}/private", {"private": "1"}).status_code == 303
    assert other_client.get(f"/people/{connection}/safety_plan/{plan_id}").status_code == 404
    assert plan_id not in other_client.get(f"/people/{connection}/safety_plan").text
    assert post_form(client, f"{url}/private", {"private": "0"}).status_code == 303
    assert other_client.get(f"/people/{connection}/safety_plan/{plan_id}").status_code == 200
    assert post_form(client, f"/sharing/{connection}/save", {}).status_code == 303
    assert other_client.get(f"/people/{connection}/safety_plan/{plan_id}").status_code == 404


def test_home_shows_the_plan_only_once_there_is_one(client):
    sign_up(client, "river")
    assert "Your safety plan" not in client.get("/home").text
    url = save_plan(client, places="The library")
    home = client.get("/home").text
    assert f'<a href="{url}">Your safety plan</a>' in home
    assert "The library" not in home  # a link, not the plan's words


def test_the_data_page_warns_before_the_download_that_the_file_holds_the_plan(client):
    sign_up(client, "river")
    page = html.unescape(client.get("/settings/data").text)
    warning = page.index("The file includes your safety plan")
    assert warning < page.index('action="/settings/export"') < page.index("Export my data")
    assert "Anyone who opens the file can read them." in page


def test_the_plan_is_in_the_export_as_readable_lists(client):
    sign_up(client, "river")
    passport = document_id(client, "My passport")
    save_plan(client, **{"person-0-name": "Rosa", "person-0-reach": "555 0101", "take": ["id", "phone"],
                         "take_documents": passport, "code_word": "Blue door"})
    export = post_form(client, "/settings/export", {"export_password": PASSWORD})
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        [plan] = json.loads(archive.read("safety_plan.json"))
        readme = archive.read("README.txt").decode()
    assert plan["people"] == [{"name": "Rosa", "reach": "555 0101"}]
    assert plan["take"] == ["id", "phone"] and plan["take_documents"] == [passport]
    assert plan["code_word"] == "Blue door" and "owner_id" not in plan
    assert "safety_plan.json" in readme and "your safety plan" in readme


def test_the_plan_is_hidden_from_print_unless_chosen(client):
    sign_up(client, "river")
    url = save_plan(client, places="The library")
    page = html.unescape(client.get(url).text)
    assert '<div class="safety-plan">' in page and "Your safety plan is not printed unless you choose to." in page
    assert "Print my safety plan" in page and f'href="{url}?print=1" data-print-plan' in page
    chosen = client.get(f"{url}?print=1").text
    assert '<div class="safety-plan safety-plan--print">' in chosen and "data-print-plan" not in chosen
    edit = client.get(f"{url}/edit").text  # the form holds the plan's words too
    assert '<div class="safety-plan__content">' in edit


def test_deleting_asks_first_then_the_plan_is_gone_and_its_cards_stop(client, settings):
    sign_up(client, "river")
    url = save_plan(client, places="The library")
    plan_id = url.rsplit("/", 1)[1]
    make_user(settings, "ana", Role.CASEWORKER)
    make_connection(settings, "river", "ana", item_ids=(("safety_plan", plan_id),))
    asked = client.get(f"{url}/delete").text
    assert "Delete your safety plan?" in asked and "Yes, delete it" in asked and f'href="{url}"' in asked
    assert plans(settings) != []
    done = post_form(client, f"{url}/delete")
    assert done.status_code == 303 and done.headers["location"] == "/safety-plan"
    assert plans(settings) == []
    live = "SELECT count(*) FROM share_grant WHERE item_id = :i AND revoked_at IS NULL"
    assert sql(settings, live, i=plan_id) == [(0,)]
    assert EMPTY_WORDS in html.unescape(client.get("/safety-plan").text)
    assert client.get(url).status_code == 404


def test_no_answer_to_the_plan_form_is_a_server_error_and_a_refused_one_keeps_what_was_typed(client, settings):
    """Hypothesis, as tests/test_fuzz_forms.py does for the other forms: every kind of text, lists, files, broken
    encodings; never a 500, and a refused form (400) shows each text sent once as the app keeps it."""
    token = signed_in_survivor(client, settings)
    item = created(send(client, "/safety-plan", plain(places="The library"), token), "/safety-plan/")
    texts = {"places": 8000, "signs": 8000, "take_other": 4000, "code_word": 800, "code_with": 800, "plan": 16000,
             "person-0-name": 320, "person-0-reach": 480, "person-7-name": 320, "person-7-reach": 480}

    fields = {**{name: WORDS for name in texts}, "take": several(["id", "phone", "keys", "spaceship"]),
              "take_documents": several(["not-a-paper", "x" * 40])}

    @FEWER
    @given(path=st.sampled_from(["/safety-plan", f"/safety-plan/{item}/edit"]), body=bodies(fields))
    def plan_form(path: str, body: Body) -> None:
        check(send(client, path, body, token), body, {name: kept(limit) for name, limit in texts.items()})

    plan_form()
    assert len(sql(settings, "SELECT id FROM safety_plan")) == 1  # one plan each, however it was sent

