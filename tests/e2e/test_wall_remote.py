"""The therapist's loop in real Chromium: taps on the remote show on the wall."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import DemoProcess

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


@pytest.fixture
def screens(demo: DemoProcess, browser: Any) -> Any:
    wall = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    wall.goto(demo.wall_url)
    remote = browser.new_context(viewport={"width": 820, "height": 1180}, has_touch=True
                                 ).new_page()
    demo.sign_in(remote, "/remote/room-1")
    remote.wait_for_selector("#remote-rep-plus")
    yield wall, remote
    wall.context.close()
    remote.context.close()


def start_session_and_set(remote: Any, *, planned: int = 4, child: str = "Ben") -> None:
    """On the remote: start a session for ``child`` and a 'stand on foam' set."""
    remote.click("#remote-child")
    remote.get_by_role("option", name=child, exact=True).click()
    remote.click("#remote-session-start")
    remote.wait_for_selector("text=✓ Session started")
    remote.wait_for_function(
        "() => document.querySelector('#remote-root').dataset.sessionRunning === '1'")
    remote.click("#remote-exercise")  # open the list; typing to filter races the click
    remote.get_by_role("option", name="Stand on foam pad", exact=True).click()
    # the exercise's default reps (3 for "Stand on foam pad") fill in at once
    remote.wait_for_function("() => document.querySelector('#remote-planned').value === '3'")
    remote.click("#remote-surface label:has-text('Foam pad')")
    remote.click("#remote-support label:has-text('Knee')")
    remote.fill("#remote-planned", str(planned))
    remote.click("#remote-set-start")
    remote.wait_for_selector("text=✓ Set started")


def wall_count_is(wall: Any, count: int) -> None:
    wall.wait_for_function(
        f"() => +document.querySelector('.live-reps').textContent === {count}", timeout=10_000)


def wall_reps(wall: Any) -> int:
    return int(wall.inner_text("#wall-rep-count .live-reps"))


def test_a_set_started_on_the_remote_shows_on_the_wall(screens: Any) -> None:
    wall, remote = screens
    start_session_and_set(remote, planned=4)
    wall.wait_for_function(
        "() => document.querySelector('.live-planned').textContent === '4'", timeout=10_000)
    assert "foam" in wall.inner_text(".live-exercise").lower()
    assert wall.inner_text(".live-surface") == "Foam pad"
    assert "Knee" in wall.inner_text(".live-support")
    wall.wait_for_function("() => document.querySelector('.live-timer').textContent !== '0:00'",
                           timeout=10_000)


def test_a_tap_on_plus_one_increments_the_wall_counter(screens: Any) -> None:
    wall, remote = screens
    start_session_and_set(remote)
    # "stand on foam" is counted by the therapist only: every change is a tap
    wall.wait_for_function("() => document.querySelector('.live-planned').textContent === '4'")
    before = wall_reps(wall)
    remote.click("#remote-rep-plus")
    wall_count_is(wall, before + 1)
    remote.click("#remote-rep-plus")
    wall_count_is(wall, before + 2)
    remote.click("#remote-rep-minus")
    wall_count_is(wall, before + 1)
    remote.wait_for_function(
        f"() => +document.querySelector('.remote-count .live-reps').textContent === {before + 1}",
        timeout=10_000)


def test_the_wall_keyboard_counts_reps(screens: Any) -> None:
    wall, remote = screens
    start_session_and_set(remote)
    wall.wait_for_function("() => document.querySelector('.live-planned').textContent === '4'")
    before = wall_reps(wall)
    wall.focus("#wall-root")
    wall.keyboard.press(" ")
    wall_count_is(wall, before + 1)
    remote.wait_for_function(
        f"() => +document.querySelector('.remote-count .live-reps').textContent === {before + 1}",
        timeout=10_000)


def test_a_rep_without_a_set_is_refused_with_a_reason(screens: Any) -> None:
    _, remote = screens
    remote.click("#remote-rep-plus")
    remote.wait_for_selector("text=Start a set to count reps.")
    assert remote.get_attribute("#remote-feedback", "data-kind") == "error"


def test_a_family_shared_note_reaches_the_wall(screens: Any) -> None:
    wall, remote = screens
    start_session_and_set(remote)
    remote.fill("#remote-note", "Stood 20 s without support")
    remote.click("#remote-share-with-family label")
    remote.click("#remote-note-add")
    remote.wait_for_selector("text=✓ Note added (the family sees it)")
    wall.wait_for_selector(".live-note:has-text('Stood 20 s without support')", timeout=10_000)
    assert remote.input_value("#remote-note") == ""
