"""The block view, plan editor and block report check the child on the server: a family
link, a staff member narrowed to another child and a forged callback get nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from access import Principal
from dashboard.callbacks.plan import parse_goals, parse_plan
from store.plans import Goal, PlannedExercise
from tests.dashboard.test_security import PASSWORD, Site, leaks


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    built = Site(tmp_path)
    yield built
    built.close()


def _plan(site: Site, child: str) -> None:
    site.store.save_block(child, date(2026, 3, 2), date(2026, 3, 13), 2, created_by="anna",
                          exercises=(PlannedExercise("sit-to-stand-foam", 2, 5, "knee"),),
                          goals=(Goal("stands up from the sofa"),))


def test_staff_get_the_block_view_and_report_of_a_child(site: Site) -> None:
    _plan(site, "c-a11")
    site.sign_in()
    page = site.page("/progress/c-a11")
    assert "block-view" in page
    assert "stands up from the sofa" in page
    assert not leaks(page)
    response = site.client.get("/progress/c-a11/block-report.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Intensive block report — Amara" in text
    assert not leaks(text)
    assert site.store.audit_log(child="c-a11")[0].action == "block report"
    assert "plan-save" in site.page("/plan/c-a11")


def test_a_family_link_and_a_narrowed_therapist_get_nothing_of_child_b(site: Site) -> None:
    _plan(site, "c-b0b")
    link, _ = site.family_link("c-a11")
    site.client.get(link)
    for path in ("/progress/c-b0b/block-report.pdf", "/progress/c-a11/block-report.pdf"):
        assert site.client.get(path).status_code == 403
    for path in ("/plan/c-b0b", "/plan/c-a11", "/progress/c-b0b"):
        body = site.page(path)
        assert "This page is for the clinic's staff" in body  # a parent, told so
        assert not leaks(body)
    family = site.page("/family")
    assert "Amara" in family
    assert not leaks(family)
    before = site.store.blocks("c-b0b")
    for output, _status, body in site.forge_every_callback():
        assert not leaks(body), output
    assert site.store.blocks("c-b0b") == before, "a forged plan save changes nothing"

    narrowed = site.app.server.test_client()  # anna, allowed child A only
    narrowed.post("/login", data={"username": "anna", "password": PASSWORD})
    with narrowed.session_transaction() as session:
        session["principal"] = Principal(kind="user", name="anna", role="therapist",
                                         children=frozenset({"c-a11"})).to_session()
    assert narrowed.get("/progress/c-b0b/block-report.pdf").status_code == 403
    assert narrowed.get("/progress/c-a11/block-report.pdf").status_code == 200


def test_the_plan_form_is_read_as_typed() -> None:
    ids: list[dict[str, Any]] = [{"exercise": "a"}, {"exercise": "b"}, {"exercise": "c"}]
    plan = parse_plan([["use"], [], ["use"]], ids, [2, 3, 1.0], [5, 5, 8],
                      ["knee", "none", "pelvis"])
    assert plan == [PlannedExercise("a", 2, 5, "knee"), PlannedExercise("c", 1, 8, "pelvis")]
    goals = parse_goals(" sits 60 s \n\nwalks 3 rungs\nnew goal",
                        {"start": [-2, -1], "middle": [None, 0], "end": [None, None]})
    assert goals == [Goal("sits 60 s", -2), Goal("walks 3 rungs", -1, 0), Goal("new goal")]


def test_the_page_path_is_a_pseudonym_not_a_name(site: Site) -> None:
    site.sign_in()
    assert "needs a link from your clinic" in site.page("/progress/Zeynep")


def test_an_ended_block_is_not_edited_the_form_starts_the_next(site: Site) -> None:
    site.store.save_block("c-a11", date(2020, 3, 2), date(2020, 3, 13), 2, created_by="anna",
                          exercises=(PlannedExercise("floor-to-stand", 2, 5, "knee"),))
    site.sign_in()
    page = site.page("/plan/c-a11")
    assert "(a new block)" in page
    components = {json.dumps(c["props"]["id"], sort_keys=True): c["props"]
                  for c in _components(json.loads(page)) if "id" in c.get("props", {})}
    assert components['"plan-block-id"']["data"] is None  # saving makes a new block
    use = json.dumps({"exercise": "floor-to-stand", "type": "plan-exercise-use"},
                     sort_keys=True)
    assert components[use]["value"] == ["use"]  # ... from the last one's exercises


def _components(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "props" in node:
            yield node
        for value in node.values():
            yield from _components(value)
    elif isinstance(node, list):
        for value in node:
            yield from _components(value)
