"""Every public name is in the API reference, with text to show.

The reference pages (docs/reference/*.md) render docstrings with mkdocstrings
(``::: orm.Name``). A name of ``orm.__all__`` missing there, or without a
docstring, would be a hole in the reference: this fails instead. The few
names that have no docstring of their own (asgiref's bridges, the version
string) are described in prose under a ``## `orm.name` `` heading.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import pytest

from tests.docs.blocks import ROOT

REFERENCE = ROOT / "docs" / "reference"
DIRECTIVE = re.compile(r"^:::\s+(\S+)\s*$", re.MULTILINE)
PROSE_HEADING = re.compile(r"^##\s+`(orm\.[\w.]+)`\s*$", re.MULTILINE)
#: The public modules the reference renders whole, by the module that holds them.
MODULE_PAGES = {
    "orm.transaction": "orm.db.transaction",
    "orm.functions": "orm.functions",
    "orm.migrations": "orm.migrations",
    "orm.asgi": "orm.asgi",
}


def _reference_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(REFERENCE.glob("*.md")))


def _prose(text: str) -> dict[str, str]:
    """``{"orm.name": paragraph}`` for each prose heading."""
    sections: dict[str, str] = {}
    headings = list(PROSE_HEADING.finditer(text))
    for here, after in zip(headings, [*headings[1:], None], strict=True):
        end = after.start() if after is not None else len(text)
        body = text[here.end() : end].split("\n## ", 1)[0].split("\n::: ", 1)[0]
        sections[here.group(1)] = body.strip()
    return sections


def _own_doc(obj: Any) -> str:
    """The docstring a reader sees: the object's, or for a plain instance its class's."""
    if inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj):
        return inspect.getdoc(obj) or ""
    cls = type(obj)
    return "" if cls.__module__ == "builtins" else inspect.getdoc(cls) or ""


TEXT = _reference_text()
RENDERED = set(DIRECTIVE.findall(TEXT))
PROSE = _prose(TEXT)


@pytest.mark.parametrize("name", importlib.import_module("orm").__all__)
def test_public_name_is_in_the_reference_with_a_docstring(name: str) -> None:
    import orm

    qualified = f"orm.{name}"
    if qualified in PROSE:
        assert len(PROSE[qualified]) > 40, f"the prose for {qualified} says almost nothing"
        return
    assert qualified in RENDERED, (
        f"{qualified} is in orm.__all__ but not in docs/reference/: add '::: {qualified}' "
        "to the page of its area"
    )
    assert _own_doc(getattr(orm, name)).strip(), f"{qualified} has no docstring to render"


@pytest.mark.parametrize("public, module", MODULE_PAGES.items())
def test_public_modules_are_rendered_and_documented(public: str, module: str) -> None:
    assert module in RENDERED, f"{public} ({module}) has no '::: {module}' in docs/reference/"
    imported = importlib.import_module(module)
    assert (inspect.getdoc(imported) or "").strip(), f"{module} has no module docstring"
    missing = [
        n for n in getattr(imported, "__all__", []) if not _own_doc(getattr(imported, n)).strip()
    ]
    assert missing == [], f"{module}: no docstring on {missing}"


def test_every_rendered_name_exists() -> None:
    # mkdocs build --strict fails on these too; this says which one, faster.
    for target in sorted(RENDERED):
        module_name, _, attribute = target.rpartition(".")
        try:
            importlib.import_module(target)
            continue
        except ImportError:
            pass
        assert hasattr(importlib.import_module(module_name), attribute), (
            f"'::: {target}' names nothing"
        )
