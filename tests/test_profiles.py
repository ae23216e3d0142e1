"""Staff profiles: a caseworker or peer mentor writes their own name and what they help with in Settings, sees it as
survivors will, and survivors read it before connecting and afterwards from Sharing, never the username. Bad input
is refused in words or shown as text; the pages are for their own people only."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.models import Role
from tests.conftest import make_connection, make_user, post_form, sign_in, sign_up, sql
from tests.test_sharing import connect, connection_id, show_code

HELPS = "Housing, benefits & going to court"


def test_staff_edit_their_profile_and_see_it_as_survivors_will(client, settings):
    make_user(settings, "cw-amira", Role.CASEWORKER)
    sign_in(client, "cw-amira")
    hub = client.get("/settings").text
    assert 'href="/settings/profile"' in hub and "Your profile" in hub
    page = client.get("/settings/profile")
    assert page.status_code == 200 and 'value="Cw Amira"' in page.text
    saved = post_form(client, "/settings/profile", {"display_name": "  Amira   Haddad ", "helps_with": HELPS})
    assert saved.status_code == 303 and saved.headers["location"] == "/settings/profile?done=saved"
    shown = client.get(saved.headers["location"]).text
    assert "Saved. People you work with see this at once." in shown
    assert 'value="Amira Haddad"' in shown and "Housing, benefits &amp; going to court" in shown
    # The preview: the name, role and organisation as survivors read them.
    preview = shown.split("How people see you", 1)[1]
    assert "Amira Haddad" in preview and "Caseworker · Safe Harbor" in preview and "cw-amira" not in preview
    assert sql(settings, "SELECT display_name, helps_with FROM app_user WHERE username = 'cw-amira'") == [
        ("Amira Haddad", HELPS)]
    # What they help with may be left empty; a peer mentor has the same page.
    assert post_form(client, "/settings/profile", {"display_name": "Amira", "helps_with": ""}).status_code == 303
    assert sql(settings, "SELECT helps_with FROM app_user WHERE username = 'cw-amira'") == [("",)]
    make_user(settings, "mo-mentor", Role.MENTOR)
    client.cookies.clear()
    sign_in(client, "mo-mentor")
    mentor = client.get("/settings/profile")
    assert mentor.status_code == 200 and "Peer mentor · Safe Harbor" in mentor.text


def test_bad_profiles_are_refused_in_words_and_nothing_is_saved(client, settings):
    make_user(settings, "cw-amira", Role.CASEWORKER)
    sign_in(client, "cw-amira")
    for sent, words in (
        ({"display_name": "", "helps_with": "x"}, "Write your name, as the people you work with know you."),
        ({"display_name": "   ", "helps_with": ""}, "Write your name, as the people you work with know you."),
        ({"display_name": "\x00\x01\x1f", "helps_with": ""}, "Write your name, as the people you work with know you."),
        ({"display_name": "A" * 81, "helps_with": ""}, "Use 80 characters or fewer."),
        ({"display_name": "Amira", "helps_with": "x" * 301}, "Use 300 characters or fewer."),
    ):
        refused = post_form(client, "/settings/profile", sent)
        assert refused.status_code == 400, sent
        assert words in refused.text and 'class="error-summary"' in refused.text, sent
    assert sql(settings, "SELECT display_name, helps_with FROM app_user WHERE username = 'cw-amira'") == [
        ("Cw Amira", "")]
    # Control characters are dropped; HTML is kept as the words typed and shown as text, never as markup.
    post_form(client, "/settings/profile", {"display_name": "Ami\x00ra <b>", "helps_with": "<script>alert(1)</script>"})
    assert sql(settings, "SELECT display_name, helps_with FROM app_user WHERE username = 'cw-amira'") == [
        ("Amira <b>", "<script>alert(1)</script>")]
    shown = client.get("/settings/profile").text
    assert "<script>alert(1)" not in shown and "Amira <b>" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown and "Amira &lt;b&gt;" in shown


def test_only_caseworkers_and_mentors_have_a_profile(client, settings):
    sign_up(client, "river")
    assert client.get("/settings/profile").status_code == 404
    assert post_form(client, "/settings/profile", {"display_name": "River"}).status_code == 404
    assert 'href="/settings/profile"' not in client.get("/settings").text
    make_user(settings, "boss", Role.ADMIN)
    client.cookies.clear()
    sign_in(client, "boss")
    assert client.get("/settings/profile").status_code == 404
    assert post_form(client, "/settings/profile", {"display_name": "Boss"}).status_code == 404
    assert 'href="/settings/profile"' not in client.get("/settings").text
    assert sql(settings, "SELECT display_name FROM app_user WHERE username = 'boss'") == [("Boss",)]


def test_a_survivor_reads_the_profile_before_connecting_and_after(pair, settings):
    survivor, staff = pair
    post_form(staff, "/settings/profile", {"display_name": "Amira Haddad", "helps_with": HELPS})
    code = show_code(staff)
    before = post_form(survivor, "/sharing/connect", {"code": code})
    assert before.status_code == 200
    assert "Connect with Amira Haddad?" in before.text and "Caseworker · Safe Harbor" in before.text
    assert "Housing, benefits &amp; going to court" in before.text
    assert "Ana" not in before.text  # the username is never shown
    assert connect(survivor, code).status_code == 303
    cid = connection_id(staff)
    sharing = survivor.get("/sharing").text
    assert f'href="/sharing/{cid}/profile"' in sharing and "About them" in sharing
    after = survivor.get(f"/sharing/{cid}/profile")
    assert after.status_code == 200
    assert "About Amira Haddad" in after.text and "Caseworker · Safe Harbor" in after.text and "Ana" not in after.text
    assert "Housing, benefits &amp; going to court" in after.text and "They see you as “Rivers”." in after.text
    # A name changed later is what the survivor reads next.
    post_form(staff, "/settings/profile", {"display_name": "Amira H.", "helps_with": ""})
    assert "About Amira H." in survivor.get(f"/sharing/{cid}/profile").text


def test_the_profile_page_is_the_survivors_own_live_connection_only(client, other_client, settings):
    sign_up(client, "river")
    sign_up(other_client, "sea")
    make_user(settings, "cw-amira", Role.CASEWORKER)
    rivers = make_connection(settings, "river", "cw-amira")
    assert client.get(f"/sharing/{rivers}/profile").status_code == 200
    assert other_client.get(f"/sharing/{rivers}/profile").status_code == 404
    assert client.get("/sharing/no-such-connection/profile").status_code == 404
    other_client.cookies.clear()
    sign_in(other_client, "cw-amira")
    assert other_client.get(f"/sharing/{rivers}/profile").status_code == 404
    sql(settings, "UPDATE connection SET ended_at = :t WHERE id = :c", t=datetime.now(UTC), c=rivers)
    assert client.get(f"/sharing/{rivers}/profile").status_code == 404
