"""Sign up, sign in, sign out, and what bad input gets."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portal.models import Role, User
from tests.conftest import PASSWORD, make_user, post_form, run, sign_in, sign_up


def test_survivor_signs_up_sees_safety_introduction_signs_out_and_back_in(client):
    response = sign_up(client, "river")
    assert response.status_code == 200
    assert "Save your recovery codes" in response.text and 'href="/welcome"' in response.text
    welcome = client.get("/welcome")
    assert welcome.status_code == 200
    assert "What Exit now does not do" in welcome.text
    assert 'href="/safety/practice"' in welcome.text
    home = client.get("/home")
    assert "Hello, river" in home.text

    out = post_form(client, "/sign-out")
    assert out.status_code == 303
    assert client.get("/home", follow_redirects=False).status_code == 303  # to sign-in

    sign_in(client, "river")
    assert "Hello, river" in client.get("/home").text


def test_sign_up_keeps_no_contact_details_and_asks_only_for_username_and_password(client):
    page = client.get("/sign-up").text
    assert 'name="username"' in page and 'name="password"' in page
    assert "email" not in page.lower().replace("no e-mail", "").replace("an e-mail", "")
    assert "Create account" in page


@pytest.mark.parametrize(
    ("username", "password", "field", "message"),
    [
        ("", PASSWORD, "username", "Enter a username."),
        ("ab", PASSWORD, "username", "Use at least 3 characters."),
        ("a" * 33, PASSWORD, "username", "Use 32 characters or fewer."),
        ("has space", PASSWORD, "username", "No spaces."),
        ("<script>", PASSWORD, "username", "Use letters, numbers"),
        ("river", "", "password", "Enter a password"),
        ("river", "short", "password", "Use at least 8 characters."),
        ("river", "x" * 300, "password", "256 characters or fewer"),
        ("river", "password123", "password", "common"),
        ("riverbank1", "RIVERBANK1", "password", "same as your username"),
    ],
)
def test_sign_up_bad_input_gets_a_message_beside_the_field_and_keeps_the_username(client, username, password, field, message):
    response = sign_up(client, username, password)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.text
    assert message in response.text
    assert password not in response.text or not password
    count = run(_count_users(client))
    assert count == 0


async def _count_users(client) -> int:  # type: ignore[no-untyped-def]
    from portal.db import make_engine, session_factory

    engine = make_engine(client.app.state.services.config.database_url)
    async with session_factory(engine)() as db:
        users = (await db.exec(select(User))).all()
    await engine.dispose()
    return len(users)


def test_usernames_are_compared_after_unicode_normalisation_and_case_folding(client, other_client):
    assert sign_up(client, "Maria\u0301").status_code == 200  # "Mariá" with a combining accent
    taken = sign_up(other_client, "MARI\u00c1")  # precomposed, upper case
    assert taken.status_code == 400
    assert "That username is taken" in taken.text
    fullwidth = sign_up(other_client, "\uff2d\uff41\uff52\uff49\u00e1")  # "Ｍａｒｉá"
    assert fullwidth.status_code == 400
    sign_in(other_client, "mari\u00e1")
    assert "Hello, Mari" in other_client.get("/home").text


def test_wrong_username_and_wrong_password_get_the_same_answer(client, settings):
    make_user(settings, "harbour")
    wrong_password = post_form(client, "/sign-in", {"username": "harbour", "password": "not-the-password"})
    wrong_user = post_form(client, "/sign-in", {"username": "nobody-here", "password": "not-the-password"})
    assert wrong_password.status_code == wrong_user.status_code == 400

    def main(text: str) -> str:
        return text.split("<main", 1)[1].split("</main>", 1)[0]

    assert main(wrong_password.text).replace("harbour", "X") == main(wrong_user.text).replace("nobody-here", "X")


def test_failed_sign_ins_slow_down_the_account_even_for_the_right_password(client, settings):
    """A browser the account does not know, at one address (tests/test_lockout.py: many addresses, and the
    owner's device cookie)."""
    make_user(settings, "harbour")
    statuses = [
        post_form(client, "/sign-in", {"username": "harbour", "password": f"wrong-{n}-guess"}).status_code
        for n in range(7)
    ]
    assert statuses[:6] == [400] * 6  # 5 free failures per account and address, the 6th starts a wait
    assert statuses[6] == 429
    blocked = post_form(client, "/sign-in", {"username": "harbour", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Please wait" in blocked.text


@pytest.mark.parametrize(
    "username", ["", "x" * 5000, "nul\x00name", "\u202eevil", "<script>alert(1)</script>", "emoji\U0001f600", "a\u0301" * 40]
)
def test_odd_sign_in_input_gets_the_usual_answer_never_a_500(client, username):
    response = post_form(client, "/sign-in", {"username": username, "password": "y" * 5000})
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.text


def test_trying_taken_names_counts_towards_the_sign_up_limit(client, settings):
    make_user(settings, "taken")
    statuses = [sign_up(client, "taken").status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10
    assert sign_up(client, "free-name").status_code == 429


def test_deactivated_account_cannot_sign_in(client, settings):
    from portal.db import make_engine, session_factory

    user_id = make_user(settings, "harbour", Role.CASEWORKER)

    async def deactivate() -> None:
        engine = make_engine(settings.database_url)
        async with session_factory(engine)() as db:
            user = await db.get(User, user_id)
            assert user
            user.active = False
            db.add(user)
            await db.commit()
        await engine.dispose()

    run(deactivate())
    response = post_form(client, "/sign-in", {"username": "harbour", "password": PASSWORD})
    assert response.status_code == 400


def test_signed_in_person_visiting_sign_in_goes_home(client):
    sign_up(client, "river")
    response = client.get("/sign-in", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/home"


@pytest.mark.parametrize(("role", "home"), [(Role.SURVIVOR, "/home"), (Role.CASEWORKER, "/staff"), (Role.ADMIN, "/admin/staff")])
def test_the_start_page_sends_a_signed_in_person_to_their_own_home(client, settings, role, home):
    make_user(settings, "harbour", role)
    sign_in(client, "harbour")
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == home
