"""Several organisations in one deployment: made on the command line, each admin seeing only their own
organisation's staff and help lines, and survivors knowing staff by name and organisation, never by username."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import deque
from datetime import UTC, datetime

from portal.models import Role
from portal.parts import BY_KEY
from tests.conftest import PASSWORD, make_connection, make_user, post_form, sign_in, sign_up, sql, user_id
from tests.part_builders import BUILDERS
from tests.test_sharing import show_code

STAFF = {  # username -> (display name, role, organisation)
    "cw_amira": ("Amira Haddad", Role.CASEWORKER, "Safe Harbor"),
    "pm_jo": ("Jo Rivera", Role.MENTOR, "Bright Path"),
    "cw_lena": ("Lena Okafor", Role.CASEWORKER, "Bright Path"),
}


def _command(settings, *args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "DATABASE_URL": settings.database_url, "PORTAL_DATA_DIR": str(settings.data_dir),
           "PORTAL_SECRET_KEY": settings.secret_key, "PORTAL_DOCUMENT_KEY": settings.document_key,
           "PORTAL_PASSWORD": password}
    return subprocess.run([sys.executable, "-m", "portal", *args], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_create_organisation_makes_one_with_its_first_admin_and_create_admin_asks_which(client, settings):
    made = _command(settings, "create-organisation", "--name", "Safe Harbor", "--admin", "harbor-admin", "--country", "GB")
    assert made.returncode == 0, made.stderr
    again = _command(settings, "create-organisation", "--name", "Safe Harbor", "--admin", "someone-else")
    assert again.returncode == 1 and "already an organisation with that name" in again.stderr
    assert _command(settings, "create-organisation", "--name", "Legal Aid North", "--admin", "legal-admin").returncode == 0
    unnamed = _command(settings, "create-admin", "--username", "third-admin")
    assert unnamed.returncode == 1 and "--organisation" in unnamed.stderr  # two organisations: which one?
    assert _command(settings, "create-admin", "--username", "third-admin", "--organisation", "Legal Aid North").returncode == 0
    rows = sql(settings, "SELECT u.username, o.name, o.country FROM app_user u JOIN organisation o ON o.id = u.organisation_id "
                         "ORDER BY u.username")
    assert rows == [("harbor-admin", "Safe Harbor", "GB"), ("legal-admin", "Legal Aid North", ""),
                    ("third-admin", "Legal Aid North", "")]
    sign_in(client, "legal-admin")
    assert "Legal Aid North" in client.get("/admin/staff").text


def _add_staff(client, username: str, name: str) -> str:  # type: ignore[no-untyped-def]
    response = post_form(client, "/admin/staff", {"username": username, "role": "caseworker", "display_name": name})
    assert response.status_code == 200, response.text
    return response.text


def test_an_admin_manages_only_their_own_organisations_staff_and_help_lines(client, other_client, settings):
    make_user(settings, "harbor-admin", Role.ADMIN, organisation="Safe Harbor")
    make_user(settings, "path-admin", Role.ADMIN, organisation="Bright Path")
    sign_in(client, "harbor-admin")
    sign_in(other_client, "path-admin")
    page = _add_staff(client, "cw_amira", "Amira Haddad")
    assert "Send this link to Amira Haddad" in page
    _add_staff(other_client, "cw_lena", "Lena Okafor")
    amira, lena = user_id(settings, "cw_amira"), user_id(settings, "cw_lena")

    harbor = client.get("/admin/staff").text
    assert "Amira Haddad" in harbor and "Lena Okafor" not in harbor and "cw_lena" not in harbor
    # Another organisation's staff member, asked for by id, does not exist; nothing about them changes.
    for action in ("deactivate", "reactivate", "link"):
        assert post_form(client, f"/admin/staff/{lena}/{action}").status_code == 404
    assert sql(settings, "SELECT active FROM app_user WHERE id = :i", i=lena) == [(True,)]
    assert sql(settings, "SELECT count(*) FROM password_setup WHERE user_id = :i", i=lena) == [(1,)]  # the first link only
    assert post_form(other_client, f"/admin/staff/{amira}/deactivate").status_code == 404
    assert post_form(client, f"/admin/staff/{amira}/deactivate").status_code == 200  # their own: yes

    # Help lines: each organisation its own; another's line cannot be removed by id.
    assert post_form(client, "/admin/help-lines", {"label": "Harbor line", "call": "0100", "text": ""}).status_code == 303
    assert post_form(other_client, "/admin/help-lines", {"label": "Path line", "call": "0200", "text": ""}).status_code == 303
    harbor_lines = client.get("/admin/help-lines").text
    assert "Harbor line" in harbor_lines and "Path line" not in harbor_lines
    path_line = re.search(r"/admin/help-lines/(\d+)/delete", other_client.get("/admin/help-lines").text).group(1)  # type: ignore[union-attr]
    assert post_form(client, f"/admin/help-lines/{path_line}/delete").status_code == 404
    assert "Path line" in other_client.get("/admin/help-lines").text
    # The default exit place is everyone's: only the first organisation (the host) chooses it.
    assert "Where Exit now leads" in harbor_lines and "Where Exit now leads" not in other_client.get("/admin/help-lines").text
    assert post_form(other_client, "/admin/exit-place", {"exit_url": "https://example.org"}).status_code == 404
    assert sql(settings, "SELECT count(*) FROM organisation WHERE exit_url = 'https://example.org'") == [(0,)]


def test_a_survivor_sees_the_help_lines_of_the_organisations_they_are_connected_with(client, settings):
    make_user(settings, "harbor-admin", Role.ADMIN, organisation="Safe Harbor")  # the host: made first
    make_user(settings, "path-admin", Role.ADMIN, organisation="Bright Path")
    make_user(settings, "cw_lena", Role.CASEWORKER, organisation="Bright Path")
    for admin, label in (("harbor-admin", "Harbor line"), ("path-admin", "Path line")):
        sign_in(client, admin)
        assert post_form(client, "/admin/help-lines", {"label": label, "call": "0100", "text": ""}).status_code == 303
        client.cookies.clear()
    sign_up(client, "river")
    before = client.get("/help").text
    assert "Harbor line" in before and "Path line" not in before  # nobody yet: the host's lines
    make_connection(settings, "river", "cw_lena")
    after = client.get("/help").text
    assert "Path line" in after and "Harbor line" not in after


def _crawl(client, starts: list[str], limit: int = 400) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every page a signed-in person reaches by following the portal's own links from `starts` (never Exit or
    Sign out): path -> text."""
    seen: dict[str, str] = {}
    queue = deque(starts)
    while queue and len(seen) < limit:
        path = queue.popleft()
        if path in seen or path.startswith(("/exit", "/sign-out", "/static/")):
            continue
        response = client.get(path, follow_redirects=True)
        seen[path] = response.text if "html" in response.headers.get("content-type", "") else ""
        for link in re.findall(r'href="(/[^"#]*)', seen[path]):
            link = link.replace("&amp;", "&")
            if link not in seen:
                queue.append(link)
    assert len(seen) < limit, "the crawl did not end"
    return seen


def test_survivors_see_staff_by_name_and_organisation_never_by_username(client, other_client, settings):
    """A survivor with everything there is to see of staff: a connection made by code, shares, a request, a mentor's
    messages, looks in Who has looked. Every page they can reach names staff as "Amira Haddad · caseworker ·
    Safe Harbor", and no page holds a staff username."""
    for username, (name, role, organisation) in STAFF.items():
        make_user(settings, username, role, organisation=organisation, display_name=name)
    sign_up(client, "river")
    items = {key: BUILDERS[key](client, "a note") for key in BY_KEY}
    sign_in(other_client, "cw_amira")
    code = show_code(other_client)
    before = post_form(client, "/sharing/connect", {"code": code}).text
    assert "Connect with Amira Haddad?" in before and "Safe Harbor" in before and "cw_amira" not in before
    assert post_form(client, "/sharing/connect/confirm", {"code": code, "label": "Rivers"}).status_code == 303
    amira = re.search(r'href="/people/([A-Za-z0-9_-]{16})"', other_client.get("/people").text).group(1)  # type: ignore[union-attr]
    assert post_form(client, f"/sharing/{amira}/save", {"parts": list(BY_KEY), **{f"until-{key}": "week" for key in BY_KEY}}
                     ).status_code == 303
    for key, url in items.items():  # Amira looks at each part and each item: Who has looked names her
        other_client.get(f"/people/{amira}/{BY_KEY[key].path.strip('/')}")
        other_client.get(f"/people/{amira}/{key}/{url.rsplit('/', 1)[1]}")
    lena = make_connection(settings, "river", "cw_lena")
    sql(settings, "INSERT INTO access_request (id, connection_id, part, reason, created_at) VALUES ('ask-1', :c, 'goals', 'To help', :t)",
        c=lena, t=datetime.now(UTC))
    thread = make_connection(settings, "river", "pm_jo")
    other_client.cookies.clear()
    sign_in(other_client, "pm_jo")
    assert post_form(other_client, f"/messages/{thread}", {"body": "How is your week?"}).status_code in (200, 303)

    pages = _crawl(client, ["/home", "/sharing", "/sharing/log", "/messages", "/help", "/settings"])
    assert len(pages) > 40, sorted(pages)
    leaks = [f"{path}: {username}" for path, text in pages.items() for username in STAFF if username in text.lower()]
    assert not leaks, leaks
    everything = "\n".join(pages.values())
    for name, role, organisation in STAFF.values():
        label = f"{name} · {'caseworker' if role == Role.CASEWORKER else 'peer mentor'} · {organisation}"
        assert label in everything, label
    assert "Amira Haddad · caseworker · Safe Harbor looked at" in pages["/sharing/log"]
    assert "Lena Okafor · caseworker · Bright Path asks to see your goals" in pages["/sharing"]
    assert "Jo Rivera · peer mentor · Bright Path" in pages["/messages"]


def test_a_survivor_connected_elsewhere_sees_that_organisations_country_numbers(client, settings):
    """The host is in the United Kingdom; the survivor's only connection is with an organisation in the United States
    that set no lines of its own: the United States' numbers, not the host's."""
    make_user(settings, "harbor-admin", Role.ADMIN, organisation="Safe Harbor")  # the host
    make_user(settings, "cw_lena", Role.CASEWORKER, organisation="Bright Path")
    sql(settings, "UPDATE organisation SET country = 'GB' WHERE name = 'Safe Harbor'")
    sql(settings, "UPDATE organisation SET country = 'US' WHERE name = 'Bright Path'")
    sign_up(client, "river")
    assert "08000 121 700" in client.get("/help").text  # nobody yet: the host's country
    make_connection(settings, "river", "cw_lena")
    page = client.get("/help").text
    assert "1-888-373-7888" in page and "08000 121 700" not in page


def test_staff_with_no_name_yet_are_shown_by_role_never_by_username(client, other_client, settings):
    """As after the upgrade from one organisation: a caseworker with no display name is "Caseworker · Safe Harbor"
    to the survivor, and their own Home asks them to add the name."""
    make_user(settings, "cw_noname", Role.CASEWORKER, display_name="")
    sign_up(client, "river")
    connection = make_connection(settings, "river", "cw_noname", ("goals",))
    sharing = client.get("/sharing").text
    assert "Caseworker · Safe Harbor" in sharing and "cw_noname" not in sharing
    assert "Caseworker · Safe Harbor" in client.get(f"/sharing/{connection}/profile").text
    sign_in(other_client, "cw_noname")
    assert "Add the name the people you work with see" in other_client.get("/staff").text


def test_an_admin_names_their_organisation_and_survivors_see_it(client, other_client, settings):
    """After the upgrade the first organisation has no name; its admin gives one (not another organisation's), and a
    survivor sees it beside its staff at once."""
    make_user(settings, "harbor-admin", Role.ADMIN, organisation="")
    make_user(settings, "path-admin", Role.ADMIN, organisation="Bright Path")
    make_user(settings, "cw_amira", Role.CASEWORKER, organisation="", display_name="Amira Haddad")
    sign_up(other_client, "river")
    make_connection(settings, "river", "cw_amira")
    assert "Amira Haddad · caseworker</h3>" in other_client.get("/sharing").text
    sign_in(client, "harbor-admin")
    assert "Name your organisation" in client.get("/admin/staff").text
    taken = post_form(client, "/admin/organisation-name", {"organisation_name": "Bright Path"})
    assert taken.status_code == 400 and "Another organisation here has that name" in taken.text
    named = post_form(client, "/admin/organisation-name", {"organisation_name": "  Safe   Harbor "})
    assert named.status_code == 303 and named.headers["location"] == "/admin/staff?done=named#organisation"
    assert sql(settings, "SELECT name FROM organisation ORDER BY id") == [("Safe Harbor",), ("Bright Path",)]
    assert "Amira Haddad · caseworker · Safe Harbor" in other_client.get("/sharing").text
