"""Imports go one way, ``webapp`` -> ``processes`` -> ``engine`` (DESIGN.md, "Layers").

Every module of the three packages is read with ``ast``, imports inside functions
and ``importlib.import_module("...")`` calls included, so a late import cannot
slip past the rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> top-level names it must never import, and why
FORBIDDEN = {
    "engine": ({"flask", "webapp", "processes"}, "engine is a library: no Flask, no web app, no processes"),
    "processes": ({"flask", "webapp"}, "processes never imports Flask or the web app"),
    "webapp": ({"SpiffWorkflow"}, "webapp never reaches into SpiffWorkflow; it asks engine"),
}


def imported_modules(source: str, module: str) -> list[tuple[int, str]]:
    """``(line, absolute module name)`` for every import in ``source``.

    :param module: the dotted name of the module the source belongs to, used to
        resolve relative imports (``engine.models.task`` for ``engine/models/task.py``).
    """
    package = module.split(".")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level]
                names = [".".join([*base, node.module])] if node.module else [
                    ".".join([*base, alias.name]) for alias in node.names]
            else:
                names = [node.module]
            found.extend((node.lineno, name) for name in names)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")):
            found.append((node.lineno, node.args[0].value))
    return found


def _top(name: str) -> str:
    top = name.split(".")[0]
    return "flask" if top.startswith("flask_") else top  # Flask-SQLAlchemy, Flask-Babel are Flask too


def _modules(package: str):
    """``(path, dotted name)``; a package's ``__init__`` keeps its name as a last part,
    so that ``level`` parts up is the package a relative import starts from."""
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ".".join(path.relative_to(ROOT).with_suffix("").parts)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_go_one_way(package):
    forbidden, rule = FORBIDDEN[package]
    modules = list(_modules(package))
    assert modules, f"no Python files found under {package}/"

    offending = [
        f"{path.relative_to(ROOT)}:{line}: imports {name}"
        for path, module in modules
        for line, name in imported_modules(path.read_text(encoding="utf-8"), module)
        if _top(name) in forbidden
    ]

    assert not offending, f"{rule}:\n" + "\n".join(offending)


def test_the_checker_sees_late_relative_and_dynamic_imports():
    source = (
        "import os\n"
        "def view():\n"
        "    import flask\n"
        "    from flask_sqlalchemy import SQLAlchemy\n"
        "from .. import jobs, audit\n"
        "from ..models.task import HumanTask\n"
        "from . import base\n"
        "importlib.import_module('SpiffWorkflow.bpmn')\n"
    )

    found = sorted(imported_modules(source, "engine.models.__init__"))

    assert found == [
        (1, "os"), (3, "flask"), (4, "flask_sqlalchemy"), (5, "engine.audit"), (5, "engine.jobs"),
        (6, "engine.models.task"), (7, "engine.models.base"), (8, "SpiffWorkflow.bpmn"),
    ]
    assert [name for _, name in found if _top(name) in FORBIDDEN["engine"][0]] == ["flask", "flask_sqlalchemy"]
    assert [name for _, name in found if _top(name) in FORBIDDEN["webapp"][0]] == ["SpiffWorkflow.bpmn"]
