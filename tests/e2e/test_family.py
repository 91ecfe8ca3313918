"""A family link opened on a phone follows the child's session live during the demo."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from tests.e2e.conftest import DemoProcess
from tests.e2e.test_wall_remote import start_session_and_set

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


def family_link(demo: DemoProcess, child: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "dmi_live.cli", "family-link", child, "--expires", "2h",
         "--data-dir", str(demo.data_dir), "--base-url", demo.base_url],
        capture_output=True, text=True, timeout=30, check=True)
    return result.stdout.splitlines()[0]


def add_note(remote: Any, text: str, *, shared: bool) -> None:
    remote.fill("#remote-note", text)
    if remote.is_checked("#remote-share-with-family input") != shared:
        remote.click("#remote-share-with-family label")
    remote.click("#remote-note-add")
    done = "✓ Note added (the family sees it)" if shared else "✓ Note added"
    remote.wait_for_function(f"() => document.querySelector('#remote-feedback').innerText"
                             f" === {done!r}", timeout=10_000)


def test_a_family_phone_follows_its_childs_session(demo: DemoProcess, browser: Any) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True).new_page()
    phone.goto(family_link(demo, "c-0417"))
    phone.wait_for_selector("text=Amara's therapy")
    phone.wait_for_selector("text=No session right now", timeout=10_000)
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390, \
        "fits a phone without sideways scrolling"

    remote = browser.new_context(viewport={"width": 820, "height": 1180}).new_page()
    demo.sign_in(remote, "/remote/room-1")
    remote.wait_for_selector("#remote-rep-plus")
    start_session_and_set(remote, planned=3, child="Amara")

    phone.wait_for_selector("text=Working on it now!", timeout=10_000)
    assert "foam pad" in phone.inner_text(".live-exercise").lower()
    assert phone.inner_text(".family-reps .live-planned") == "3"
    remote.click("#remote-rep-plus")
    phone.wait_for_function(
        "() => document.querySelector('.family-reps .live-reps').textContent === '1'",
        timeout=10_000)
    # the count, not the exercise's name, is what stands out on a phone
    sizes = phone.evaluate("""() => ({
        exercise: parseFloat(getComputedStyle(document.querySelector('.live-exercise')).fontSize),
        count: parseFloat(getComputedStyle(document.querySelector('.family-reps .live-reps'))
            .fontSize),
        exerciseHeight: document.querySelector('.family-exercise').getBoundingClientRect().height,
    })""")
    assert sizes["exercise"] < sizes["count"], sizes
    assert sizes["exerciseHeight"] < 844 / 8, sizes

    # every shared note stays; a private note never shows and takes none away
    add_note(remote, "Stood 20 s without support", shared=True)
    phone.wait_for_selector(".family-notes li:has-text('Stood 20 s without support')",
                            timeout=10_000)
    add_note(remote, "Private: check the left ankle", shared=False)
    add_note(remote, "Great focus today", shared=True)
    phone.wait_for_selector(".family-notes li:has-text('Great focus today')", timeout=10_000)
    assert phone.locator(".family-notes li").all_inner_texts() == [
        "Stood 20 s without support", "Great focus today"]
    phone.reload()  # the page rebuilt from the store shows the same list
    phone.wait_for_selector(".family-notes li:has-text('Great focus today')", timeout=10_000)
    assert phone.locator(".family-notes li").all_inner_texts() == [
        "Stood 20 s without support", "Great focus today"]
    page_text = phone.inner_text("body")
    for other in ("Ben", "Léa", "c-0417", "room-1", "Private"):
        assert other not in page_text

    # once the session has ended, the progress chart says what its bars are
    remote.click("#remote-session-end")
    remote.wait_for_selector("text=✓ Session ended", timeout=10_000)
    phone.wait_for_selector("text=No session right now", timeout=10_000)
    phone.reload()
    phone.wait_for_selector("#family-reps-graph .main-svg", timeout=20_000)
    legend = phone.locator("#family-reps-graph .legend .legendtext").all_text_contents()
    assert legend == ["tries planned", "tries done"]
    titles = phone.locator("#family-reps-graph .g-ytitle, #family-reps-graph .g-xtitle"
                           ).all_text_contents()
    assert sorted(titles) == ["session", "tries"]
    # the family cannot open staff pages, and is told where its page is
    phone.goto(demo.base_url + "/remote/room-1")
    phone.wait_for_selector("text=This page is for the clinic's staff")
    assert "wall-screen" not in phone.inner_text("body")
    phone.click("text=Open your child's page")
    phone.wait_for_selector("text=Amara's therapy")
    phone.context.close()
    remote.context.close()
