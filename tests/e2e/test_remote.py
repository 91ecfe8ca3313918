"""The remote on a tablet in real Chromium: session controls first and whom the session
is for, readable placeholders, a planned-reps field that shows its digits, "Family may
see this" for one note or tag only, each set's count marked automatic or the
therapist's, and the rep counter's sensitivity per child and exercise."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import DemoProcess
from tests.e2e.test_wall_remote import start_session_and_set

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

CONTRAST = """(sel) => {
  const lum = (c) => {
    const [r, g, b, a] = c.match(/[\\d.]+/g).map(Number);
    const ch = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92
                                                   : Math.pow((v + 0.055) / 1.055, 2.4); });
    return [0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2], a === undefined ? 1 : a];
  };
  const el = document.querySelector(sel);
  let bg = el, back = 'rgba(0, 0, 0, 0)';
  while (bg && /rgba\\(.*, 0\\)/.test(back)) { back = getComputedStyle(bg).backgroundColor;
                                               bg = bg.parentElement; }
  const [lf, alpha] = lum(getComputedStyle(el).color), [lb] = lum(back);
  const fg = alpha * lf + (1 - alpha) * lb;  // a translucent colour over its background
  return (Math.max(fg, lb) + 0.05) / (Math.min(fg, lb) + 0.05);
}"""


@pytest.fixture
def remote(demo: DemoProcess, browser: Any) -> Any:
    page = browser.new_context(viewport={"width": 820, "height": 1180}, has_touch=True
                               ).new_page()
    demo.sign_in(page, "/remote/room-1")
    page.wait_for_selector("#remote-rep-plus")
    yield page
    page.context.close()


def test_session_controls_come_first_and_say_whom_the_session_is_for(remote: Any) -> None:
    def top(selector: str) -> float:
        return float(remote.locator(selector).bounding_box()["y"])

    assert top("#remote-session-start") < top("#remote-rep-plus") < top("#remote-set-start")
    assert remote.inner_text("#remote-session-for") == "No session running"
    start_session_and_set(remote, child="Ben")
    remote.wait_for_selector("#remote-session-for:has-text('Session for Ben')", timeout=10_000)
    remote.click("#remote-session-end")
    remote.wait_for_selector("#remote-session-for:has-text('No session running')",
                             timeout=10_000)


def test_placeholders_are_readable_and_the_planned_reps_show_their_digits(remote: Any) -> None:
    for sel in ("#remote-child .dash-dropdown-placeholder",
                "#remote-exercise .dash-dropdown-placeholder"):
        assert remote.inner_text(sel) in ("Pick the child", "Pick the exercise")
        ratio = remote.evaluate(CONTRAST, sel)
        assert ratio >= 4.5, f"{sel}: contrast {ratio:.1f}:1, below WCAG AA"
    remote.fill("#remote-planned", "100")
    box = remote.evaluate("""() => { const e = document.querySelector('#remote-planned');
        const cs = getComputedStyle(e);
        return {h: e.clientHeight, sh: e.scrollHeight, w: e.clientWidth, sw: e.scrollWidth,
                font: parseFloat(cs.fontSize)}; }""")
    assert box["h"] >= 1.2 * box["font"], box  # the digits' full height shows
    assert box["sh"] <= box["h"], box
    assert box["sw"] <= box["w"], box  # three digits fit
    assert remote.is_disabled(".dash-stepper-increment")  # 100 is the most
    remote.click(".dash-stepper-decrement")  # the steppers are there to tap
    assert remote.input_value("#remote-planned") == "99"
    remote.click(".dash-stepper-increment")
    assert remote.input_value("#remote-planned") == "100"


def test_family_may_see_this_is_for_one_note_or_tag(remote: Any) -> None:
    start_session_and_set(remote)
    share = "#remote-share-with-family input"
    remote.click("#remote-share-with-family label")
    assert remote.is_checked(share)
    remote.fill("#remote-note", "Stood alone")
    remote.click("#remote-note-add")
    remote.wait_for_selector("text=✓ Note added (the family sees it)")
    remote.wait_for_function(f"() => !document.querySelector('{share}').checked")
    remote.click("#remote-share-with-family label")
    remote.click("button.tag:has-text('Fatigue')")
    remote.wait_for_selector("text=✓ Tagged: fatigue")
    remote.wait_for_function(f"() => !document.querySelector('{share}').checked")
    remote.fill("#remote-note", "")  # an empty note is refused: the choice stays
    remote.click("#remote-share-with-family label")
    remote.click("#remote-note-add")
    remote.wait_for_selector("text=Write the note first.")
    assert remote.is_checked(share)


def test_each_set_shows_whether_its_count_is_automatic_or_the_therapists(remote: Any) -> None:
    remote.click("#remote-child")
    remote.get_by_role("option", name="Ben", exact=True).click()
    remote.click("#remote-session-start")
    remote.wait_for_selector("text=✓ Session started")
    remote.click("#remote-exercise")
    remote.get_by_role("option", name="Sit-to-stand on foam", exact=True).click()
    remote.click("#remote-surface label:has-text('Foam pad')")
    remote.click("#remote-support label:has-text('Pelvis')")
    remote.click("#remote-set-start")
    remote.wait_for_selector("text=✓ Set started")
    row = "#remote-sets .remote-set"
    remote.wait_for_selector(f"{row}:has-text('Sit-to-stand on foam')", timeout=10_000)
    assert remote.get_attribute(row, "data-counted-by") == "auto"
    assert "automatic count" in remote.inner_text(row)
    remote.click("#remote-rep-plus")  # the therapist corrects the count
    remote.wait_for_selector(f"{row}[data-counted-by='therapist']", timeout=10_000)
    assert "therapist's count" in remote.inner_text(row)
    remote.click("#remote-set-end")
    remote.wait_for_selector("text=✓ Set ended")
    # between sets the last set's final count can still be corrected
    fix = f"{row}:first-child .remote-set-fix button"
    remote.wait_for_selector(f"{fix}:has-text('+1')", timeout=10_000)
    before = remote.inner_text(f"{row}:first-child .remote-set-text")
    remote.click(f"{fix}:has-text('+1')")
    remote.wait_for_selector("text=✓ Last set +1")
    remote.wait_for_function(
        f"() => document.querySelector(\"{row}:first-child .remote-set-text\").textContent "
        f"!== {before!r}", timeout=10_000)
    assert remote.inner_text(f"{row}:first-child .remote-set-text").startswith(
        "Sit-to-stand on foam: " + str(int(before.split(": ")[1].split(" /")[0]) + 1))
    start_set = remote.locator("#remote-set-start")
    remote.click("#remote-exercise")
    remote.get_by_role("option", name="Stand on foam pad", exact=True).click()
    start_set.click()
    remote.wait_for_selector("text=✓ Set started")
    # counted by hand: the therapist's count from the start; the newest set comes first
    remote.wait_for_selector(f"{row}:first-child:has-text('Stand on foam pad')", timeout=10_000)
    assert remote.get_attribute(f"{row}:first-child", "data-counted-by") == "therapist"
    assert remote.locator(row).count() == 2
    assert remote.locator(".remote-set-fix").count() == 0  # none while a set runs


def test_the_sensitivity_is_kept_per_child_and_exercise(remote: Any) -> None:
    step = "#remote-sensitivity label:has-text('{}')"
    chosen = "#remote-sensitivity label[aria-selected='true']"
    remote.click(step.format("More reps"))
    remote.wait_for_selector("text=Pick the exercise to set how readily its reps count.")
    start_session_and_set(remote, child="Ben")  # "Stand on foam pad"
    remote.wait_for_selector("#remote-session-for:has-text('Ben')", timeout=10_000)
    remote.wait_for_function(
        f"() => document.querySelector(\"{chosen}\").textContent === 'Normal'")
    remote.click(step.format("More reps"))
    remote.wait_for_selector("text=✓ Saved: more reps from the next set on.", timeout=10_000)
    remote.click("#remote-exercise")
    remote.get_by_role("option", name="Sit-to-stand on foam", exact=True).click()
    remote.wait_for_function(  # another exercise: its own step
        f"() => document.querySelector(\"{chosen}\").textContent === 'Normal'")
    remote.reload()
    remote.wait_for_selector("#remote-session-for:has-text('Ben')", timeout=10_000)
    remote.click("#remote-exercise")
    remote.get_by_role("option", name="Stand on foam pad", exact=True).click()
    remote.wait_for_function(
        f"() => document.querySelector(\"{chosen}\").textContent === 'More reps'",
        timeout=10_000)


def test_a_wrong_password_keeps_the_user_name(demo: DemoProcess, page: Any) -> None:
    page.goto(demo.base_url + "/remote/room-1")
    page.fill("#login-user", "therapist")
    page.fill("#login-password", "not-the-password")
    page.click("#login-submit")
    page.wait_for_selector("text=That user name and password do not match.")
    assert page.input_value("#login-user") == "therapist"
    assert page.input_value("#login-password") == ""
    page.fill("#login-password", demo.password)
    page.click("#login-submit")
    page.wait_for_selector("#remote-rep-plus")
