"""Feedback to an organisation: a survivor tells an organisation they are connected with how its help feels (1 to 5,
and words if they like), one answer per organisation, which they can change or take back. The organisation's admins
read the answers without a name and by month only, and nothing at all until 5 or more people have answered; an
admin of another organisation never reads them, nor does anyone else."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from babel.dates import format_skeleton

from portal.models import Role
from tests.conftest import make_connection, make_user, post_form, sign_in, sign_up, sql

NAMES = ["alder", "birch", "cedar", "dogwood", "elm", "fir"]
THIS_MONTH = format_skeleton("yMMMM", datetime.now(UTC), locale="en")  # "December 2026"


def answer(client, settings, survivor: str, rating: str, words: str = "", staff: str = "cw-amira") -> str:  # type: ignore[no-untyped-def]
    """A new survivor, connected with `staff`, answers; the connection's id."""
    client.cookies.clear()
    sign_up(client, survivor)
    cid = make_connection(settings, survivor, staff)
    sent = post_form(client, f"/sharing/{cid}/feedback", {"rating": rating, "words": words})
    assert sent.status_code == 303 and sent.headers["location"] == f"/sharing/{cid}/profile?done=sent#feedback"
    return cid


def admin_page(client, name: str = "boss") -> str:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    sign_in(client, name)
    page = client.get("/admin/feedback")
    assert page.status_code == 200
    return page.text


def test_nothing_is_shown_from_4_people_and_everything_from_5_by_month_without_names(client, settings):
    make_user(settings, "cw-amira", Role.CASEWORKER)
    make_user(settings, "boss", Role.ADMIN)
    # Sent in an order that is neither rating nor words: the page must not tell who answered first.
    for survivor, rating in zip(NAMES[:4], ("5", "1", "4", "2"), strict=True):
        answer(client, settings, survivor, rating, f"Words of {survivor}-x")
    few = admin_page(client)
    assert "Answers appear here once 5 or more people have answered. So far: fewer than 5." in few
    assert "Words of" not in few and "Average" not in few and "Helpful" not in few and "4 answers" not in few
    assert 'href="/admin/feedback"' in few  # in the admin's menu

    answer(client, settings, NAMES[4], "3", "Words of elm-x")
    shown = admin_page(client)
    assert "fewer than 5" not in shown
    assert "Average: 3.0 out of 5, from 5 answers." in shown
    rows = re.findall(r"<tr>\s*<td>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>", shown)
    assert [(month, rating) for month, rating, _words in rows] == [
        (THIS_MONTH, "1 · Not helpful at all"), (THIS_MONTH, "2 · Not very helpful"), (THIS_MONTH, "3 · Some help"),
        (THIS_MONTH, "4 · Helpful"), (THIS_MONTH, "5 · Very helpful")]
    assert [words for _month, _rating, words in rows] == [
        "Words of birch-x", "Words of dogwood-x", "Words of elm-x", "Words of cedar-x", "Words of alder-x"]
    # The month only: no day, no time, no survivor's name or label, no id.
    body = shown.split("<main", 1)[1]
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}|\b\d{1,2} " + THIS_MONTH, body)
    for survivor in NAMES[:5]:
        assert f">{survivor}" not in body and f"{survivor}<" not in body and f" {survivor} " not in body
    assert "Rivers" not in body  # the name each survivor gave for themselves on the connection
    for (feedback_id,) in sql(settings, "SELECT id FROM feedback"):
        assert feedback_id not in shown

    # Newest month first, then by rating.
    sql(settings, "UPDATE feedback SET month = '2025-03' WHERE words IN ('Words of birch-x', 'Words of cedar-x')")
    shown = admin_page(client)
    months = re.findall(r"<tr>\s*<td>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>", shown)
    assert months == [(THIS_MONTH, "2 · Not very helpful"), (THIS_MONTH, "3 · Some help"),
                      (THIS_MONTH, "5 · Very helpful"), ("March 2025", "1 · Not helpful at all"),
                      ("March 2025", "4 · Helpful")]


def test_a_new_answer_replaces_the_old_and_taking_it_back_removes_it(client, settings):
    make_user(settings, "cw-amira", Role.CASEWORKER)
    make_user(settings, "boss", Role.ADMIN)
    for survivor in NAMES[:4]:
        answer(client, settings, survivor, "4")
    cid = answer(client, settings, NAMES[4], "2", "First words")
    page = client.get(f"/sharing/{cid}/profile?done=sent").text
    assert "Thank you. Your answer is sent." in page
    assert f"You told them: 2 · Not very helpful, in {THIS_MONTH}" in page and "First words" in page
    assert "Take back" in page and "Change" in page
    # A second answer, from the same survivor through another person of the same organisation, replaces the first.
    make_user(settings, "cw-bo", Role.CASEWORKER)
    second = make_connection(settings, NAMES[4], "cw-bo")
    assert post_form(client, f"/sharing/{second}/feedback", {"rating": "5", "words": "Better now"}).status_code == 303
    assert sql(settings, "SELECT count(*) FROM feedback")[0][0] == 5
    assert sql(settings, "SELECT rating, words FROM feedback WHERE words <> ''") == [(5, "Better now")]
    assert "You told them: 5 · Very helpful" in client.get(f"/sharing/{cid}/profile").text
    survivor_client_cookies = dict(client.cookies)
    shown = admin_page(client)
    assert "from 5 answers" in shown and "Better now" in shown and "First words" not in shown
    client.cookies.clear()
    client.cookies.update(survivor_client_cookies)

    taken = post_form(client, f"/sharing/{cid}/feedback/remove")
    assert taken.status_code == 303 and taken.headers["location"] == f"/sharing/{cid}/profile?done=taken-back#feedback"
    page = client.get(taken.headers["location"]).text
    assert "Your answer is taken back." in page and "You told them" not in page and "Better now" not in page
    assert sql(settings, "SELECT count(*) FROM feedback")[0][0] == 4
    assert "So far: fewer than 5." in admin_page(client) and "Better now" not in admin_page(client)


def test_an_admin_of_another_organisation_sees_none_of_it(client, settings):
    make_user(settings, "cw-amira", Role.CASEWORKER)
    make_user(settings, "other-boss", Role.ADMIN, organisation="Other org")
    make_user(settings, "cw-other", Role.CASEWORKER, organisation="Other org")
    for survivor in NAMES[:5]:
        answer(client, settings, survivor, "4", f"Secret of {survivor}")
    answer(client, settings, NAMES[5], "1", "For the other org", staff="cw-other")
    other = admin_page(client, "other-boss")
    assert "So far: fewer than 5." in other and "Secret of" not in other and "For the other org" not in other
    # Nor by asking for the other organisation by any address: there is none.
    assert client.get("/admin/feedback?organisation=1").text.count("Secret of") == 0
    assert client.get("/admin/feedback/1").status_code == 404


def test_only_an_admin_reads_feedback(client, settings):
    make_user(settings, "cw-amira", Role.CASEWORKER)
    make_user(settings, "mo-mentor", Role.MENTOR)
    for survivor in NAMES[:5]:
        answer(client, settings, survivor, "4", f"Secret of {survivor}")
    assert client.get("/admin/feedback").status_code == 404  # a survivor
    for staff in ("cw-amira", "mo-mentor"):
        client.cookies.clear()
        sign_in(client, staff)
        refused = client.get("/admin/feedback")
        assert refused.status_code == 404 and "Secret of" not in refused.text
    client.cookies.clear()
    assert client.get("/admin/feedback", follow_redirects=False).status_code == 303


def test_feedback_only_on_the_survivors_own_live_connection_to_an_organisation(client, other_client, settings):
    make_user(settings, "cw-amira", Role.CASEWORKER)
    rivers = answer(client, settings, "river", "4")
    sign_up(other_client, "sea")
    for path in (f"/sharing/{rivers}/feedback", f"/sharing/{rivers}/feedback/remove"):
        assert post_form(other_client, path, {"rating": "1"}).status_code == 404
    assert post_form(other_client, "/sharing/no-such-one/feedback", {"rating": "1"}).status_code == 404
    assert sql(settings, "SELECT rating FROM feedback") == [(4,)]
    # Staff cannot answer for anyone.
    other_client.cookies.clear()
    sign_in(other_client, "cw-amira")
    assert post_form(other_client, f"/sharing/{rivers}/feedback", {"rating": "1"}).status_code == 404
    # An ended connection takes no answer, nor takes one back (the answer stays the survivor's to take back
    # through any other connection to that organisation).
    sql(settings, "UPDATE connection SET ended_at = :t WHERE id = :c", t=datetime.now(UTC), c=rivers)
    assert post_form(client, f"/sharing/{rivers}/feedback", {"rating": "1"}).status_code == 404
    assert post_form(client, f"/sharing/{rivers}/feedback/remove").status_code == 404
    assert sql(settings, "SELECT rating FROM feedback") == [(4,)]
    # A staff member with no organisation: there is no organisation to tell, and no form.
    make_user(settings, "cw-alone", Role.CASEWORKER)
    sql(settings, "UPDATE app_user SET organisation_id = NULL WHERE username = 'cw-alone'")
    alone = make_connection(settings, "river", "cw-alone")
    page = client.get(f"/sharing/{alone}/profile")
    assert page.status_code == 200 and "How does" not in page.text and "/feedback" not in page.text
    assert post_form(client, f"/sharing/{alone}/feedback", {"rating": "5"}).status_code == 404


def test_a_rating_outside_1_to_5_or_missing_is_refused_and_nothing_is_stored(client, settings):
    make_user(settings, "cw-amira", Role.CASEWORKER)
    sign_up(client, "river")
    cid = make_connection(settings, "river", "cw-amira")
    page = client.get(f"/sharing/{cid}/profile").text
    assert "How does Safe Harbor\u2019s help feel?" in page and "Safe Harbor sees your answer without your name" in page
    assert all(words in page for words in ("Not helpful at all", "Not very helpful", "Some help", "Very helpful"))
    for sent in ({}, {"rating": ""}, {"rating": "0"}, {"rating": "6"}, {"rating": "-1"}, {"rating": "4.5"},
                 {"rating": "abc"}, {"rating": "٤"}, {"rating": "44"}, {"rating": "4", "words": "x" * 1001}):
        refused = post_form(client, f"/sharing/{cid}/feedback", {**sent, "words": sent.get("words", "Kept words")})
        assert refused.status_code == 400, sent
        assert 'class="error-summary"' in refused.text, sent
        assert ("Use 1,000 characters or fewer." if "words" in sent else "Choose how their help feels, from 1 to 5.") \
            in refused.text, sent
    assert sql(settings, "SELECT count(*) FROM feedback")[0][0] == 0
    assert "Kept words" in refused.text or "x" * 1001 in refused.text


def test_html_in_words_is_shown_as_text_to_the_admin(client, settings):
    make_user(settings, "cw-amira", Role.CASEWORKER)
    make_user(settings, "boss", Role.ADMIN)
    for survivor in NAMES[:4]:
        answer(client, settings, survivor, "3")
    answer(client, settings, NAMES[4], "3", '<script>alert("hi")</script><b>bold</b>')
    shown = admin_page(client)
    assert "<script>alert" not in shown and "<b>bold</b>" not in shown
    assert "&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in shown


def test_an_answer_can_be_taken_back_from_settings_once_the_connection_has_ended(client, other_client, settings):
    """The connection ended (by the survivor, or with the staff member's account): Settings → Your data still lists
    the answer and takes it back; another survivor cannot."""
    make_user(settings, "cw-amira", Role.CASEWORKER)
    cid = answer(client, settings, "alder", "3", "Some words")
    assert post_form(client, f"/sharing/{cid}/end").status_code == 303
    assert post_form(client, f"/sharing/{cid}/feedback/remove").status_code == 404  # the connection is gone
    data = client.get("/settings/data").text
    assert f"Safe Harbor: 3 · Some help, in {THIS_MONTH}" in data
    answer_id = re.search(r"/settings/feedback/([A-Za-z0-9_-]+)/remove", data).group(1)  # type: ignore[union-attr]
    sign_up(other_client, "birch")
    assert post_form(other_client, f"/settings/feedback/{answer_id}/remove").status_code == 404
    assert sql(settings, "SELECT count(*) FROM feedback")[0][0] == 1
    taken = post_form(client, f"/settings/feedback/{answer_id}/remove")
    assert taken.status_code == 303 and taken.headers["location"] == "/settings/data?done=feedback#feedback"
    assert "Your answer is taken back." in client.get(taken.headers["location"]).text
    assert sql(settings, "SELECT count(*) FROM feedback")[0][0] == 0
