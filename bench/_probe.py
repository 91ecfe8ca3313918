"""What ``bench/live_latency.py`` measures with: Debian's Chromium and its flags, the
scripts that watch a page's draws (the wall's, the ``dcc.Interval`` baseline's), and the
CPU and main-thread counters of the processes involved."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import psutil

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--enable-precise-memory-info",
]
VIEWPORT = {"width": 1920, "height": 1080}

# Runs before the page's scripts: watches the wall's event stream (the oldest and newest
# sample of what each draw applies, server and network shares) without touching live.js.
WALL_PROBE = """
(function () {
  var Native = window.EventSource;
  if (!Native) { return; }
  var b = window.dmiBench = { frames: 0, bytes: 0, draws: 0, tiltDevice: null,
                              newest: [], oldest: [], srv: [], net: [] };
  var acc = null;
  function cap(a) { if (a.length > 100000) { a.shift(); } }
  function Probe(url, opts) {
    var es = new Native(url, opts);
    es.addEventListener("message", function (ev) {
      var recv = Date.now();
      b.frames += 1; b.bytes += ev.data.length;
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      var lo = Infinity, hi = 0;
      for (var k in f.devices || {}) {
        var d = f.devices[k], t = d.t;
        if (!t || !t.length) { continue; }
        // drawn devices only: the board, and the first IMU (as live.js picks it)
        if (d.kind === "imu") {
          b.tiltDevice = b.tiltDevice || k;
          if (b.tiltDevice !== k) { continue; }
        }
        lo = Math.min(lo, t[0]); hi = Math.max(hi, t[t.length - 1]);
      }
      if (!hi) { return; }
      b.srv.push(f.now * 1000 - hi * 1000); cap(b.srv);
      b.net.push(recv - f.now * 1000); cap(b.net);
      if (!acc) { acc = { lo: lo, hi: hi }; }
      else { acc.lo = Math.min(acc.lo, lo); acc.hi = Math.max(acc.hi, hi); }
    });
    return es;
  }
  Probe.prototype = Native.prototype;
  Probe.CONNECTING = 0; Probe.OPEN = 1; Probe.CLOSED = 2;
  window.EventSource = Probe;
  // live.js pushes to dmiLive.latencies once per draw that had new samples: record ours then
  function record() {
    if (!acc) { return; }
    var now = Date.now();
    b.draws += 1;
    b.newest.push(now - acc.hi * 1000); cap(b.newest);
    b.oldest.push(now - acc.lo * 1000); cap(b.oldest);
    acc = null;
  }
  var stats;
  Object.defineProperty(window, "dmiLive", {
    configurable: true,
    get: function () { return stats; },
    set: function (value) {
      stats = value;
      var push = value.latencies.push;
      value.latencies.push = function () { record(); return push.apply(this, arguments); };
    }
  });
})();
"""

WALL_RESET = """() => {
  const s = window.dmiLive, b = window.dmiBench;
  for (const a of [s.latencies, s.drawMs, b.newest, b.oldest, b.srv, b.net]) { a.length = 0; }
  return {draws: s.draws, frames: b.frames, bytes: b.bytes, at: performance.now()};
}"""
WALL_READ = """() => {
  const s = window.dmiLive, b = window.dmiBench;
  return {draws: s.draws, frames: b.frames, bytes: b.bytes, at: performance.now(),
          latencies: s.latencies.slice(), drawMs: s.drawMs.slice(), newest: b.newest.slice(),
          oldest: b.oldest.slice(), srv: b.srv.slice(), net: b.net.slice(),
          heap: performance.memory ? performance.memory.usedJSHeapSize : null};
}"""
BASE_RESET = """() => {
  const b = window.dmiBaseline;
  b.flush();
  for (const a of [b.latencies, b.oldest, b.drawMs]) { a.length = 0; }
  return {draws: b.updates, calls: b.draws, repeats: b.repeats, at: performance.now()};
}"""
BASE_READ = """() => {
  const b = window.dmiBaseline;
  b.flush();
  return {draws: b.updates, calls: b.draws, repeats: b.repeats, at: performance.now(),
          latencies: b.latencies.slice(), oldest: b.oldest.slice(), drawMs: b.drawMs.slice()};
}"""


@dataclass
class Cpu:
    """CPU seconds of this process, its Chromium processes, the broker and the machine."""

    at: float
    server: float
    browser: dict[int, float]
    ingest: dict[int, float]
    broker: float
    machine: float

    @classmethod
    def now(cls, broker_pid: int | None) -> Cpu:
        me = psutil.Process()
        t = me.cpu_times()
        browser: dict[int, float] = {}
        ingest: dict[int, float] = {}
        for child in me.children(recursive=True):
            try:
                c = child.cpu_times()
                (browser if "chrom" in child.name() else ingest)[child.pid] = c.user + c.system
            except psutil.Error:
                continue
        broker = 0.0
        if broker_pid is not None:
            try:
                c = psutil.Process(broker_pid).cpu_times()
                broker = c.user + c.system
            except psutil.Error:
                pass
        m = psutil.cpu_times()
        machine = sum(m) - m.idle - getattr(m, "iowait", 0.0)
        return cls(time.monotonic(), t.user + t.system, browser, ingest, broker, machine)

    def pct_since(self, start: Cpu) -> dict[str, float]:
        span = self.at - start.at
        browser = sum(v - start.browser.get(pid, 0.0) for pid, v in self.browser.items())
        ingest = sum(v - start.ingest.get(pid, 0.0) for pid, v in self.ingest.items())
        out = {"server": 100 * (self.server - start.server) / span,
               "browser": 100 * browser / span, "ingest": 100 * ingest / span,
               "broker": 100 * (self.broker - start.broker) / span}
        out["others"] = 100 * (self.machine - start.machine) / span - sum(out.values())
        return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


MAIN_THREAD = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


def main_thread(cdp: Any) -> dict[str, float]:
    """Cumulative main-thread seconds of the page (CDP ``Performance.getMetrics``)."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {k: float(metrics.get(k, 0.0)) for k in MAIN_THREAD}


def main_thread_pct(start: dict[str, float], end: dict[str, float], span: float,
                    prefix: str = "") -> dict[str, float]:
    names = {"TaskDuration": "busy", "ScriptDuration": "script", "LayoutDuration": "layout",
             "RecalcStyleDuration": "style"}
    return {f"{prefix}main_{names[k]}_pct": 100 * (end[k] - start[k]) / span for k in MAIN_THREAD}
