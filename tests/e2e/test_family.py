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
    page_text = phone.inner_text("body")
    for other in ("Ben", "Léa", "c-0417", "room-1"):
        assert other not in page_text
    # the family cannot open staff pages
    phone.goto(demo.base_url + "/remote/room-1")
    phone.wait_for_selector("text=This screen needs a link from your clinic")
    phone.context.close()
    remote.context.close()
