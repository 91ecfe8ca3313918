/* DMI Live — live pages (wall screen, remote).
 *
 * Finds the element with data-live-room, opens the room's server-sent-event stream and
 * applies what arrives: plot points (at most one redraw per plot per animation frame,
 * merging every frame that arrived in between), device lights, and the session state
 * into [data-live=…] fields. No Dash callback runs per frame. The points are the
 * ingest's live frames, relayed by the server: nothing is computed here but the
 * ellipse's outline from its centre, semi-axes and angle.
 * While nobody stands on the board (the frames carry no centre of pressure) the page
 * says so ([data-board-empty] on the root) and keeps the last good picture. On the wall, keys send
 * actions: space = +1 rep, backspace = −1 rep, s = start/stop set.
 * Counters for tests and benchmarks are on window.dmiLive.
 */
(function () {
  "use strict";

  var TRAIL_S = 5;            // stabilogram trail
  var TILT_S = 10;            // tilt window
  var STALE_MS = 1000;        // no data for 1 s → stale
  var OFFLINE_MS = 5000;      // no data for 5 s → offline
  var stats = { frames: 0, draws: 0, points: {}, latencies: [], states: 0, drawMs: [] };
  window.dmiLive = stats;
  var active = null;

  function $(root, sel) { return root.querySelector(sel); }
  function plot(id) {
    var el = document.getElementById(id);
    return el ? el.querySelector(".js-plotly-plot") : null;
  }
  function label(v) { return v ? String(v).replace(/-/g, " ").replace(/^./, function (c) { return c.toUpperCase(); }) : ""; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function Session(root) {
    this.root = root;
    this.room = root.getAttribute("data-live-room");
    this.family = root.hasAttribute("data-live-family");
    try { this.names = JSON.parse(root.getAttribute("data-exercise-names") || "{}"); }
    catch (e) { this.names = {}; }
    this.devices = {};
    this.cop = { t: [], x: [], y: [] };
    this.tilt = { t: [], pitch: [], roll: [] };
    this.ellipse = null;
    this.boardEmpty = false;
    this.state = null;
    this.dirty = { cop: false, tilt: false };
    this.newestHostT = 0;
    this.scheduled = false;
    this.closed = false;
    this.measure();
    this.onResize = this.measure.bind(this);
    window.addEventListener("resize", this.onResize);
    this.open();
    this.timer = setInterval(this.tick.bind(this), 250);
    if (root.getAttribute("data-live-keys") === "wall") {
      this.onKey = this.key.bind(this);
      document.addEventListener("keydown", this.onKey);
    }
  }

  Session.prototype.open = function () {
    var self = this;
    this.es = new EventSource(this.family ? "/live/family/stream"
                              : "/live/" + encodeURIComponent(this.room) + "/stream");
    this.es.onopen = function () { self.banner("live", ""); };
    this.es.onerror = function () {
      if (self.closed) { return; }
      self.banner("down", "Live stream lost — reconnecting…");
      // The browser retries by itself after a dropped connection, but gives up after an
      // HTTP error (a server half-way through a restart): then reopen by hand.
      if (self.es.readyState === EventSource.CLOSED) {
        setTimeout(function () { if (!self.closed) { self.open(); } }, 1000);
      }
    };
    this.es.onmessage = function (ev) { self.onFrame(JSON.parse(ev.data)); };
    // The server ends a stream whose link was revoked or expired, or whose account was
    // disabled: say so plainly and stop reconnecting.
    this.es.addEventListener("ended", function (ev) {
      self.closed = true;
      self.es.close();
      self.banner("ended", ev.data || "This live view has ended.");
    });
  };

  Session.prototype.close = function () {
    this.closed = true;
    this.es.close();
    clearInterval(this.timer);
    window.removeEventListener("resize", this.onResize);
    if (this.onKey) { document.removeEventListener("keydown", this.onKey); }
  };

  // The wall's unit (CSS --u: 16 px on a 1920×1080 screen) sets the plots' type, margins,
  // markers and lines, so ticks stay readable from across the room on any screen.
  Session.prototype.measure = function () {
    var px = parseFloat(window.getComputedStyle(this.root).fontSize) || 16;
    this.scale = Math.round(px / 16 * 100) / 100;
    this.dirty.cop = this.dirty.tilt = true;
    this.schedule && this.schedule();
  };

  var PLOT_FONT = 26, MARGIN = { l: 95, r: 24, t: 12, b: 80 };

  Session.prototype.fit = function (el, id) {
    if (el._dmiScale === this.scale) { return; }
    el._dmiScale = this.scale;
    var k = this.scale, layout = { "font.size": Math.round(PLOT_FONT * k) };
    for (var side in MARGIN) { layout["margin." + side] = Math.round(MARGIN[side] * k); }
    window.Plotly.relayout(el, layout);
    if (id === "wall-cop-graph") {
      window.Plotly.restyle(el, { "marker.size": 8 * k, "line.width": 3 * k }, [0, 1]);
    } else {
      window.Plotly.restyle(el, { "line.width": 3 * k }, [0, 1]);
    }
  };

  Session.prototype.banner = function (state, text) {
    var el = $(this.root, "[data-live-banner]");
    if (!el) { return; }
    el.setAttribute("data-state", state);
    el.textContent = text;
  };

  Session.prototype.onFrame = function (frame) {
    stats.frames += 1;
    var now = Date.now();
    (frame.gone || []).forEach(function (name) {  // devices the room no longer shows
      var gone = this.devices[name];
      if (gone && gone.el) { gone.el.remove(); }
      delete this.devices[name];
      if (this.tiltDevice === name) { this.tiltDevice = null; }
    }, this);
    for (var name in frame.devices || {}) {
      var entry = frame.devices[name];
      var d = this.devices[name];
      if (!d) { d = this.devices[name] = { name: name, kind: entry.kind, state: "online", reason: "", placement: "", lastData: 0, el: null }; }
      if (entry.status) {
        d.state = entry.status.state;
        d.reason = entry.status.reason || "";
        d.placement = entry.status.placement || "";
      }
      if (entry.t && entry.t.length) {
        d.lastData = now;
        if (d.state !== "online") { d.state = "online"; d.reason = ""; }
        stats.points[name] = (stats.points[name] || 0) + entry.t.length;
        this.take(d, entry);
      }
    }
    if (frame.ellipse && !this.boardEmpty) { this.ellipse = outline(frame.ellipse); this.dirty.cop = true; }
    if (frame.state !== undefined) { this.state = frame.state; stats.states += 1; this.showState(); }
    if (frame.score !== undefined) { this.showScore(frame.score); }
    this.lights();
    this.schedule();
  };

  // [cx, cy, semi-major, semi-minor, angle] → a closed outline of 49 points
  function outline(e) {
    var xs = [], ys = [], c = Math.cos(e[4]), s = Math.sin(e[4]);
    for (var i = 0; i <= 48; i++) {
      var a = 2 * Math.PI * i / 48, u = e[2] * Math.cos(a), v = e[3] * Math.sin(a);
      xs.push(e[0] + c * u - s * v); ys.push(e[1] + s * u + c * v);
    }
    return { x: xs, y: ys };
  }

  function append(target, values, keep) {
    Array.prototype.push.apply(target, values);
    if (target.length > keep) { target.splice(0, target.length - keep); }
  }

  Session.prototype.take = function (d, entry) {
    var newest = entry.t[entry.t.length - 1];
    if (d.kind === "board") {
      var t = [], x = [], y = [];
      for (var i = 0; i < entry.t.length; i++) {  // only points with a centre of pressure
        if (entry.ml[i] !== null && entry.ap[i] !== null) { t.push(entry.t[i]); x.push(entry.ml[i]); y.push(entry.ap[i]); }
      }
      this.showEmpty(entry.ml[entry.ml.length - 1] === null);
      if (!t.length) { return; }
      append(this.cop.t, t, 4000); append(this.cop.x, x, 4000); append(this.cop.y, y, 4000);
      this.dirty.cop = true;
    } else if (d.kind === "imu" && (d.placement === "trunk" || !this.tiltDevice)) {
      this.tiltDevice = this.tiltDevice || d.name;
      if (this.tiltDevice !== d.name) { return; }
      append(this.tilt.t, entry.t, 4000); append(this.tilt.pitch, entry.pitch, 4000); append(this.tilt.roll, entry.roll, 4000);
      this.dirty.tilt = true;
    } else {
      return;  // not drawn: its samples are not what a draw shows
    }
    if (newest > this.newestHostT) { this.newestHostT = newest; }
  };

  // Nobody on the board: say so, keep the last good trail and ellipse (faded by CSS).
  Session.prototype.showEmpty = function (empty) {
    if (empty === this.boardEmpty) { return; }
    this.boardEmpty = empty;
    this.root.setAttribute("data-board-empty", empty ? "1" : "0");
    this.field("board-empty", empty ? "Nobody on the board" : "");
  };

  function trim(series, keys, from) {
    var i = 0;
    while (i < series.t.length && series.t[i] < from) { i += 1; }
    if (i) { keys.forEach(function (k) { series[k].splice(0, i); }); }
  }

  Session.prototype.schedule = function () {
    if (this.scheduled) { return; }
    this.scheduled = true;
    window.requestAnimationFrame(this.draw.bind(this));
  };

  // Data-only updates: both plots have fixed axes, so after the first full draw of a plot
  // (the legend needs data to appear) its traces are moved with a zero-length animation
  // that skips Plotly's full redraw (axes, ticks, legend, margins): about half the
  // main-thread time per draw on a software-rendered wall. Plotly applies it in the
  // promise chain of the call, before the browser paints; its promise resolves only at
  // Plotly's next animation frame, so nothing waits for it.
  var MOVE = { transition: { duration: 0 }, frame: { duration: 0, redraw: false }, mode: "immediate" };
  var after = new MessageChannel();  // runs after the current task and its promise chains
  var afterQueue = [];
  after.port1.onmessage = function () { afterQueue.shift()(); };
  function afterDraw(fn) { afterQueue.push(fn); after.port2.postMessage(0); }

  function update(el, traces, full) {
    if (!el._dmiDrawn) {
      el._dmiDrawn = true;
      window.Plotly.restyle(el, full, [0, 1]);
    } else {
      window.Plotly.animate(el, { data: traces, traces: [0, 1] }, MOVE);
    }
  }

  Session.prototype.draw = function () {
    this.scheduled = false;
    if (this.closed || !window.Plotly) { return; }
    var started = performance.now();
    var drew = false;
    var cop = plot("wall-cop-graph");
    var tilt = plot("wall-tilt-graph");
    if (cop) { this.fit(cop, "wall-cop-graph"); }
    if (tilt) { this.fit(tilt, "wall-tilt-graph"); }
    if (cop && this.dirty.cop && this.cop.t.length) {
      var tEnd = this.cop.t[this.cop.t.length - 1];
      trim(this.cop, ["t", "x", "y"], tEnd - TRAIL_S);
      var e = this.ellipse, ex = e ? e.x : [], ey = e ? e.y : [];
      var x = this.cop.x.slice(), y = this.cop.y.slice(), c = this.cop.t.slice();
      update(cop, [
        { x: x, y: y, marker: { color: c, cmin: tEnd - TRAIL_S, cmax: tEnd } }, { x: ex, y: ey }
      ], {
        x: [x, ex], y: [y, ey], "marker.color": [c, null],
        "marker.cmin": [tEnd - TRAIL_S, null], "marker.cmax": [tEnd, null]
      });
      this.dirty.cop = false; drew = true;
    }
    if (tilt && this.dirty.tilt && this.tilt.t.length) {
      var t1 = this.tilt.t[this.tilt.t.length - 1];
      trim(this.tilt, ["t", "pitch", "roll"], t1 - TILT_S);
      var rel = this.tilt.t.map(function (t) { return t - t1; });
      var pitch = this.tilt.pitch.slice(), roll = this.tilt.roll.slice();
      update(tilt, [{ x: rel, y: pitch }, { x: rel, y: roll }], { x: [rel, rel], y: [pitch, roll] });
      this.dirty.tilt = false; drew = true;
    }
    if (!drew) { return; }
    var newest = this.newestHostT;
    this.newestHostT = 0;
    afterDraw(function () {
      stats.draws += 1;
      stats.drawMs.push(performance.now() - started);
      if (stats.drawMs.length > 2000) { stats.drawMs.shift(); }
      if (newest) {
        stats.latencies.push(Date.now() - newest * 1000);
        if (stats.latencies.length > 5000) { stats.latencies.shift(); }
      }
    });
  };

  Session.prototype.field = function (key, text) {
    var els = this.root.querySelectorAll('[data-live="' + key + '"]');
    for (var i = 0; i < els.length; i++) {
      if (els[i].textContent !== text) { els[i].textContent = text; }
    }
  };

  Session.prototype.showState = function () {
    var s = this.state || {};
    var running = !!s.set;
    this.root.setAttribute("data-set-running", running ? "1" : "0");
    this.root.setAttribute("data-session-running", s.session ? "1" : "0");
    this.field("exercise", running ? (this.names[s.exercise] || label(s.exercise)) : (s.session ? "Between sets" : "No session running"));
    this.field("set", running ? (this.names[s.exercise] || label(s.exercise)) + " · " + label(s.surface) + " · support at " + label(s.support) : "No set running");
    this.field("session", s.session ? "Session running" : "No session");
    this.field("surface", running ? label(s.surface) : "");
    this.field("support", running ? "support: " + label(s.support) : "");
    this.field("reps", String(s.reps || 0));
    this.field("planned", String(s.planned_reps || 0));
    var note = s.last_note;
    this.field("note", note ? (note.text || label(note.tag)) : (this.family ? "" : "—"));
    if (this.family) {
      this.keepSharedNote(note);
      this.field("family-status", running ? "Working on it now!" : s.session
        ? "Taking a short break between exercises" : "No session right now. Here is how it has gone so far.");
      this.field("exercise", running ? (this.names[s.exercise] || label(s.exercise)) +
        (s.surface ? " — on the " + label(s.surface).toLowerCase() : "") : "");
    }
    this.tick();
  };

  // A family keeps every note shared with it: a later private note (not sent to the
  // family) or a new shared one never takes an earlier one away.
  Session.prototype.keepSharedNote = function (note) {
    var list = $(this.root, "[data-live-notes]");
    if (!list || !note || note.t === undefined) { return; }
    var key = Number(note.t).toFixed(3);
    if (list.querySelector('li[data-t="' + key + '"]')) { return; }
    var item = document.createElement("li");
    item.setAttribute("data-t", key);
    item.textContent = note.text || label(note.tag);
    list.appendChild(item);
  };

  Session.prototype.showScore = function (score) {
    var bar = $(this.root, "[data-live-gauge]");
    this.field("score", score === null ? "–" : String(Math.round(score)));
    this.field("score-words", score === null ? "" : score >= 66 ? "Very steady!"
      : score >= 33 ? "Nice and steady" : "Wobbly right now — that is how balance grows");
    if (bar) {
      bar.style.width = (score === null ? 0 : Math.max(2, Math.min(100, score))) + "%";
      bar.setAttribute("data-level", score === null ? "none" : score >= 66 ? "high" : score >= 33 ? "mid" : "low");
    }
  };

  Session.prototype.tick = function () {
    var s = this.state;
    if (s && s.set && s.set_started_t) {
      var secs = Math.max(0, Math.floor(Date.now() / 1000 - s.set_started_t));
      this.field("timer", Math.floor(secs / 60) + ":" + pad(secs % 60));
    } else {
      this.field("timer", "0:00");
    }
    this.lights();
  };

  var LABELS = { online: "online", stale: "no data", offline: "offline" };

  Session.prototype.lights = function () {
    var box = $(this.root, "[data-live-lights]");
    if (!box) { return; }
    var now = Date.now();
    for (var name in this.devices) {
      var d = this.devices[name];
      var state = d.state, reason = d.reason;
      var silent = d.lastData ? now - d.lastData : 0;
      if (state !== "offline" && silent > STALE_MS) {
        state = silent > OFFLINE_MS ? "offline" : "stale";
        reason = "no data for " + (silent / 1000).toFixed(0) + " s";
      }
      if (!d.el) {
        d.el = document.createElement("span");
        d.el.className = "light";
        d.el.setAttribute("data-device", name);
        box.appendChild(d.el);
      }
      var text = name + " · " + LABELS[state] + (reason && state !== "online" ? " (" + reason + ")" : "");
      if (d.el.getAttribute("data-state") !== state || d.el.textContent !== text) {
        d.el.setAttribute("data-state", state);
        d.el.title = reason;
        d.el.textContent = text;
      }
    }
  };

  Session.prototype.key = function (ev) {
    var target = ev.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) { return; }
    var action = null;
    if (ev.key === " ") { action = { action: "rep", delta: 1 }; }
    else if (ev.key === "Backspace") { action = { action: "rep", delta: -1 }; }
    else if (ev.key === "s" || ev.key === "S") { action = { action: "toggle-set" }; }
    if (!action) { return; }
    ev.preventDefault();
    var self = this;
    fetch("/api/rooms/" + encodeURIComponent(this.room) + "/actions", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(action), credentials: "same-origin"
    }).then(function (r) { return r.json(); }).then(function (body) {
      if (body.error) { self.banner("notice", body.error); setTimeout(function () { self.banner("live", ""); }, 3000); }
    });
  };

  function check() {
    var root = document.querySelector("[data-live-room], [data-live-family]");
    if (active && active.root !== root) { active.close(); active = null; }
    if (root && !active) { active = new Session(root); }
  }

  new MutationObserver(check).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", check);
})();
