"""The page layouts only build components: every module of ``dashboard/layouts`` takes the
data it shows as arguments. None reads the store or the replay cache, talks to Flask,
decides who may see what or writes the audit — the router's page functions do that
(``dashboard/routes.py``), so a page's reads and its audit row can't hide in its layout."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LAYOUTS = Path(__file__).resolve().parents[2] / "dashboard" / "layouts"
MODULES = sorted(LAYOUTS.glob("*.py"))

FORBIDDEN_MODULES = ("store", "flask", "werkzeug", "sqlalchemy", "dashboard.cache",
                     "dashboard.page_data", "dashboard.auth", "dashboard.routes")
"""Packages and modules a layout never imports (but for annotations; see below)."""
DECISIONS = frozenset({"is_staff", "may_review", "is_admin", "may_manage_links",
                       "can_see_child", "can_see_room", "audit", "load_block"})
"""Access decisions, audit writes and loads: what a page function does before building."""


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that runs, i.e. all but the bodies of ``if TYPE_CHECKING:``."""
    out, todo = [], [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, ast.If) and _type_checking(node):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return out


def imported(tree: ast.AST) -> set[str]:
    """The dotted names a module imports at run time (``from a import b`` gives ``a`` and
    ``a.b``, so a submodule imported by name counts)."""
    names: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def called(tree: ast.AST) -> set[str]:
    """The names of every function called (``f(…)`` and ``x.f(…)`` give ``f``) or imported."""
    names: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute):
                names.add(func.attr)
        elif isinstance(node, ast.ImportFrom):
            names |= {alias.name for alias in node.names}
    return names


def _forbidden(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_MODULES)


def test_the_checks_see_what_a_layout_of_old_did() -> None:
    """What ``create_replay_layout`` looked like before the router took its reads over."""
    old = ast.parse(
        "from access import is_staff, may_review\n"
        "from dashboard import cache, ids\n"
        "from store import Store\n"
        "def create_replay_layout(principal, store, session_id):\n"
        "    meta = cache.session_meta(session_id)\n"
        "    if meta is None or not may_review(principal, meta.child, meta.room):\n"
        "        return None\n"
        "    store.audit(principal.name, 'replay', meta.child, meta.id)\n")
    assert {n for n in imported(old) if _forbidden(n)} == {"dashboard.cache", "store",
                                                          "store.Store"}
    assert called(old) & DECISIONS == {"is_staff", "may_review", "audit"}
    typed = ast.parse("from typing import TYPE_CHECKING\n"
                      "if TYPE_CHECKING:\n    from store.rows import ChildRow\n")
    assert not {n for n in imported(typed) if _forbidden(n)}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_a_layout_reads_nothing_and_decides_nothing(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert not sorted(n for n in imported(tree) if _forbidden(n)), \
        f"{path.name} imports what only a page function may use"
    assert not sorted(called(tree) & DECISIONS), \
        f"{path.name} decides access, audits or loads: the router's page function does that"


def test_every_layout_module_is_checked() -> None:
    assert {p.stem for p in MODULES} >= {"admin", "plan", "progress", "replay", "sessions",
                                         "admin_walls", "family", "remote", "wall"}
