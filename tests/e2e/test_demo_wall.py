"""The walking skeleton end to end: demo → Mosquitto → recorder and wall page in Chromium."""

from __future__ import annotations

import sqlite3

import pytest

from tests.e2e.conftest import DemoProcess

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


def cop_newest(page) -> float:  # noqa: ANN001 - playwright page
    """Host time of the newest point on the stabilogram (its colour scale ends there)."""
    return page.evaluate(
        "() => { const g = document.querySelector('#wall-cop-graph .js-plotly-plot');"
        " return g && g.data && g.data[0].x.length ? g.data[0].marker.cmax : 0; }"
    )


def test_wall_shows_moving_data_and_green_lights(demo: DemoProcess, page) -> None:  # noqa: ANN001
    page.goto(demo.wall_url)
    # the kiosk link signs the screen in for its room and drops the token from the URL
    assert page.url.endswith("/wall/room-1")
    page.wait_for_function("() => document.querySelectorAll('.light').length >= 2",
                           timeout=10_000)
    page.wait_for_function(
        "() => document.querySelectorAll('.light[data-state=online]').length === 2",
        timeout=10_000)
    lights = page.locator(".light").all_inner_texts()
    assert any(text.startswith("board-1") for text in lights)
    assert any(text.startswith("imu-trunk") for text in lights)
    page.wait_for_function("() => window.dmiLive && window.dmiLive.draws > 0", timeout=10_000)
    first = cop_newest(page)
    page.wait_for_timeout(1000)
    second = cop_newest(page)
    assert first > 0, "no centre-of-pressure points on the wall"
    assert second > first, "the centre-of-pressure trace does not advance"
    points = page.evaluate("() => document.querySelector('#wall-cop-graph .js-plotly-plot')"
                           ".data[0].x.length")
    assert 100 < points <= 260, "the trail keeps about the last 5 s at 50 Hz"
    tilt = page.evaluate("() => document.querySelector('#wall-tilt-graph .js-plotly-plot')"
                         ".data[0].y.filter(v => v !== null).length")
    assert tilt > 0
    assert page.locator("#wall-connection-banner").get_attribute("data-state") == "live"


def test_wall_refuses_a_browser_without_the_link(demo: DemoProcess, page) -> None:  # noqa: ANN001
    page.goto(demo.base_url + "/wall/room-1")
    page.wait_for_selector("text=This screen needs a link from your clinic")
    assert page.locator(".light").count() == 0
    response = page.request.get(demo.base_url + "/live/room-1/stream")
    assert response.status == 403
    forged = page.request.get(demo.wall_url.replace("?k=", "?k=x"))
    assert forged.status == 403


def test_ctrl_c_stops_everything_with_a_consistent_database(demo: DemoProcess,
                                                              page) -> None:  # noqa: ANN001
    page.goto(demo.wall_url)
    page.wait_for_function("() => window.dmiLive && window.dmiLive.draws > 10", timeout=10_000)
    assert demo.interrupt() == 0, "\n".join(demo.output)
    assert "Stopped cleanly." in demo.output
    db = sqlite3.connect(demo.data_dir / "dmi-live.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    (samples,) = db.execute("SELECT sum(n) FROM sample_blocks").fetchone()
    assert samples > 100
