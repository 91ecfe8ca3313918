"""The wall as a TV across the room shows it (issue 17): "nobody on the board" said plainly
over the last good picture when the child steps off, and sizes that scale with the
screen (1280×720, 1920×1080, 3840×2160)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dashboard import kiosk_links
from dmi_live import services
from dmi_live.broker import free_port
from dmi_live.settings import BrokerSettings, Settings
from ingest.devices.base import Reading, Source
from ingest.devices.simulator import SimulatedRoom

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


class SteppingOff(Source):
    """The simulated board, and a child who can be made to step off it: then the cells
    read what an empty board reads (a few grams of noise around zero)."""

    def __init__(self, inner: Source) -> None:
        super().__init__()
        self.inner = inner
        self.device, self.kind = inner.device, inner.kind
        self.columns, self.period, self.placement = inner.columns, inner.period, inner.placement
        self.boot = inner.boot
        self.off = threading.Event()

    def read(self, timeout: float) -> list[Reading]:
        readings = self.inner.read(timeout)
        self.boot = self.inner.boot
        if not self.off.is_set():
            return readings
        return [Reading(r.t_dev, tuple(0.01 * v for v in r.values)) for r in readings]


@dataclass
class Stack:
    settings: Settings
    parts: list[Any]
    dashboard: Any
    board: SteppingOff

    def wall_url(self) -> str:
        token, _ = kiosk_links.create(self.dashboard.store, self.settings.secret_key, "room-1",
                                      created_by="test", now=time.time())
        return f"{self.dashboard.url}/wall/room-1?k={token}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data: Path = tmp_path_factory.mktemp("wall") / "data"
    settings = Settings(data_dir=data, http_port=free_port(),
                        broker=BrokerSettings(port=free_port())).with_secret_key()
    broker, settings = services.start_broker(settings, fallback=False, pick_free_port=False)
    dashboard = services.start_dashboard(settings)
    board, imu = SimulatedRoom(seed=4).sources()
    stepping = SteppingOff(board)
    ingest = services.start_ingest(settings, "room-1", [stepping, imu])
    yield Stack(settings, [ingest, broker], dashboard, stepping)
    dashboard.stop()
    for part in (ingest, broker):
        part.stop()


def open_wall(browser: Any, stack: Stack, width: int, height: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(stack.wall_url())
    page.wait_for_function(
        "() => document.querySelectorAll('.light[data-state=online]').length === 2",
        timeout=15_000)
    page.wait_for_function("() => window.dmiLive && window.dmiLive.draws > 5", timeout=15_000)
    return page


COP = "document.querySelector('#wall-cop-graph .js-plotly-plot')"


def test_nobody_on_the_board_is_said_plainly_over_the_last_good_picture(
        browser: Any, stack: Stack) -> None:
    page = open_wall(browser, stack, 1920, 1080)
    try:
        message = page.locator("#wall-board-empty")
        assert not message.is_visible()
        page.wait_for_function(f"() => {COP}.data[1].x.length > 0", timeout=15_000)
        stack.board.off.set()  # the child steps off
        page.wait_for_selector("#wall-board-empty", state="visible", timeout=5000)
        assert message.inner_text() == "Nobody on the board"
        picture = page.evaluate(f"() => [{COP}.data[0].x.slice(), {COP}.data[1].x.slice()]")
        page.wait_for_timeout(1500)
        # the last good picture stays (no point moves, the ellipse keeps its shape), faded
        assert page.evaluate(f"() => [{COP}.data[0].x, {COP}.data[1].x]") == picture
        assert len(picture[0]) > 50
        assert len(picture[1]) > 10
        opacity = page.evaluate("() => getComputedStyle(document.querySelector("
                                "'#wall-cop-graph')).opacity")
        assert float(opacity) < 0.5
        # the board is there and online: it is the child who is missing
        assert page.get_attribute(".light[data-device='board-1']", "data-state") == "online"
        stack.board.off.clear()  # and steps back on
        page.wait_for_selector("#wall-board-empty", state="hidden", timeout=5000)
        page.wait_for_function(
            f"(old) => {COP}.data[0].x.length && {COP}.data[0].x[0] !== old", arg=picture[0][0],
            timeout=5000)
        assert float(page.evaluate("() => getComputedStyle(document.querySelector("
                                   "'#wall-cop-graph')).opacity")) == 1.0
    finally:
        stack.board.off.clear()
        page.context.close()


SIZES = """() => {
  const px = (el, prop) => parseFloat(getComputedStyle(el, prop || null).fontSize);
  const light = document.querySelector('.light[data-device="board-1"]');
  const dot = getComputedStyle(light, '::before');
  const tick = document.querySelector('#wall-cop-graph .xtick text');
  const tilt = document.querySelector('#wall-tilt-graph').getBoundingClientRect();
  const wall = document.querySelector('.wall');
  return {light: parseFloat(getComputedStyle(light).fontSize), dot: parseFloat(dot.width),
          reps: parseFloat(getComputedStyle(document.querySelector('.wall-count')).fontSize),
          tick: parseFloat(tick.style.fontSize), tiltHeight: tilt.height,
          tiltBottom: tilt.bottom, overflow: wall.scrollHeight - wall.clientHeight,
          width: window.innerWidth, height: window.innerHeight};
}"""


def test_sizes_scale_with_the_screen_from_720p_to_4k(browser: Any, stack: Stack) -> None:
    sizes = {}
    for width, height in ((1920, 1080), (1280, 720), (3840, 2160)):
        page = open_wall(browser, stack, width, height)
        try:
            page.wait_for_function(  # the plots take the screen's type size
                "() => { const t = document.querySelector('#wall-cop-graph .xtick text');"
                " return t && Math.abs(parseFloat(t.style.fontSize) - 26 * innerHeight / 1080)"
                " < 1.5; }", timeout=10_000)
            sizes[height] = page.evaluate(SIZES)
        finally:
            page.context.close()
    full = sizes[1080]
    # readable from 4 m on the 1080p TV: lights of 32 px type with a 27 px dot, 26 px ticks
    assert full["light"] >= 30
    assert full["dot"] >= 24
    assert full["tick"] >= 24
    for height, factor in ((720, 720 / 1080), (2160, 2.0)):
        got = sizes[height]
        for key in ("light", "dot", "reps", "tick"):
            assert got[key] == pytest.approx(full[key] * factor, rel=0.08), (height, key)
        # the tilt plot keeps its share of the screen, and nothing spills off it
        assert got["tiltHeight"] / got["height"] == pytest.approx(
            full["tiltHeight"] / full["height"], rel=0.1)
        assert got["tiltHeight"] > 0.25 * got["height"]
        assert got["overflow"] <= 1
        assert got["tiltBottom"] <= got["height"]
