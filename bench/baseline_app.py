"""The baseline for ``bench/live_latency.py``: a plain Dash page that polls.

A ``dcc.Interval`` fires every ``interval_ms``; its callback reads everything since a
per-browser cursor from the same :class:`dashboard.live.LiveHub` ring buffers the wall
stream reads (``ring.since(cursor)``; :class:`Cursors` says where cursors live) and
returns ``extendData`` for the same two graphs as the wall: the centre-of-pressure trail
(last 5 s at the hub's 50 Hz) and the trunk tilt (last 10 s at 25 Hz, pitch and roll).

The newest and oldest host times of the drawn rows the response carries (the board and
the first IMU; the other devices are not read) ride along in a hidden second trace
of the COP graph, so the page can tell, when a draw completes, which samples it shows.
A small script in the page wraps ``Plotly.extendTraces`` and records on
``window.dmiBaseline``: ``latencies`` (ms from the newest sample's host time to the
completion of the last draw of that response), ``oldest`` (same, oldest sample),
``updates`` (responses drawn), ``draws`` (``extendTraces`` calls), ``drawMs`` and
``repeats`` (tilt updates that started at or before the last drawn point: rows drawn
twice, see :class:`Cursors`).

Only the benchmark uses this module; it is not part of the product.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import figures
from dashboard.live import LiveHub

COP_ID = "baseline-cop-graph"
TILT_ID = "baseline-tilt-graph"
TICK_ID = "baseline-tick"
CURSORS_ID = "baseline-cursors"
CLIENT_ID = "baseline-client"
COP_POINTS = 250   # 5 s at the hub's 50 Hz board display rate (the wall's trail)
TILT_POINTS = 250  # 10 s at the hub's 25 Hz IMU display rate (the wall's window)

# Instrumentation only: finalize a response's latency at its last completed draw.
_PROBE = """
<script>
(function () {
  var b = window.dmiBaseline = { latencies: [], oldest: [], updates: 0, draws: 0, drawMs: [],
                                 repeats: 0 };
  var lastTiltX = null;
  var pending = null;
  function finish() {
    if (!pending) { return; }
    b.updates += 1;
    b.latencies.push(pending.done - pending.newest * 1000);
    b.oldest.push(pending.done - pending.oldest * 1000);
    if (b.latencies.length > 20000) { b.latencies.shift(); b.oldest.shift(); }
    pending = null;
  }
  b.flush = finish;
  function wrap() {
    if (!window.Plotly || !window.Plotly.extendTraces) { return setTimeout(wrap, 20); }
    var native = window.Plotly.extendTraces;
    window.Plotly.extendTraces = function (gd) {
      var started = performance.now();
      var args = arguments, update = arguments[1];
      if (gd && gd.closest && gd.closest("#baseline-tilt-graph") && update && update.x) {
        var xs = update.x[0];
        if (xs.length) {
          if (lastTiltX !== null && xs[0] <= lastTiltX) { b.repeats += 1; }
          lastTiltX = xs[xs.length - 1];
        }
      }
      return Promise.resolve(native.apply(this, args)).then(function (out) {
        var now = Date.now();
        b.draws += 1;
        b.drawMs.push(performance.now() - started);
        if (b.drawMs.length > 20000) { b.drawMs.shift(); }
        var tr = gd && gd.data && gd.data[1];
        if (tr && tr.name === "timing" && tr.x && tr.x.length) {
          var newest = tr.x[tr.x.length - 1], oldest = tr.y[tr.y.length - 1];
          if (pending && pending.newest !== newest) { finish(); }
          if (!pending) { pending = { newest: newest, oldest: oldest, done: now }; }
        }
        if (pending) { pending.done = now; }
        return out;
      });
    };
  }
  wrap();
})();
</script>
"""

INDEX = """<!DOCTYPE html>
<html>
<head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}</head>
<body style="margin:0;background:#0b0f14">
{%app_entry%}
<footer>{%config%}{%scripts%}{%renderer%}</footer>
""" + _PROBE + """
</body>
</html>"""


def cop_figure() -> go.Figure:
    """The wall's stabilogram with one marker colour, plus the hidden timing trace."""
    fig = figures.stabilogram_figure()
    fig.data = fig.data[:1]
    fig.update_traces(marker={"color": figures.COP_COLOUR, "size": 7})
    # trace 1 (the wall's ellipse, which the baseline does not draw) carries the timing
    fig.add_trace(go.Scatter(x=[], y=[], visible=False, hoverinfo="skip", name="timing"))
    return fig


def tilt_figure() -> go.Figure:
    fig = figures.tilt_figure()
    fig.update_xaxes(range=None, autorange=True, title={"text": "seconds (host clock)"})
    return fig


class Cursors:
    """Each browser's cursors, as the browser holds them (``dcc.Store``), and what the
    server last served that browser, to count requests that were behind.

    Dash sends a tick's request with the cursor ``State`` it has. A superseded request
    still running is dropped (its rows come again from the old cursor: nothing is lost),
    but a response already applying when the next request leaves makes that request
    stale: its rows get drawn twice. ``behind`` counts requests whose cursor is behind
    what was served (either case; the page counts the repeats). With ``dedupe`` the
    server serves from ``max(browser cursor, last served)`` instead: no row twice, but a
    dropped response then leaves a gap. The benchmark uses the plain pattern.
    """

    def __init__(self, *, dedupe: bool = False, keep: int = 64) -> None:
        self.dedupe = dedupe
        self.keep = keep
        self._served: OrderedDict[str, dict[str, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.requests = 0
        self.behind = 0

    def take(self, client: str, held: dict[str, int], feed_room: Any
             ) -> dict[str, tuple[Any, int, str]]:
        with self._lock:
            served = self._served.setdefault(client, {})
            self._served.move_to_end(client)
            while len(self._served) > self.keep:
                self._served.popitem(last=False)
            self.requests += 1
            self.behind += any(held.get(k, 0) < v for k, v in served.items())
            with feed_room.changed:  # the hub's writers hold this lock while extending
                out = {}
                for name, feed in drawn(feed_room):
                    start = held.get(name, 0)
                    if self.dedupe:
                        start = max(start, served.get(name, 0))
                    rows, served[name] = feed.ring.since(start)
                    out[name] = (rows, served[name], feed.kind)
            return out


def drawn(feed_room: Any) -> list[tuple[str, Any]]:
    """The devices the page draws: the board and the first IMU (like the wall)."""
    board = next(((n, f) for n, f in feed_room.devices.items() if f.kind == "board"), None)
    imu = next(((n, f) for n, f in feed_room.devices.items() if f.kind == "imu"), None)
    return [d for d in (board, imu) if d is not None]


def create_baseline_app(hub: LiveHub, room: str, *, interval_ms: int = 40) -> dash.Dash:
    """A Dash app showing ``room`` by polling ``hub``'s rings every ``interval_ms``.

    ``app.cursors`` (:class:`Cursors`) counts requests and those that were behind.
    """
    app = dash.Dash(__name__, title="DMI baseline", update_title=None,
                    assets_ignore=".*", serve_locally=True,
                    # the product's callbacks (``dash.callback``) attach to every app
                    suppress_callback_exceptions=True)
    app.index_string = INDEX
    t0 = math.floor(time.time())
    graph_style = {"height": "480px", "width": "900px", "display": "inline-block"}
    config = {"displayModeBar": False, "responsive": True}
    cursors_on_server = Cursors()
    app.cursors = cursors_on_server  # type: ignore[attr-defined]

    def layout() -> html.Div:
        return html.Div([
            dcc.Interval(id=TICK_ID, interval=interval_ms),
            dcc.Store(id=CLIENT_ID, data=uuid.uuid4().hex),
            dcc.Store(id=CURSORS_ID, data={}),
            dcc.Graph(id=COP_ID, figure=cop_figure(), config=config, style=graph_style),
            dcc.Graph(id=TILT_ID, figure=tilt_figure(), config=config, style=graph_style),
        ])

    app.layout = layout

    @app.callback(
        Output(COP_ID, "extendData"), Output(TILT_ID, "extendData"),
        Output(CURSORS_ID, "data"),
        Input(TICK_ID, "n_intervals"), State(CURSORS_ID, "data"), State(CLIENT_ID, "data"),
    )
    def poll(_n: int | None, held: dict[str, int] | None, client: str | None
             ) -> tuple[Any, Any, Any]:
        feed_room = hub.rooms.get(room)
        if feed_room is None or not client:
            raise PreventUpdate
        taken = cursors_on_server.take(client, held or {}, feed_room)
        newest, oldest = -math.inf, math.inf
        cop = tilt = None
        cursors = {}
        for name, (rows, cursor, kind) in taken.items():
            cursors[name] = cursor
            if not len(rows):
                continue
            newest, oldest = max(newest, rows[-1, 0]), min(oldest, rows[0, 0])
            if kind == "board":
                cop = rows
            else:
                tilt = rows
        if newest == -math.inf:
            raise PreventUpdate
        cop_x = [] if cop is None else _clean(cop[-COP_POINTS:, 1])
        cop_y = [] if cop is None else _clean(cop[-COP_POINTS:, 2])
        cop_extend = ({"x": [cop_x, [round(newest, 3)]], "y": [cop_y, [round(oldest, 3)]]},
                      [0, 1], COP_POINTS)
        tilt_extend: Any = no_update
        if tilt is not None:
            rows = tilt[-TILT_POINTS:]
            t = [round(v - t0, 3) for v in rows[:, 0]]
            tilt_extend = ({"x": [t, t], "y": [_clean(rows[:, 1]), _clean(rows[:, 2])]},
                           [0, 1], TILT_POINTS)
        return cop_extend, tilt_extend, cursors

    return app


def _clean(values: Any) -> list[float | None]:
    return [None if math.isnan(v) else round(float(v), 3) for v in values]
