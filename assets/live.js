/* DMI Live — live wall screen.
 *
 * Opens the room's server-sent-event stream and extends the plotly traces in the
 * browser, at most once per animation frame, merging every frame that arrived in
 * between. No Dash callback runs per frame. Exposes counters on window.dmiLive for
 * tests and benchmarks.
 */
(function () {
  "use strict";

  var MAX_POINTS = 1000;      // 10 s at 100 Hz
  var STALE_MS = 1000;        // no data for 1 s → stale
  var stats = { frames: 0, draws: 0, points: {}, lastHostT: 0, latencies: [] };
  window.dmiLive = stats;
  var active = null;

  function plot(id) {
    var el = document.getElementById(id);
    return el ? el.querySelector(".js-plotly-plot") : null;
  }

  function Session(root) {
    this.root = root;
    this.room = root.getAttribute("data-live-room");
    this.t0 = null;
    this.devices = {};
    this.pending = { copX: [], copY: [], tiltT: [], pitch: [], roll: [], newestHostT: 0 };
    this.scheduled = false;
    this.closed = false;
    this.open();
    this.timer = setInterval(this.refreshLights.bind(this), 250);
  }

  Session.prototype.open = function () {
    var self = this;
    this.es = new EventSource("/live/" + encodeURIComponent(this.room) + "/stream");
    this.es.onopen = function () { self.banner("live", ""); };
    this.es.onerror = function () {
      if (!self.closed) { self.banner("down", "Live stream lost — reconnecting…"); }
    };
    this.es.onmessage = function (ev) { self.onFrame(JSON.parse(ev.data)); };
  };

  Session.prototype.close = function () {
    this.closed = true;
    this.es.close();
    clearInterval(this.timer);
  };

  Session.prototype.banner = function (state, text) {
    var el = document.getElementById("wall-connection-banner");
    if (!el) { return; }
    el.setAttribute("data-state", state);
    el.textContent = text;
  };

  Session.prototype.device = function (name, kind) {
    var d = this.devices[name];
    if (!d) {
      d = this.devices[name] = { name: name, kind: kind, state: "online", reason: "",
                                 placement: "", lastData: 0, el: null };
    }
    return d;
  };

  Session.prototype.onFrame = function (frame) {
    stats.frames += 1;
    var now = Date.now();
    for (var name in frame.devices) {
      var entry = frame.devices[name];
      var d = this.device(name, entry.kind);
      if (entry.status) {
        d.state = entry.status.state;
        d.reason = entry.status.reason || "";
        d.placement = entry.status.placement || "";
        d.rejects = entry.status.rejects || 0;
      }
      if (entry.t && entry.t.length) {
        d.lastData = now;
        if (d.state !== "online") { d.state = "online"; d.reason = ""; }
        stats.points[name] = (stats.points[name] || 0) + entry.t.length;
        this.queue(d, entry);
      }
    }
    this.refreshLights();
    this.schedule();
  };

  Session.prototype.queue = function (d, entry) {
    var p = this.pending;
    var newest = entry.t[entry.t.length - 1];
    if (newest > p.newestHostT) { p.newestHostT = newest; }
    if (this.t0 === null) { this.t0 = entry.t[0]; }
    if (d.kind === "board") {
      Array.prototype.push.apply(p.copX, entry.ml);
      Array.prototype.push.apply(p.copY, entry.ap);
    } else if (d.kind === "imu" && (d.placement === "trunk" || !this.tiltDevice)) {
      this.tiltDevice = this.tiltDevice || d.name;
      if (this.tiltDevice !== d.name) { return; }
      var t0 = this.t0;
      Array.prototype.push.apply(p.tiltT, entry.t.map(function (t) { return +(t - t0).toFixed(3); }));
      Array.prototype.push.apply(p.pitch, entry.pitch);
      Array.prototype.push.apply(p.roll, entry.roll);
    }
  };

  Session.prototype.schedule = function () {
    if (this.scheduled) { return; }
    this.scheduled = true;
    window.requestAnimationFrame(this.draw.bind(this));
  };

  Session.prototype.draw = function () {
    this.scheduled = false;
    if (this.closed || !window.Plotly) { return; }
    var p = this.pending;
    var cop = plot("wall-cop-graph");
    var tilt = plot("wall-tilt-graph");
    var drew = false;
    if (cop && p.copX.length) {
      window.Plotly.extendTraces(cop, { x: [p.copX], y: [p.copY] }, [0], MAX_POINTS);
      p.copX = []; p.copY = []; drew = true;
    }
    if (tilt && p.tiltT.length) {
      window.Plotly.extendTraces(tilt, { x: [p.tiltT, p.tiltT], y: [p.pitch, p.roll] },
                                 [0, 1], MAX_POINTS);
      p.tiltT = []; p.pitch = []; p.roll = []; drew = true;
    }
    if (drew) {
      stats.draws += 1;
      if (p.newestHostT) {
        stats.lastHostT = p.newestHostT;
        stats.latencies.push(Date.now() - p.newestHostT * 1000);
        if (stats.latencies.length > 5000) { stats.latencies.shift(); }
        p.newestHostT = 0;
      }
    }
  };

  var LABELS = { online: "online", stale: "no data", offline: "offline" };

  Session.prototype.refreshLights = function () {
    var box = document.getElementById("wall-device-lights");
    if (!box) { return; }
    var now = Date.now();
    for (var name in this.devices) {
      var d = this.devices[name];
      var state = d.state;
      var reason = d.reason;
      if (state === "online" && d.lastData && now - d.lastData > STALE_MS) {
        state = "stale";
        reason = "no data for " + ((now - d.lastData) / 1000).toFixed(0) + " s";
      }
      if (!d.el) {
        d.el = document.createElement("span");
        d.el.className = "light";
        d.el.setAttribute("data-device", name);
        box.appendChild(d.el);
      }
      if (d.el.getAttribute("data-state") !== state || d.el.title !== reason) {
        d.el.setAttribute("data-state", state);
        d.el.title = reason;
        d.el.textContent = name + " · " + LABELS[state] + (reason && state !== "online" ? " (" + reason + ")" : "");
      }
    }
  };

  function check() {
    var root = document.querySelector("[data-live-room]");
    if (active && active.root !== root) { active.close(); active = null; }
    if (root && !active) { active = new Session(root); }
  }

  new MutationObserver(check).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", check);
})();
