"""The supervisor replay in real Chromium: open a recorded session, zoom, and watch the
set table follow; click a set to zoom to it; play the stabilogram; export a CSV bundle.

The app is served in-process (werkzeug, threaded) on a store the test fills; a test-only
``/test-login`` route signs the browser in (user accounts are not what is tested here).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from contract import Event
from dmi_live.broker import free_port
from store import Store, open_store
from tests.dashboard.replay_session import Recorded, add_test_login, record_session

pytestmark = [pytest.mark.e2e]

@dataclass
class Served:
    url: str
    store: Store
    recorded: Recorded
    other: Recorded


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from dashboard.app import create_app
    from dashboard.live import LiveHub
    from dmi_live.settings import Settings
    from ingest.mqtt import BrokerAddress

    data = tmp_path_factory.mktemp("replay-e2e")
    store = open_store(data / "dmi-live.sqlite")
    recorded = record_session(store, duration=600.0, imus=("trunk", "pelvis"))
    other = record_session(store, session="s-other", child="c-99", room="room-2",
                           start=recorded.end + 3600, duration=60.0, name="Noah")
    for i, text in enumerate(("lost balance", "cried briefly", "better on the left",
                              "asked for a break")):  # four notes within two seconds
        store.apply_event("demo", "room-2", Event(
            type="note", t=other.start + 20 + 0.5 * i, session="s-other", author="ana",
            data={"text": text}, id=f"s-other-close-{i}"))
    # a session started 11 s before its devices sent anything
    late = other.end + 3600
    store.add_child("c-98", "Zoe")
    store.apply_event("demo", "room-3", Event(type="session_start", t=late - 11,
                                              session="s-late", author="ana",
                                              data={"child": "c-98"}, id="s-late-early"))
    record_session(store, session="s-late", child="c-98", name="Zoe", room="room-3",
                   start=late, duration=60.0, hole=False)
    settings = Settings(data_dir=data, store_url=f"sqlite:///{data / 'dmi-live.sqlite'}")
    hub = LiveHub(BrokerAddress(port=free_port()), site=settings.site, client_id="e2e-replay")
    app = create_app(settings, hub=hub, store=store)
    add_test_login(app.server, store)
    port = free_port()
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{port}", store, recorded, other)
    finally:
        server.shutdown()
        thread.join(5)
        store.close()


def sign_in(page: Any, served: Served, next_path: str, **who: str) -> None:
    query = "&".join(f"{k}={v}" for k, v in {**who, "next": next_path}.items())
    page.goto(f"{served.url}/test-login?{query}")


def x_range(page: Any) -> list[float]:
    return page.evaluate(
        "() => { const g = document.querySelector('#replay-timeline-graph .js-plotly-plot');"
        " return g._fullLayout.xaxis.range.map(v => typeof v === 'number' ? v :"
        " Date.parse(v.replace(' ', 'T') + 'Z')); }")


def highlighted_rows(page: Any) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('#replay-set-table"
                         " tr.replay-set-in-view')].map(tr => tr.dataset.set)")


def test_zoom_moves_the_set_table_and_a_row_click_zooms(served: Served, page: Any) -> None:
    sign_in(page, served, "/replay/s-1")
    page.wait_for_selector("#replay-timeline-graph .js-plotly-plot")
    caption = page.locator("#replay-set-caption")
    assert caption.inner_text() == "In view: sets 1–3 of 3"
    assert highlighted_rows(page) == ["s-1-set-1", "s-1-set-2", "s-1-set-3"]
    traces = page.evaluate("() => document.querySelector('#replay-timeline-graph"
                           " .js-plotly-plot').data.length")
    assert traces >= 9  # reps ×3, annotations, gaps, COP ×2, tilt ×2, |ω| ×2

    # zoom onto the middle of set 2 (240–360 s) the way a drag-zoom does
    page.evaluate("() => Plotly.relayout(document.querySelector('#replay-timeline-graph"
                  " .js-plotly-plot'), {'xaxis.range[0]': 270000, 'xaxis.range[1]': 330000})")
    page.wait_for_function("() => document.querySelector('#replay-set-caption').innerText"
                           " === 'In view: set 2 of 3'", timeout=10_000)
    assert highlighted_rows(page) == ["s-1-set-2"]
    points = page.evaluate("() => document.querySelector('#replay-timeline-graph"
                           " .js-plotly-plot').data.find(t => t.name.startsWith('COP ML')).x")
    assert min(points) <= 270000
    assert max(points) >= 330000
    step = (points[-1] - points[0]) / len(points)
    assert step < 100, "the zoomed view should be at full resolution"

    # a click on set 3's row zooms the timeline to set 3
    page.locator("#replay-set-table tr", has_text="Lateral weight shift on foam").click()
    page.wait_for_function("() => document.querySelector('#replay-set-caption').innerText"
                           " === 'In view: set 3 of 3'", timeout=10_000)
    lo, hi = x_range(page)
    assert 400_000 <= lo <= 420_000
    assert 570_000 <= hi <= 600_000


def test_cursor_and_playback(served: Served, page: Any) -> None:
    sign_in(page, served, "/replay/s-1")
    page.wait_for_selector("#replay-timeline-graph .js-plotly-plot")
    page.evaluate("() => window.dash_clientside.set_props('replay-cursor', {data: 100})")
    page.wait_for_function("() => document.querySelector('#replay-cursor-label').innerText"
                           " === 'Cursor at 1:40'", timeout=10_000)
    before = page.evaluate("() => document.querySelector('#replay-stabilogram-graph"
                           " .js-plotly-plot').data[0].x.length")
    assert before > 400  # 5 s of COP at 100 Hz
    page.locator("#replay-speed label", has_text="4×").click()
    page.locator("#replay-play-button").click()
    page.wait_for_function("() => window.dmiReplay.playing && window.dmiReplay.t > 104",
                           timeout=10_000)
    page.locator("#replay-play-button").click()
    page.wait_for_function("() => !window.dmiReplay.playing", timeout=5_000)
    assert page.evaluate("() => window.dmiReplay.frames") > 5


def test_export_csv_from_the_page(served: Served, page: Any, tmp_path: Path) -> None:
    from review.exporting import read_bundle

    sign_in(page, served, "/replay/s-1")
    page.wait_for_selector("#replay-export-csv")
    page.locator("#replay-export-csv").click()
    link = page.locator("#replay-export-link")
    link.wait_for(state="visible", timeout=30_000)
    with page.expect_download() as info:
        link.click()
    path = tmp_path / "export.zip"
    info.value.save_as(path)
    bundle = read_bundle(path)
    assert bundle.manifest["session"]["id"] == "s-1"
    assert len(bundle.tables["sets"]) == 3


def test_another_childs_session_shows_nothing(served: Served, page: Any) -> None:
    sign_in(page, served, "/replay/s-other", name="ther", role="therapist", children="c-17")
    page.wait_for_selector("text=This screen needs a link from your clinic", timeout=10_000)
    assert page.locator("#replay-timeline-graph").count() == 0
    page.goto(f"{served.url}/sessions")
    page.wait_for_selector(".sessions-table")
    rows = page.locator(".sessions-table tbody tr")
    assert rows.count() == 1
    assert rows.get_attribute("data-session") == "s-1"


def test_a_new_export_takes_the_old_download_away(served: Served, page: Any) -> None:
    sign_in(page, served, "/replay/s-1")
    page.wait_for_selector("#replay-export-csv")
    page.locator("#replay-export-csv").click()
    link = page.locator("#replay-export-link")
    link.wait_for(state="visible", timeout=30_000)
    first = link.get_attribute("href")
    # watch every change of the export card from now on
    page.evaluate("""() => {
        window.exportLog = [];
        const card = document.querySelector('.replay-exports');
        const note = () => {
            const a = document.querySelector('#replay-export-link');
            window.exportLog.push({status: document.querySelector('#replay-export-status')
                .innerText, visible: !a.hidden, href: a.getAttribute('href')});
        };
        new MutationObserver(note).observe(card, {subtree: true, childList: true,
            attributes: true, characterData: true});
    }""")
    page.locator("#replay-export-pdf").click()
    page.wait_for_function("() => document.querySelector('#replay-export-status').innerText"
                           ".startsWith('Ready') && !document.querySelector("
                           "'#replay-export-link').hidden && document.querySelector("
                           f"'#replay-export-link').getAttribute('href') !== '{first}'",
                           timeout=60_000)
    log = page.evaluate("() => window.exportLog")
    busy = [entry for entry in log if not entry["status"].startswith("Ready")]
    assert busy, "the page showed no progress for the second export"
    assert not [entry for entry in busy if entry["visible"]], log
    assert log[-1]["href"] != first


def test_close_notes_do_not_write_over_each_other(served: Served, page: Any) -> None:
    sign_in(page, served, "/replay/s-other")
    page.wait_for_selector("#replay-timeline-graph .js-plotly-plot")
    drawn = page.evaluate("""() => {
        const plot = document.querySelector('#replay-timeline-graph .js-plotly-plot');
        const index = plot.data.findIndex(t => t.name === 'annotation');
        const layer = plot.querySelectorAll('.scatterlayer .trace')[index];
        const box = (el, what) => { const r = el.getBoundingClientRect();
                                     return [r.left, r.top, r.right, r.bottom, what]; };
        return {
            texts: [...layer.querySelectorAll('.textpoint text')]
                .filter(t => t.textContent.trim()).map(t => box(t, t.textContent)),
            stars: [...layer.querySelectorAll('.points path.point')]
                .map((p, i) => box(p, 'star ' + i)),
        };
    }""")
    texts, stars = drawn["texts"], drawn["stars"]
    assert len(stars) == 6  # the session's own note and tag, and the four close ones
    assert len(texts) >= 3, texts  # most of them are labelled at this zoom

    def apart(a: list[Any], b: list[Any]) -> bool:
        return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]

    for i, a in enumerate(texts):
        for b in texts[i + 1:] + stars:
            assert apart(a, b), f"{a[4]!r} overlaps {b[4]!r}"


def test_seconds_before_the_first_sample_are_explained(served: Served, page: Any) -> None:
    sign_in(page, served, "/replay/s-late")
    page.wait_for_selector("#replay-timeline-graph .js-plotly-plot")
    hover = page.evaluate("() => document.querySelector('#replay-timeline-graph"
                          " .js-plotly-plot').data.find(t => t.name === 'data gap').hovertext")
    assert "gap 0:00–0:11 (11.0 s) room-3-board: no data yet (its first sample came 0:11 " \
           "after the start)" in hover
    gaps = page.locator(".replay-stat", has_text="Data gaps").inner_text()
    assert gaps.split("\n")[1] == "2 (11.0 s)", gaps  # the board and the IMU, 0:00–0:11
