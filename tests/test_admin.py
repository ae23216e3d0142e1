"""Organisation admins: the first admin from the command line, Staff accounts, set-password links."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from portal.db import make_engine, session_factory
from portal.models import PasswordSetup, Role
from tests.conftest import PASSWORD, make_connection, make_user, post_form, run, sign_in

ROOT = Path(__file__).resolve().parent.parent


def test_create_admin_command_makes_an_admin_who_can_sign_in(client, settings):
    env = {**os.environ, "DATABASE_URL": settings.database_url, "PORTAL_DATA_DIR": str(settings.data_dir),
           "PORTAL_PASSWORD": "a-long-admin-passphrase"}
    result = subprocess.run(
        [sys.executable, "-m", "portal", "create-admin", "--username", "orgadmin"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    response = sign_in(client, "orgadmin", "a-long-admin-passphrase")
    assert response.headers["location"] == "/admin/staff"
    again = subprocess.run(
        [sys.executable, "-m", "portal", "create-admin", "--username", "OrgAdmin"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert again.returncode == 1 and "taken" in again.stderr


def test_create_admin_chooses_the_organisations_country_and_with_it_the_help_lines(client, settings):
    env = {**os.environ, "DATABASE_URL": settings.database_url, "PORTAL_DATA_DIR": str(settings.data_dir),
           "PORTAL_PASSWORD": "a-long-admin-passphrase"}
    command = [sys.executable, "-m", "portal", "create-admin", "--username", "orgadmin", "--country"]
    refused = subprocess.run([*command, "ZZ"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "Unknown country" in refused.stderr
    result = subprocess.run([*command, "gb"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    help_page = client.get("/help").text
    assert "Modern Slavery &amp; Exploitation Helpline" in help_page and "08000 121 700" in help_page
    assert "1-888-373-7888" not in help_page


def test_create_admin_refuses_a_weak_password(settings):
    env = {**os.environ, "DATABASE_URL": settings.database_url, "PORTAL_DATA_DIR": str(settings.data_dir),
           "PORTAL_PASSWORD": "short"}
    result = subprocess.run(
        [sys.executable, "-m", "portal", "create-admin", "--username", "orgadmin"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1 and "8 characters" in result.stderr


def _add_staff(client, username: str, role: str = "caseworker") -> str:  # type: ignore[no-untyped-def]
    response = post_form(client, "/admin/staff", {"username": username, "role": role, "display_name": f"{username.title()} Smith"})
    assert response.status_code == 200, response.text
    match = re.search(r'value="(http://testserver\.local/set-password/[^"]+)"', response.text)
    assert match
    return match.group(1).removeprefix("http://testserver.local")


def test_admin_adds_staff_who_set_a_password_once_and_sign_in(client, other_client, settings):
    make_user(settings, "orgadmin", Role.ADMIN)
    sign_in(client, "orgadmin")
    link = _add_staff(client, "casey", "caseworker")
    page = client.get("/admin/staff").text
    assert "casey" in page and "Waiting for password" in page
    assert link not in page  # shown once only

    form = other_client.get(link)
    assert form.status_code == 200 and "Your username is casey" in form.text
    done = post_form(other_client, link, {"password": "a-good-staff-passphrase"})
    assert done.status_code == 303 and done.headers["location"] == "/staff"
    assert "caseworker" in other_client.get("/staff").text

    reused = post_form(other_client, link, {"password": "another-passphrase"})
    assert reused.status_code == 404 and "This link does not work" in reused.text
    other_client.cookies.clear()
    sign_in(other_client, "casey", "a-good-staff-passphrase")


def test_staff_roles_and_bad_input_on_add_staff(client, settings):
    make_user(settings, "orgadmin", Role.ADMIN)
    make_user(settings, "taken-name")
    sign_in(client, "orgadmin")
    bad_role = post_form(client, "/admin/staff", {"username": "newperson", "role": "admin"})
    assert bad_role.status_code == 400 and 'id="role-error"' in bad_role.text and 'value="newperson"' in bad_role.text
    taken = post_form(client, "/admin/staff", {"username": "TAKEN-name", "role": "mentor"})
    assert taken.status_code == 400 and "taken" in taken.text
    empty = post_form(client, "/admin/staff", {"username": "", "role": "mentor"})
    assert empty.status_code == 400
    _add_staff(client, "mentor-mo", "mentor")
    assert "Peer mentor" in client.get("/admin/staff").text


@pytest.mark.parametrize("mangle", ["tampered", "expired", "overlong"])
def test_tampered_or_expired_set_password_links_get_a_clear_message(client, other_client, settings, mangle):
    make_user(settings, "orgadmin", Role.ADMIN)
    sign_in(client, "orgadmin")
    link = _add_staff(client, "casey")
    if mangle == "tampered":
        link = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    elif mangle == "expired":
        async def expire() -> None:
            engine = make_engine(settings.database_url)
            async with session_factory(engine)() as db:
                await db.exec(update(PasswordSetup).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))  # type: ignore[call-overload]
                await db.commit()
            await engine.dispose()

        run(expire())
    else:
        link = "/set-password/" + "x" * 500
    response = other_client.get(link)
    assert response.status_code == 404 and "This link does not work" in response.text
    posted = post_form(other_client, link, {"password": "a-good-staff-passphrase"})
    assert posted.status_code == 404


def test_a_new_link_replaces_the_old_one(client, other_client, settings):
    make_user(settings, "orgadmin", Role.ADMIN)
    sign_in(client, "orgadmin")
    first = _add_staff(client, "casey")
    staff_id = re.search(r'action="/admin/staff/(\d+)/link"', client.get("/admin/staff").text).group(1)
    second = post_form(client, f"/admin/staff/{staff_id}/link")
    assert second.status_code == 200
    assert other_client.get(first).status_code == 404


def test_no_new_link_for_a_staff_account_already_in_use(client, settings):
    """An admin must not be able to take over a working account (and what is shared with it)."""
    make_user(settings, "orgadmin", Role.ADMIN)
    staff_id = make_user(settings, "casey", Role.CASEWORKER)
    sign_in(client, "orgadmin")
    assert f"/admin/staff/{staff_id}/link" not in client.get("/admin/staff").text
    assert post_form(client, f"/admin/staff/{staff_id}/link").status_code == 404


def test_deactivation_ends_staff_sessions_at_once_and_reactivation_lets_them_back(client, other_client, settings):
    make_user(settings, "orgadmin", Role.ADMIN)
    staff_id = make_user(settings, "casey", Role.CASEWORKER)
    sign_in(client, "orgadmin")
    sign_in(other_client, "casey")
    assert other_client.get("/staff", follow_redirects=False).status_code == 200

    response = post_form(client, f"/admin/staff/{staff_id}/deactivate")
    assert response.status_code == 200 and "can no longer sign in" in response.text
    assert other_client.get("/staff", follow_redirects=False).status_code == 303
    other_client.cookies.clear()
    refused = post_form(other_client, "/sign-in", {"username": "casey", "password": PASSWORD})
    assert refused.status_code == 400

    post_form(client, f"/admin/staff/{staff_id}/reactivate")
    sign_in(other_client, "casey")


def test_admin_sees_counts_but_no_survivor_and_cannot_act_on_one(client, settings):
    make_user(settings, "orgadmin", Role.ADMIN)
    survivor_id = make_user(settings, "secret-survivor-name")
    make_user(settings, "casey", Role.CASEWORKER)
    make_connection(settings, "secret-survivor-name", "casey", ("goals",), label="Secret Label")
    sign_in(client, "orgadmin")
    page = client.get("/admin/staff").text
    assert "secret-survivor-name" not in page and "Secret Label" not in page
    assert "People connected" not in page  # figures about people are on Impact, from those who said yes
    assert re.search(r"Connections in place</dt><dd>fewer than 5<", page)
    assert post_form(client, f"/admin/staff/{survivor_id}/deactivate").status_code == 404
    assert post_form(client, "/admin/staff/999999/deactivate").status_code == 404


@pytest.mark.parametrize("role", [Role.SURVIVOR, Role.CASEWORKER, Role.MENTOR])
def test_only_admins_reach_staff_accounts(client, settings, role):
    staff_id = make_user(settings, "casey", Role.CASEWORKER)
    make_user(settings, "someone", role) if role != Role.CASEWORKER else None
    sign_in(client, "someone" if role != Role.CASEWORKER else "casey")
    assert client.get("/admin/staff").status_code == 404
    assert post_form(client, f"/admin/staff/{staff_id}/deactivate").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for path in ("/home", "/staff", "/admin/staff", "/settings", "/welcome"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/sign-in"
