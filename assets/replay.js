/* DMI Live — replay page: timeline cursor and stabilogram playback, in the browser.
 *
 * A click on the timeline places the cursor (store replay-cursor, seconds since the
 * session start); the server answers with the stabilogram around it and a 60-second
 * chunk of full-resolution centre of pressure (store replay-window). Play animates the
 * stabilogram from that chunk at 1× or 4× with requestAnimationFrame — no server round
 * trip per frame — asks for the next chunk before this one runs out, and moves the
 * timeline cursor a few times a second. State is on window.dmiReplay (tests read it).
 */
(function () {
  "use strict";

  var TAIL_S = 5;
  var PREFETCH_S = 10;
  var CURSOR_MS = 250;
  var state = { playing: false, speed: 1, t: null, win: null, fetching: false, raf: null,
                last: null, lastCursorMove: 0, frames: 0 };
  window.dmiReplay = state;

  function graph(id) {
    var el = document.getElementById(id);
    return el ? (el.classList.contains("js-plotly-plot") ? el : el.querySelector(".js-plotly-plot")) : null;
  }

  function secondsFromAxis(x) {
    if (typeof x === "number") { return x / 1000; }
    var text = String(x).replace(" ", "T");
    if (text.length <= 10) { text += "T00:00:00"; }
    return Date.parse(text + "Z") / 1000;
  }

  function bisect(values, x) {
    var lo = 0, hi = values.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (values[mid] < x) { lo = mid + 1; } else { hi = mid; }
    }
    return lo;
  }

  function clock(s) {
    var total = Math.max(0, Math.round(s * 10) / 10);
    var m = Math.floor(total / 60), sec = (total - 60 * m).toFixed(1);
    return m + ":" + (sec < 10 ? "0" : "") + sec;
  }

  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(id, props);
    }
  }

  function moveCursor(t) {
    var g = graph("replay-timeline-graph");
    if (!g || !g.layout || !g.layout.shapes || !window.Plotly) { return; }
    for (var i = 0; i < g.layout.shapes.length; i++) {
      if (g.layout.shapes[i].name === "cursor") {
        var update = {};
        update["shapes[" + i + "].x0"] = t * 1000;
        update["shapes[" + i + "].x1"] = t * 1000;
        update["shapes[" + i + "].visible"] = true;
        window.Plotly.relayout(g, update);
        return;
      }
    }
  }

  function draw(t) {
    var w = state.win, g = graph("replay-stabilogram-graph");
    if (!w || !g || !window.Plotly || !w.t.length) { return; }
    var i0 = bisect(w.t, t - TAIL_S), i1 = bisect(w.t, t + 1e-9);
    var i2 = bisect(w.t, t + TAIL_S + 1e-9), now = i1 > 0 ? i1 - 1 : 0;
    window.Plotly.restyle(g, {
      x: [w.ml.slice(i0, i1), w.ml.slice(now, i2), [w.ml[now]]],
      y: [w.ap.slice(i0, i1), w.ap.slice(now, i2), [w.ap[now]]]
    }, [0, 1, 2]);
    var label = document.getElementById("replay-cursor-label");
    if (label) { label.textContent = (state.playing ? "Playing " + state.speed + "× at " : "Cursor at ") + clock(t); }
    state.frames += 1;
  }

  function fetchAt(t) {
    state.fetching = true;
    setProps("replay-play-fetch", { data: t });
  }

  function frame(ts) {
    if (!state.playing) { return; }
    if (state.last !== null) { state.t += (ts - state.last) / 1000 * state.speed; }
    state.last = ts;
    var w = state.win;
    if (w) {
      if (state.t >= w.end) { state.t = w.end; draw(state.t); stop(true); return; }
      var outside = state.t < w.from || state.t > w.to;
      if (!state.fetching && (outside || (state.t > w.to - PREFETCH_S && w.to < w.end))) {
        fetchAt(outside ? state.t : Math.min(state.t, w.to));
      }
      if (state.t > w.to && state.fetching) { state.t = w.to; }  // wait for the next chunk
      draw(state.t);
      if (ts - state.lastCursorMove > CURSOR_MS) { state.lastCursorMove = ts; moveCursor(state.t); }
    }
    state.raf = window.requestAnimationFrame(frame);
  }

  function start() {
    state.playing = true;
    state.last = null;
    state.raf = window.requestAnimationFrame(frame);
  }

  function stop(keepCursor) {
    state.playing = false;
    if (state.raf) { window.cancelAnimationFrame(state.raf); state.raf = null; }
    if (keepCursor && state.t !== null) { setProps("replay-cursor", { data: state.t }); }
    var button = document.getElementById("replay-play-button");
    if (button) { button.textContent = "▶ Play"; }
  }

  function trigger() {
    var ctx = window.dash_clientside.callback_context;
    return ctx && ctx.triggered && ctx.triggered.length ? ctx.triggered[0].prop_id.split(".")[0] : "";
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.dmiReplay = {
    cursorFromClick: function (click) {
      if (!click || !click.points || !click.points.length) { return window.dash_clientside.no_update; }
      var t = secondsFromAxis(click.points[0].x);
      if (!isFinite(t)) { return window.dash_clientside.no_update; }
      state.t = t;
      moveCursor(t);
      return t;
    },
    togglePlay: function (clicks, speed, cursor, view) {
      var no = window.dash_clientside.no_update;
      state.speed = speed || 1;
      if (trigger() === "replay-speed") { return [no, no]; }
      if (state.playing) { stop(true); return [{ playing: false }, "▶ Play"]; }
      if (state.t === null) { state.t = cursor !== null && cursor !== undefined ? cursor : (view ? view[0] : 0); }
      if (!state.win || state.t < state.win.from || state.t > state.win.to) { fetchAt(state.t); }
      start();
      return [{ playing: true, speed: state.speed }, "❚❚ Pause"];
    },
    adoptWindow: function (win, cursor) {
      var which = trigger();
      if (which === "replay-window" && win) {
        state.win = win;
        state.fetching = false;
        if (state.t === null) { state.t = win.at; }
      } else if (which === "replay-cursor" && cursor !== null && cursor !== undefined) {
        state.t = cursor;
      }
      return window.dash_clientside.no_update;
    }
  };
})();
