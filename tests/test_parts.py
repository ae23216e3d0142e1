"""Every part in the registry (portal.parts) is whole: it can be shared and stopped from the Sharing page, a
caseworker reads it through their own pages (and only while it is shared), each look is in Who has looked,
the export carries it, and deleting the account takes it away. Each test runs once per registered part, so a
new part is checked here as soon as it is in the registry, and fails here until it is whole."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from portal.models import Role
from portal.parts import BY_KEY, PARTS
from tests.conftest import PASSWORD, make_user, post_form, sign_in, sign_up, sql
from tests.part_builders import BUILDERS

KEYS = [part.key for part in PARTS]


def test_every_part_in_the_registry_has_a_test_builder():
    assert sorted(BUILDERS) == sorted(BY_KEY)


def _connect(client, other_client, settings) -> str:  # type: ignore[no-untyped-def]
    """river connects with caseworker ana through Sharing (nothing shared yet); the connection's id."""
    make_user(settings, "ana", Role.CASEWORKER)
    sign_in(other_client, "ana")
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", post_form(other_client, "/people/code").text).group(1)  # type: ignore[union-attr]
    assert post_form(client, "/sharing/connect/confirm", {"code": code, "label": "River"}).status_code == 303
    return str(sql(settings, "SELECT id FROM connection")[0][0])


@pytest.mark.parametrize("key", KEYS)
def test_a_part_is_shared_read_by_the_caseworker_logged_and_stopped(client, other_client, settings, key):
    part = BY_KEY[key]
    sign_up(client, "river")
    item_id = BUILDERS[key](client, "Only for my eyes").rsplit("/", 1)[1]
    connection = _connect(client, other_client, settings)
    sharing_page = client.get("/sharing").text
    assert f'value="{key}"' in sharing_page and part.label() in sharing_page
    shared_list, shared_item = f"/people/{connection}/{key}", f"/people/{connection}/{key}/{item_id}"
    assert other_client.get(shared_list).status_code == 404  # nothing shared yet

    saved = post_form(client, f"/sharing/{connection}/save", {"parts": key, f"until-{key}": "week"})
    assert saved.status_code == 303
    assert f'href="{shared_item}"' in other_client.get(shared_list).text
    item_page = other_client.get(shared_item)
    assert item_page.status_code == 200
    assert "Only for my eyes" not in item_page.text  # notes stay private unless the card includes them
    log = client.get("/sharing/log").text
    assert f"Ana · caseworker · Safe Harbor looked at {part.phrase()}" in log
    assert "Ana · caseworker · Safe Harbor opened" in log

    assert post_form(client, f"/sharing/{connection}/save", {}).status_code == 303  # nothing ticked: stopped
    assert other_client.get(shared_list).status_code == 404
    assert other_client.get(shared_item).status_code == 404


@pytest.mark.parametrize("key", KEYS)
def test_a_part_is_in_the_export_and_gone_with_the_account(client, settings, key):
    part = BY_KEY[key]
    sign_up(client, "river")
    item_id = BUILDERS[key](client, "").rsplit("/", 1)[1]
    export = post_form(client, "/settings/export", {"export_password": PASSWORD})
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        rows = json.loads(archive.read(part.export_file))
        readme = archive.read("README.txt").decode()
    assert [row["id"] for row in rows] == [item_id]
    assert f"{part.export_file} " in readme and part.export_about() in readme

    table = part.model.__tablename__  # type: ignore[attr-defined]
    assert sql(settings, f"SELECT count(*) FROM {table}") == [(1,)]  # noqa: S608 - a table name from the registry
    assert post_form(client, "/settings/delete", {"password": PASSWORD}).status_code == 303
    assert sql(settings, f"SELECT count(*) FROM {table}") == [(0,)]  # noqa: S608
