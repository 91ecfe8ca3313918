"""Replay speed on a real-sized session: 45 minutes, a balance board and three IMUs
(trunk, pelvis, head) at 100 Hz — about 1.1 million samples — with 25 sets, their reps
and annotations, written through ``store.insert_batches`` / ``store.apply_event`` in
batches of ``--rows`` samples (25, as a device sends them: 43,200 stored batches).

Measures what the server does for the replay page — the router's page function
(``dashboard.routes.resolve_page``: authorise, load through dashboard.cache, audit, build
the layout and its figures), serialised as Dash sends it:

- cold open: empty cache — read the board's samples and derive COP, read the trunk
  IMU's tilt and the other IMUs' overviews as the record service stored them when the
  session ended (:func:`review.replay_views.prepare`; the open of a session not
  prepared, which works them out from the samples and stores them, is printed apart),
  per-set metrics, the display-resolution timeline, the page. The process has served
  another session's replay page before (a one-minute session over the same devices), as
  a running server has: imports, the first connection and query compilation are paid
  once per process, not per session; that first page is timed and printed apart;
- warm open: the same page again (everything memoized);
- zoom: a new zoom range (not cached before), MinMaxLTTB at display resolution (the
  other IMUs from their overview, or from their samples for the shortest zooms).

    .venv/bin/python bench/replay.py [--db FILE|URL] [--cache redis://127.0.0.1:6379/15]
                                     [--rows 25]

The last line is ``samples=… cold_open_s=… warm_open_s=… zoom_s=…`` (zoom: the median
of several zooms; the slowest is printed above it), wall-clock; the line before it gives
the CPU time of the cold open and of a zoom, which a loaded machine does not inflate.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contract import Event, SampleBatch  # noqa: E402
from ingest.devices.board import corners_from_cop  # noqa: E402
from store import Store, open_store  # noqa: E402

FS = 100.0
MINUTES = 45
SESSION = "bench-replay"
WARMUP = "bench-warmup"
T0 = 1_767_600_000.0
EXERCISES = ("sit-to-stand-foam", "stand-foam-pad", "weight-shift-lateral-foam",
             "squat-ladder-rungs", "step-onto-block")
SUPPORTS = ("trunk", "pelvis", "thigh", "knee", "shank", "ankle-foot", "none")


ROWS = [25]  # per batch (--rows)


def _batches(device: str, kind: str, columns: tuple[str, ...], values: np.ndarray
             ) -> list[SampleBatch]:
    out = []
    size = ROWS[0]
    for i in range(0, len(values), size):
        rows = tuple(map(tuple, values[i:i + size].tolist()))
        out.append(SampleBatch(device, kind, f"{device}-b1", i, i / FS, 1 / FS,  # type: ignore[arg-type]
                               T0 + i / FS, columns, rows))
    return out


def create_session(store: Store) -> int:
    n = int(MINUTES * 60 * FS)
    t = np.arange(n) / FS
    rng = np.random.default_rng(7)
    walk = np.cumsum(rng.normal(0, 0.02, (n, 2)), axis=0)
    walk -= np.convolve(walk[:, 0], np.ones(500) / 500, "same")[:, None] * 0
    ml = 1.2 * np.sin(2 * np.pi * 0.25 * t) + 0.3 * np.tanh(walk[:, 0])
    ap = 0.8 * np.sin(2 * np.pi * 0.17 * t + 1) - 2 + 0.3 * np.tanh(walk[:, 1])
    total = 18 + 0.3 * rng.standard_normal(n)
    off = (t % 110) > 100  # steps off the board between sets
    total[off] = 0.3
    store.upsert_device("demo", "room-1", "board-1", "board", "under-feet")
    batches = _batches("board-1", "board", ("fl", "fr", "bl", "br"),
                       corners_from_cop(total, ap, ml))
    for k, placement in enumerate(("trunk", "pelvis", "head")):
        lean = np.radians((6 - k) * np.sin(2 * np.pi * 0.2 * t + k))
        acc = np.column_stack([-np.sin(lean), 0.02 * rng.standard_normal(n), np.cos(lean)])
        gyr = np.column_stack([rng.normal(0, 0.5, n), np.degrees(np.gradient(lean, 1 / FS)),
                               rng.normal(0, 0.5, n)])
        device = f"imu-{placement}"
        store.upsert_device("demo", "room-1", device, "imu", placement)
        batches += _batches(device, "imu", ("ax", "ay", "az", "gx", "gy", "gz"),
                            np.column_stack([acc, gyr]))
    inserted = 0
    per_call = max(1, 5000 // ROWS[0])
    for i in range(0, len(batches), per_call):
        inserted += store.insert_batches(batches[i:i + per_call]).inserted
    events = [Event("session_start", T0, session=SESSION, author="ana",
                    data={"child": "c-bench"}, id=f"{SESSION}-start")]
    for s in range(25):
        start, end = T0 + 5 + s * 106, T0 + 5 + s * 106 + 95
        sid = f"{SESSION}-set{s}"
        events.append(Event("set_start", start, session=SESSION, set=sid, author="ana",
                            id=f"{sid}-a", data={"exercise": EXERCISES[s % 5], "surface":
                                                 "foam-pad", "support": SUPPORTS[s * 7 // 25],
                                                 "planned_reps": 6}))
        events += [Event("rep", start + 10 + 14 * r, session=SESSION, set=sid, author="ana",
                         id=f"{sid}-r{r}", data={"delta": 1, "source": "auto" if r % 3 else
                                                 "manual"}) for r in range(6)]
        if s % 4 == 0:
            events.append(Event("tag", start + 30, session=SESSION, set=sid, author="ana",
                                id=f"{sid}-tag", data={"tag": "fatigue"}))
        events.append(Event("set_end", end, session=SESSION, set=sid, author="ana",
                            id=f"{sid}-z"))
    events.append(Event("session_end", T0 + n / FS - 1 / FS, session=SESSION, author="ana",
                        id=f"{SESSION}-end"))
    # a one-minute session over the same devices: the page a fresh process opens first
    events += [Event("session_start", T0 + 1, session=WARMUP, author="ana",
                     data={"child": "c-bench"}, id=f"{WARMUP}-start"),
               Event("session_end", T0 + 61, session=WARMUP, author="ana", id=f"{WARMUP}-end")]
    store.add_child("c-bench", "")
    for event in events:
        store.apply_event("demo", "room-1", event)
    return inserted


def prepared(store: Store) -> bool:
    """Whether the session's tilt is stored (by the record service or an earlier open)."""
    from review.replay_data import TILT_SERIES, load_meta, stored_series

    meta = load_meta(store, SESSION)
    assert meta.tilt_imu is not None
    return stored_series(store, meta, meta.tilt_imu.device, TILT_SERIES) is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="database file or postgresql+psycopg:// URL (the session "
                        "is created when missing; default: a temporary SQLite file)")
    parser.add_argument("--cache", default="simple", help="simple or a redis:// URL")
    parser.add_argument("--zooms", type=int, default=8)
    parser.add_argument("--rows", type=int, default=25, help="samples a stored batch (25)")
    args = parser.parse_args(argv)
    ROWS[0] = args.rows

    import flask
    from plotly.io.json import to_json_plotly

    from access import Principal
    from dashboard import cache as replay_cache
    from dashboard import ids
    from dashboard.callbacks.replay import view_outputs
    from dashboard.routes import resolve_page
    from dmi_live.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="dmi-bench-"))
    db = args.db or str(folder / "replay.sqlite")
    store = open_store(db)
    try:
        if not any(s.id == SESSION for s in store.sessions()):
            started = time.perf_counter()
            create_session(store)
            print(f"created {db} in {time.perf_counter() - started:.1f} s")
        samples = store.count_samples()
        app = flask.Flask("bench")
        settings = Settings(data_dir=folder, cache_url=args.cache)
        app.extensions["dmi"] = {"store": store, "settings": settings}
        replay_cache.init_cache(app, settings)
        supervisor = Principal(kind="user", name="bench", role="supervisor")
        def open_page(session: str = SESSION) -> tuple[float, float, float]:
            started, cpu, own = time.perf_counter(), time.process_time(), time.thread_time()
            page = to_json_plotly(resolve_page(f"/replay/{session}", {}, supervisor, store))
            took = (time.perf_counter() - started, time.process_time() - cpu,
                    time.thread_time() - own)
            if ids.REPLAY_TIMELINE not in page:
                raise SystemExit(f"/replay/{session} did not open the replay: {page[:200]}")
            return took

        with app.test_request_context():
            replay_cache.cache.clear()
            # a server has imported, connected and compiled its queries before a
            # supervisor opens a session: another session's page first (timed apart)
            first = open_page(WARMUP)[0]
            # not prepared (an imported session, or opened before the record service
            # processed its end): the page works the tilt out and stores it ...
            was_prepared = prepared(store)
            unprepared = open_page()[0]
        # ... as the record service does a few seconds after the session's end; a new
        # request, the cache emptied
        replay_cache.cache.clear()
        with app.test_request_context():
            cold, cold_cpu, cold_main = open_page()
            warm = min(open_page()[0] for _ in range(3))
            meta = replay_cache.session_meta(SESSION)
            assert meta is not None
            rng = np.random.default_rng(1)
            zooms, zoom_cpu = [], []
            for _ in range(args.zooms):
                span = float(rng.choice([20.0, 120.0, 600.0]))
                t0 = float(rng.uniform(0, meta.duration - span))
                started, cpu = time.perf_counter(), time.process_time()
                to_json_plotly(view_outputs(meta, t0, t0 + span, None))
                zooms.append(time.perf_counter() - started)
                zoom_cpu.append(time.process_time() - cpu)
        print(f"session {meta.duration / 60:.0f} min, {len(meta.devices)} devices, "
              f"{len(meta.sets)} sets, batches of {args.rows}; cache {args.cache}; slowest "
              f"zoom {max(zooms):.3f} s; load average {' '.join(map(str, os.getloadavg()))}")
        print(f"a fresh process's first page (a one-minute session, imports and first "
              f"queries included): {first:.3f} s")
        print(f"cold open of the session before its replay was prepared (works out the tilt "
              f"and stores it): {unprepared:.3f} s"
              + (" (it was prepared already: a reused --db)" if was_prepared else ""))
        print(f"CPU (all threads of this process; the database server's not counted): cold "
              f"open {cold_cpu:.3f} s, of it the page's own thread {cold_main:.3f} s; "
              f"zoom median {statistics.median(zoom_cpu):.3f} s")
        print(f"samples={samples} cold_open_s={cold:.3f} warm_open_s={warm:.3f} "
              f"zoom_s={statistics.median(zooms):.3f}")
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
