"""Live wall latency and update rate in real headless Chromium, against a polling baseline.

Everything runs on free ports with a temp data folder: a real Mosquitto, the dashboard
(this process), and an ingest of one board and three IMUs (trunk, pelvis, head) at 100 Hz
in a process of its own, as a clinic runs it (``--ingest-in-process``: in this one, as
the demo does). The ingest sends two streams: stored batches (25 samples or 500 ms, QoS 1,
spooled; the wall never waits for them) and live frames (QoS 0, every 20 ms per device:
centre of pressure and load, trunk pitch and roll, computed once at the ingest), which
the hub relays to the wall's server-sent-event stream. Debian's Chromium (never a
downloaded one) opens the kiosk wall link at 1920×1080; after a warm-up the page is
measured for ``--seconds``. In the same run a plain Dash page (``bench/baseline_app.py``:
a ``dcc.Interval`` callback returning ``extendData`` for the same two graphs, reading the
same hub's ring buffers) is measured the same way.

Latency, per drawn update (``Date.now()`` and the samples' host ``time.time()`` share
the machine's clock; "samples" are the points of the live frames, boards at 50 Hz and
IMUs at 25 Hz):

- newest (the figure the targets apply to): host timestamp of the newest sample in the
  data a draw applies → the end of that draw call (before the browser paints). For the
  wall, ``p50_ms``/``p95_ms`` are what ``assets/live.js`` records in
  ``window.dmiLive.latencies``, which counts samples of every device in the merged
  frames, drawn or not (the wall draws the board and one IMU of four devices);
  ``drawn_p50_ms``/``drawn_p95_ms`` count only the drawn devices, as the baseline does
  (taken when live.js records a draw; exact while live.js records synchronously).
- oldest: the same for the oldest drawn sample in that data (a frame spans 20–40 ms).

Updates per second: draws per second (the wall: animation frames that redrew a plot;
the baseline: callback responses whose graph updates completed). Targets (issue 15): wall
p95 <= 50 ms at >= 30 updates/s, and >= 2x the baseline's updates/s. Server CPU is this
process (hub, both web servers) in % of one core, ingest the ingest process; "other
processes" is the rest of the machine, which makes any figure here noisy when it is not
small.

    .venv/bin/python bench/live_latency.py                     # ~1.5 min
    .venv/bin/python bench/live_latency.py --seconds 60 --baseline-interval-ms 100
    .venv/bin/python bench/live_latency.py --ingest-in-process # as the demo runs
    .venv/bin/python bench/live_latency.py --live-js /tmp/live.js   # a changed copy
    .venv/bin/python bench/live_latency.py --soak-minutes 30   # memory soak, wall only

The last line is ``key=value`` figures: ``p50_ms p95_ms updates_per_s … baseline_p95_ms
baseline_updates_per_s … speedup``; with ``--soak-minutes`` it is ``server_rss_growth_pct
js_heap_growth_pct minutes …`` (first reading after warm-up against the last, each after
a forced garbage collection: Python ``gc.collect()``, CDP ``HeapProfiler.collectGarbage``).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._probe import (  # noqa: E402
    BASE_READ,
    BASE_RESET,
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    WALL_PROBE,
    WALL_READ,
    WALL_RESET,
    Cpu,
    main_thread,
    main_thread_pct,
    pct,
)
from bench._stack import Stack, start_stack  # noqa: E402
from dmi_live.demo import STORED_BATCHING  # noqa: E402
from ingest.service import BatchPolicy  # noqa: E402


def wall_context(browser: Any, live_js: Path | None) -> Any:
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(WALL_PROBE)
    if live_js is not None:  # a private copy of assets/live.js, to measure a change
        body = live_js.read_text()
        context.route("**/assets/live.js*",
                      lambda route: route.fulfill(body=body, content_type="text/javascript"))
    return context


def measure_wall(browser: Any, stack: Stack, *, warmup: float, seconds: float,
                 live_js: Path | None = None) -> dict[str, float]:
    context = wall_context(browser, live_js)
    page = context.new_page()
    try:
        page.goto(stack.wall_url)
        page.wait_for_function("() => window.dmiLive && window.dmiLive.draws > 5", timeout=30_000)
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.wait_for_timeout(warmup * 1000)
        start, cpu0 = page.evaluate(WALL_RESET), Cpu.now(stack.broker_pid())
        busy0 = main_thread(cdp)
        page.wait_for_timeout(seconds * 1000)
        end, cpu1 = page.evaluate(WALL_READ), Cpu.now(stack.broker_pid())
        busy1 = main_thread(cdp)
    finally:
        context.close()
    span = (end["at"] - start["at"]) / 1000
    frames = end["frames"] - start["frames"]
    cpu = cpu1.pct_since(cpu0)
    return {
        "p50_ms": pct(end["latencies"], 50), "p95_ms": pct(end["latencies"], 95),
        "max_ms": float(max(end["latencies"], default=float("nan"))),
        "updates_per_s": (end["draws"] - start["draws"]) / span,
        "oldest_p50_ms": pct(end["oldest"], 50), "oldest_p95_ms": pct(end["oldest"], 95),
        "drawn_p50_ms": pct(end["newest"], 50), "drawn_p95_ms": pct(end["newest"], 95),
        "server_share_p50_ms": pct(end["srv"], 50), "server_share_p95_ms": pct(end["srv"], 95),
        "net_share_p50_ms": pct(end["net"], 50), "net_share_p95_ms": pct(end["net"], 95),
        "draw_p50_ms": pct(end["drawMs"], 50), "draw_p95_ms": pct(end["drawMs"], 95),
        "frames_per_s": frames / span,
        "frame_bytes": (end["bytes"] - start["bytes"]) / max(frames, 1),
        "server_cpu_pct": cpu["server"], "browser_cpu_pct": cpu["browser"],
        "ingest_cpu_pct": cpu["ingest"], "broker_cpu_pct": cpu["broker"],
        "other_processes_cpu_pct": cpu["others"],
        **main_thread_pct(busy0, busy1, span),
        "draws": len(end["latencies"]),
    }


def measure_baseline(browser: Any, stack: Stack, *, warmup: float, seconds: float
                     ) -> dict[str, float]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(stack.baseline_url or "")
        page.wait_for_function("() => window.dmiBaseline && window.dmiBaseline.updates > 5",
                               timeout=30_000)
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.wait_for_timeout(warmup * 1000)
        cursors = stack.baseline_cursors
        start, cpu0 = page.evaluate(BASE_RESET), Cpu.now(stack.broker_pid())
        req0, behind0 = cursors.requests, cursors.behind
        busy0 = main_thread(cdp)
        page.wait_for_timeout(seconds * 1000)
        end, cpu1 = page.evaluate(BASE_READ), Cpu.now(stack.broker_pid())
        busy1 = main_thread(cdp)
        req1, behind1 = cursors.requests, cursors.behind
    finally:
        context.close()
    span = (end["at"] - start["at"]) / 1000
    cpu = cpu1.pct_since(cpu0)
    return {
        "baseline_p50_ms": pct(end["latencies"], 50), "baseline_p95_ms": pct(end["latencies"], 95),
        "baseline_updates_per_s": (end["draws"] - start["draws"]) / span,
        "baseline_oldest_p50_ms": pct(end["oldest"], 50),
        "baseline_oldest_p95_ms": pct(end["oldest"], 95),
        "baseline_draw_p50_ms": pct(end["drawMs"], 50),
        "baseline_draw_p95_ms": pct(end["drawMs"], 95),
        "baseline_server_cpu_pct": cpu["server"], "baseline_browser_cpu_pct": cpu["browser"],
        "baseline_other_processes_cpu_pct": cpu["others"],
        "baseline_requests_per_s": (req1 - req0) / span,
        "baseline_behind_pct": 100 * (behind1 - behind0) / max(req1 - req0, 1),
        "baseline_repeated_updates": end["repeats"] - start["repeats"],
        **main_thread_pct(busy0, busy1, span, "baseline_"),
    }


def rss_kb(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def soak(browser: Any, stack: Stack, *, minutes: float, warmup: float, every: float,
         live_js: Path | None = None) -> dict[str, float]:
    context = wall_context(browser, live_js)
    page = context.new_page()
    readings: list[tuple[float, int, int]] = []
    try:
        page.goto(stack.wall_url)
        page.wait_for_function("() => window.dmiLive && window.dmiLive.draws > 5", timeout=30_000)
        cdp = context.new_cdp_session(page)
        page.wait_for_timeout(warmup * 1000)
        started = time.monotonic()
        mark, cpu0 = page.evaluate(WALL_RESET), Cpu.now(stack.broker_pid())
        print(f"{'min':>6} {'server_rss_MB':>13} {'js_heap_MB':>10} {'broker_rss_MB':>13} "
              f"{'updates/s':>9} {'p95_ms':>7} {'server_cpu%':>11}", flush=True)
        while True:
            gc.collect()
            server = rss_kb()
            cdp.send("HeapProfiler.collectGarbage")
            heap = int(cdp.send("Runtime.getHeapUsage")["usedSize"])
            end, cpu1 = page.evaluate(WALL_READ), Cpu.now(stack.broker_pid())
            pid = stack.broker_pid()
            broker = rss_kb(pid) if pid else 0
            elapsed = (time.monotonic() - started) / 60
            readings.append((elapsed, server, heap))
            span = (end["at"] - mark["at"]) / 1000
            rates = (f"{(end['draws'] - mark['draws']) / span:9.1f} "
                     f"{pct(end['latencies'], 95):7.1f} {cpu1.pct_since(cpu0)['server']:11.1f}"
                     if span > 1 else f"{'-':>9} {'-':>7} {'-':>11}")
            print(f"{elapsed:6.1f} {server / 1024:13.1f} {heap / 2**20:10.2f} "
                  f"{broker / 1024:13.1f} {rates}", flush=True)
            if elapsed >= minutes:
                break
            mark, cpu0 = page.evaluate(WALL_RESET), Cpu.now(stack.broker_pid())
            page.wait_for_timeout(min(every, (minutes - elapsed) * 60 + 0.5) * 1000)
    finally:
        context.close()
    (t0, rss0, heap0), (t1, rss1, heap1) = readings[0], readings[-1]
    return {"server_rss_growth_pct": 100 * (rss1 - rss0) / rss0,
            "js_heap_growth_pct": 100 * (heap1 - heap0) / heap0,
            "minutes": t1 - t0,
            "server_rss_first_mb": rss0 / 1024, "server_rss_last_mb": rss1 / 1024,
            "js_heap_first_mb": heap0 / 2**20, "js_heap_last_mb": heap1 / 2**20}


def figures_line(values: dict[str, float]) -> str:
    def fmt(v: float) -> str:
        return str(v) if isinstance(v, int) else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
    return " ".join(f"{k}={fmt(v)}" for k, v in values.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured time per page")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--baseline-interval-ms", type=int, default=40)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--ingest-in-process", action="store_true",
                        help="run the ingest in this process (as the demo does)")
    parser.add_argument("--batch-size", type=int, default=STORED_BATCHING.batch_size,
                        help="ingest batch of stored samples; default: the demo's")
    parser.add_argument("--max-latency-ms", type=float,
                        default=STORED_BATCHING.max_latency * 1000,
                        help="ingest: a batch leaves after this long even when not full")
    parser.add_argument("--live-js", type=Path,
                        help="serve this file instead of assets/live.js (to measure a change)")
    parser.add_argument("--soak-minutes", type=float, default=0.0,
                        help="memory soak of the wall for this long (no latency comparison)")
    parser.add_argument("--soak-warmup", type=float, default=60.0,
                        help="seconds before the soak's first memory reading")
    parser.add_argument("--sample-every", type=float, default=60.0,
                        help="seconds between soak readings")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 2
    soaking = args.soak_minutes > 0
    with tempfile.TemporaryDirectory(prefix="dmi-bench-") as tmp:
        stack = start_stack(Path(tmp), baseline=not (soaking or args.no_baseline),
                            baseline_interval_ms=args.baseline_interval_ms,
                            policy=BatchPolicy(args.batch_size, args.max_latency_ms / 1000),
                            ingest_process=not args.ingest_in_process)
        try:
            if not stack.wait_for_devices():
                print("the hub did not receive all four devices", file=sys.stderr)
                return 1
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    where = "this process" if args.ingest_in_process else "its own process"
                    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
                          f"Chromium {browser.version}, software rendering; board + 3 IMUs at "
                          f"100 Hz, ingest in {where}: live frames every 20 ms, stored "
                          f"batches of {args.batch_size} samples / {args.max_latency_ms:.0f} ms",
                          flush=True)
                    if soaking:
                        result = soak(browser, stack, minutes=args.soak_minutes,
                                      warmup=args.soak_warmup, every=args.sample_every,
                                      live_js=args.live_js)
                        print(figures_line(result))
                        return 0
                    result = measure_wall(browser, stack, warmup=args.warmup,
                                          seconds=args.seconds, live_js=args.live_js)
                    report_wall(result, args.seconds)
                    if not args.no_baseline:
                        base = measure_baseline(browser, stack, warmup=args.warmup,
                                                seconds=args.seconds)
                        report_baseline(base, args.baseline_interval_ms)
                        result.update(base)
                        result["speedup"] = (result["updates_per_s"]
                                             / max(base["baseline_updates_per_s"], 1e-9))
                    print(figures_line(result))
                finally:
                    browser.close()
        finally:
            stack.stop()
    return 0


def report_wall(r: dict[str, float], seconds: float) -> None:
    print(f"wall (SSE + live.js), {seconds:.0f} s, {r['draws']} draws:")
    print(f"  newest-sample latency  p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, "
          f"max {r['max_ms']:.1f} ms   (live.js; target p95 <= 50 ms)")
    print(f"  same, drawn devices only  p50 {r['drawn_p50_ms']:.1f} ms, "
          f"p95 {r['drawn_p95_ms']:.1f} ms")
    print(f"  oldest-sample latency  p50 {r['oldest_p50_ms']:.1f} ms, "
          f"p95 {r['oldest_p95_ms']:.1f} ms   (includes the live frame's span)")
    print(f"  shares of newest: sample → frame sent p50 {r['server_share_p50_ms']:.1f} / "
          f"p95 {r['server_share_p95_ms']:.1f} ms; frame sent → received p50 "
          f"{r['net_share_p50_ms']:.1f} / p95 {r['net_share_p95_ms']:.1f} ms")
    print(f"  updates {r['updates_per_s']:.1f}/s (target >= 30), frames {r['frames_per_s']:.1f}/s "
          f"of {r['frame_bytes']:.0f} B, draw p50 {r['draw_p50_ms']:.1f} ms / "
          f"p95 {r['draw_p95_ms']:.1f} ms")
    print(f"  page main thread busy {r['main_busy_pct']:.0f} % (script "
          f"{r['main_script_pct']:.0f}, layout {r['main_layout_pct']:.0f}, style "
          f"{r['main_style_pct']:.0f}; the rest is paint and other tasks)")
    print(f"  CPU (% of one core): server {r['server_cpu_pct']:.0f}, browser "
          f"{r['browser_cpu_pct']:.0f}, ingest {r['ingest_cpu_pct']:.0f}, broker "
          f"{r['broker_cpu_pct']:.0f}, other processes on the machine "
          f"{r['other_processes_cpu_pct']:.0f}", flush=True)


def report_baseline(r: dict[str, float], interval_ms: int) -> None:
    print(f"baseline (dcc.Interval {interval_ms} ms → extendData):")
    print(f"  newest-sample latency  p50 {r['baseline_p50_ms']:.1f} ms, "
          f"p95 {r['baseline_p95_ms']:.1f} ms; oldest p50 {r['baseline_oldest_p50_ms']:.1f} / "
          f"p95 {r['baseline_oldest_p95_ms']:.1f} ms")
    print(f"  updates {r['baseline_updates_per_s']:.1f}/s of {r['baseline_requests_per_s']:.1f} "
          f"requests/s ({r['baseline_behind_pct']:.1f} % sent a cursor behind what was served; "
          f"{r['baseline_repeated_updates']} tilt updates redrew rows already drawn)")
    print(f"  extendTraces p50 {r['baseline_draw_p50_ms']:.1f} / "
          f"p95 {r['baseline_draw_p95_ms']:.1f} ms")
    print(f"  page main thread busy {r['baseline_main_busy_pct']:.0f} % (script "
          f"{r['baseline_main_script_pct']:.0f}, layout {r['baseline_main_layout_pct']:.0f}, "
          f"style {r['baseline_main_style_pct']:.0f})")
    print(f"  CPU (% of one core): server {r['baseline_server_cpu_pct']:.0f}, browser "
          f"{r['baseline_browser_cpu_pct']:.0f}, other processes on the machine "
          f"{r['baseline_other_processes_cpu_pct']:.0f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
