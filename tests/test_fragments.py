"""Pieces of a page made once and kept (portal.fragments): each `{% call kept(...) %}` block in the templates reads
nothing that is not in its key, and through HTTP the menu kept follows the page, the counts, the language and the
role, never another page's or person's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from jinja2 import nodes

from app import STATIC_DIR, TEMPLATE_DIRS, StaticAssets, template_environment
from portal.models import Role
from portal.web import current_entry
from tests.conftest import make_connection, make_user, post_form, sign_in, sign_up
from tests.test_disguise import choose

ENV = template_environment(StaticAssets(STATIC_DIR), "test-secret")


def _path(node: nodes.Node) -> str | None:
    """`viewer.unread` for the expression viewer.unread (a name, then attributes); None for anything else."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        inner = _path(node.node)
        return f"{inner}.{node.attr}" if inner else None
    return None


def _unkept_reads(node: nodes.Node, key: list[nodes.Node], allowed: set[str]) -> Iterator[str]:
    """Each value `node` reads that is neither one of the key's expressions (or an attribute of one) nor a name in
    `allowed`: a name or name.attribute as far as its attributes go, whatever it is looked up in."""
    if any(node == held for held in key):
        return
    path = _path(node)
    if path is not None and (not isinstance(node, nodes.Name) or node.ctx == "load"):
        held_paths = [held_path for held in key if (held_path := _path(held)) is not None]
        if path.split(".")[0] not in allowed and not any(path.startswith(held + ".") for held in held_paths):
            yield path
        return
    for child in node.iter_child_nodes():
        yield from _unkept_reads(child, key, allowed)


def _set(body: list[nodes.Node]) -> set[str]:
    """The names a block gives values to itself: {% set %}, loop variables, macros."""
    found = {"loop"}
    for statement in body:
        for node in [statement, *statement.find_all((nodes.Assign, nodes.AssignBlock, nodes.For, nodes.Macro))]:
            targets = [node.target] if isinstance(node, nodes.Assign | nodes.AssignBlock | nodes.For) else []
            if isinstance(node, nodes.Macro):
                found.add(node.name)
            for target in targets:
                found.update(name.name for name in target.find_all(nodes.Name))
                if isinstance(target, nodes.Name):
                    found.add(target.name)
    return found


def unkept(source: str) -> list[str]:
    """What a kept block of `source` reads that its key does not hold (nor is a global, an imported macro or its
    own): each as "kept(key…): name". A key holds an expression as written (`labels[item.kind]`), and any attribute
    of a name or attribute it holds."""
    template = ENV.parse(source)
    imported = {name if isinstance(name, str) else name[1] for node in template.find_all(nodes.FromImport)
                for name in node.names} | {node.target for node in template.find_all(nodes.Import)}
    problems = []
    for block in template.find_all(nodes.CallBlock):
        call = block.call
        if not (isinstance(call.node, nodes.Name) and call.node.name == "kept"):
            continue
        key = list(call.args)
        shown = ", ".join(_path(arg) or type(arg).__name__ for arg in key if not isinstance(arg, nodes.Const))
        allowed = _set(block.body) | set(ENV.globals) | imported
        for read in sorted({read for statement in block.body for read in _unkept_reads(statement, key, allowed)}):
            problems.append(f"kept({shown}): {read}")
    return problems


def _templates() -> list[Path]:
    return sorted(path for folder in TEMPLATE_DIRS for path in Path(folder).rglob("*.html"))


def test_every_kept_block_reads_only_what_its_key_holds():
    found = {str(path): unkept(path.read_text()) for path in _templates() if "kept(" in path.read_text()}
    assert found, "no kept block found: the layout keeps its menu and head"
    assert all(not problems for problems in found.values()), found


def test_the_check_finds_a_value_missing_from_the_key():
    block = ('{% from "x.html" import badge %}{% call kept("menu", viewer.role) %}{% set n = 2 %}'
             '{% for a in items %}{{ a }}{{ badge(n) }}{% endfor %}{{ _("Menu") }}{{ viewer.role }}{{ viewer.unread }}'
             '{% endcall %}')
    assert sorted(unkept(block)) == ["kept(viewer.role): items", "kept(viewer.role): viewer.unread"]
    assert unkept(block.replace('viewer.role)', 'viewer.role, viewer.unread, items)')) == []
    looked_up = '{% call kept(item.kind, labels[item.kind]) %}{{ labels[item.kind] }}{{ labels[item.other] }}{% endcall %}'
    assert unkept(looked_up) == ["kept(item.kind, Getitem): item.other", "kept(item.kind, Getitem): labels"]


def test_the_current_entry_is_the_page_or_what_it_is_below():
    entries = (("/staff", True, ""), ("/people", False, ""), ("/goals", False, ""), ("/settings", False, ""))
    assert current_entry(entries, "/people") == "/people"
    assert current_entry(entries, "/people/abc/goals") == "/people"
    assert current_entry(entries, "/staff") == "/staff"
    assert current_entry(entries, "/staff/other") == ""  # only that page itself
    assert current_entry(entries, "/goalsx") == ""  # not below /goals
    assert current_entry(entries, "/help") == ""


def _menu(text: str) -> str:
    found = re.search(r'<ul class="nav">.*?</ul>', text, re.S)
    assert found, "no menu on the page"
    return found.group(0)


def _current(text: str) -> list[str]:
    return re.findall(r'href="([^"]+)" aria-current="page"', _menu(text))


def test_the_kept_menu_follows_the_page_the_counts_and_the_language(client, other_client, settings):
    sign_up(client, "river")
    assert _current(client.get("/goals").text) == ["/goals"]
    assert _current(client.get("/goals/new").text) == ["/goals"]  # below it
    assert _current(client.get("/home").text) == ["/home"]
    assert _current(client.get("/help").text) == []
    assert 'class="badge"' not in _menu(client.get("/home").text)

    make_user(settings, "ana", Role.MENTOR)
    connection = make_connection(settings, "river", "ana", label="Jo")
    sign_in(other_client, "ana")
    post_form(other_client, f"/messages/{connection}", {"body": "How is your week?"})
    menu = _menu(client.get("/home").text)
    assert '<span class="badge">1<span class="visually-hidden"> unread</span></span>' in menu
    post_form(other_client, f"/messages/{connection}", {"body": "Still here."})
    assert '<span class="badge">2<span class="visually-hidden"> unread</span></span>' in _menu(client.get("/home").text)

    mentor = other_client.get("/people").text
    assert _current(mentor) == ["/people"] and 'href="/goals"' not in _menu(mentor)  # the mentor's own menu

    post_form(client, "/language", {"language": "es"})
    spanish = _menu(client.get("/home").text)
    assert ">Metas</a>" in spanish and ">Goals</a>" not in spanish, spanish


@pytest.mark.parametrize("app_name", ["notes", "waypoint"])
def test_the_kept_head_follows_the_name_the_person_chose(client, app_name):
    sign_up(client, "river")
    choose(client, app_name)
    head = client.get("/home").text.split("</head>")[0]
    assert ("icons/notes." in head) == (app_name == "notes"), head
    assert ("manifest.webmanifest?app=notes" in head) == (app_name == "notes")
