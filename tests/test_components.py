"""Every example of every component in components/ renders and shows what its example expects."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from app import STATIC_DIR, StaticAssets, template_environment

COMPONENTS = Path(__file__).resolve().parent.parent / "components"
EXAMPLES = [
    pytest.param(folder.name, example, id=f"{folder.name}: {example['name']}")
    for folder in sorted(p for p in COMPONENTS.iterdir() if p.is_dir())
    for example in json.loads((folder / "examples.json").read_text())
]


class _Url:
    path = "/"
    query = ""


class _Request:
    url = _Url()


def test_every_component_has_a_macro_examples_and_a_readme():
    for folder in (p for p in COMPONENTS.iterdir() if p.is_dir()):
        assert (folder / f"{folder.name}.html").is_file()
        assert (folder / "README.md").read_text().startswith(f"# {folder.name}")
        assert json.loads((folder / "examples.json").read_text())


@pytest.mark.parametrize(("component", "example"), EXAMPLES)
def test_component_example_renders(component, example):
    env = template_environment(StaticAssets(STATIC_DIR), "test-secret")
    if "macro" in example:
        module = env.get_template(f"{component}/{component}.html").module
        html = str(getattr(module, example["macro"])(**example["args"]))
    else:
        context = {
            "request": _Request(), "csrf_input": '<input type="hidden" name="_csrf_token" value="t">',
            "csrf_token": lambda: "t", **example["context"],
        }
        if context["viewer"]:
            context["viewer"] = SimpleNamespace(**context["viewer"])
        html = env.get_template(example["template"]).render(**context)
    for text in example.get("expect", []):
        assert text in html, f"{text!r} missing"
    for text in example.get("absent", []):
        assert text not in html, f"{text!r} present"
