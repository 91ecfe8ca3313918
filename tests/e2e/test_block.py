"""The block view, the block report and the family's block, in Chromium, on the demo's
two-week history (a fresh demo: its first start writes the history)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.e2e.conftest import DemoProcess
from tests.e2e.test_family import family_link

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


def test_block_view_replay_click_and_report(demo: DemoProcess, page: Any,
                                            tmp_path: Path) -> None:
    demo.sign_in(page, "/progress/c-0417")
    page.wait_for_selector("#block-view")
    headline = page.inner_text("#block-headline")
    assert re.search(r"Day \d+ of 15 of the intensive block", headline)
    assert "Missed sessions: 3" in headline
    table = page.inner_text("#block-exercises")
    assert "Sitting balance on ball" in table
    assert "longest hold (s)" in table
    assert "pelvis → knee (knee)" in table  # reach: support moved distal to the aim
    page.wait_for_selector("#block-support-graph .js-plotly-plot")
    page.wait_for_selector("#block-carry-graph .js-plotly-plot")
    assert "Sitting balance on ball: carry-over" in page.inner_text("#block-carry-graph")
    assert "sits on the ball without help for 60 s" in page.inner_text("#block-goals")

    with page.expect_download() as info:
        page.click("#block-report-link")
    pdf = info.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Intensive block report — Amara" in text
    assert "Sitting balance on ball" in text
    assert "Ben" not in text

    first = page.locator("#block-sessions .block-replay-link").first
    first.click()
    page.wait_for_url(re.compile(r"/replay/demo-c-0417-\d{8}-(am|pm)$"))
    page.wait_for_selector("#replay-timeline-graph")


def test_a_plan_saved_in_the_editor_is_the_block(demo: DemoProcess, page: Any) -> None:
    demo.sign_in(page, "/plan/c-0631")
    page.wait_for_selector("#plan-save")
    page.fill("#plan-per-day", "1")
    page.check('[id*="plan-exercise-use"][id*="single-leg-stance"] input')
    page.fill("#plan-goals", "walks across the ladder holding one hand\nstands on one leg 5 s")
    page.click("#plan-save")
    page.wait_for_selector("text=Saved:")
    assert "4 exercises, 2 goals" in page.inner_text("#plan-feedback")
    page.fill("#plan-outcome-score", "71")
    page.click("#plan-outcome-add")
    page.wait_for_selector("text=Added GMFM-66 71")
    out = subprocess.run([sys.executable, "-m", "dmi_live.cli", "progress", "Léa", "--json",
                          "--data-dir", str(demo.data_dir)], capture_output=True, text=True,
                         timeout=60, check=True)
    data = json.loads(out.stdout)
    assert data["block"]["sessions_per_day"] == 1
    assert "single-leg-stance" in [e["exercise"] for e in data["exercises"]]
    assert [g["goal"] for g in data["goals"]][1] == "stands on one leg 5 s"
    assert data["outcomes"][0]["score"] == 71.0


def test_a_family_link_sees_its_childs_block_only(demo: DemoProcess, browser: Any) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True).new_page()
    phone.goto(family_link(demo, "c-0522"))
    phone.wait_for_selector("#family-block")
    block = phone.inner_text("#family-block")
    assert re.search(r"Day \d+ of 15 of the intensive block", block)
    assert "Stand on foam pad: holds" in block
    assert "Sit-to-stand on foam: support" in block
    body = phone.inner_text("body")
    for other in ("Amara", "Léa", "Sitting balance on ball", "Stand on ladder rungs"):
        assert other not in body
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    # neither another child's report nor his own staff view
    for path in ("/progress/c-0417/block-report.pdf", "/progress/c-0522/block-report.pdf"):
        assert phone.request.get(demo.base_url + path).status == 403
    phone.goto(demo.base_url + "/progress/c-0417")
    phone.wait_for_selector("text=This page is for the clinic's staff")
    phone.context.close()


def test_the_remote_offers_the_plans_next_exercise_first(demo: DemoProcess, page: Any) -> None:
    demo.sign_in(page, "/remote/room-1")
    page.wait_for_selector("#remote-rep-plus")
    page.click("#remote-child")
    page.get_by_role("option", name="Amara", exact=True).click()
    page.wait_for_selector("#remote-exercise >> text=Sitting balance on ball")
    # the plan's 4 reps, not the catalog's 3
    page.wait_for_function("() => document.querySelector('#remote-planned').value === '4'")
    page.click("#remote-exercise")
    page.get_by_role("option").first.wait_for()
    names = page.get_by_role("option").all_inner_texts()
    assert names[:3] == ["Sitting balance on ball", "Reach out of base sitting on ball",
                         "Tall kneeling hold on foam"]
