"""Time to open a child's block view (the progress page) with 40 sessions, cold.

The child has a block plan and 40 recorded sessions (twenty weekdays, two a day, three
exercises, 7–8 sets and ~40 reps a session, notes), written through
``store.apply_event`` as the recorder does (the demo's history generator). Then a fresh
Python process — a dashboard that has served nothing yet, caches empty — builds the app,
signs a therapist in and asks the router for ``/progress/<child>``: the block view
(plan against done, carry-over, support, goals, sessions) serialised as Dash sends it.
The sway section reads samples and is filled by its own callback after the page opens;
it is not part of this figure.

    .venv/bin/python bench/block_view.py [--db FILE|URL] [--sessions 40]

The last line is ``sessions=… cold_open_s=… warm_open_s=… load_block_s=…``: the first
request, the median of five more, and the block loading alone (store + maths) in the
cold process.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHILD = "c-bench"
PASSWORD = "bench horse battery"


def build(url: str, sessions: int) -> None:
    from access.passwords import hash_password
    from dmi_live.demo_history import HISTORIES, history_events
    from store import open_store
    from store.plans import PlannedExercise

    child = dataclasses.replace(HISTORIES[0], pseudonym=CHILD, missed_day=-1, missed_pm=-1,
                                short=-1)
    days: list[date] = []
    day = date.today()
    while len(days) < sessions // 2:
        day -= timedelta(days=1)
        if day.isoweekday() <= 5:
            days.append(day)
    days.sort()
    with open_store(url) as store:
        store.add_child(CHILD, "Bench")
        store.add_user("bench", "therapist", hash_password(PASSWORD))
        store.save_block(CHILD, days[0], days[-1] + timedelta(days=7), 2, created_by="bench",
                         exercises=tuple(PlannedExercise(c.exercise, c.sets, c.reps, c.target)
                                         for c in child.courses), goals=child.goals)
        with store.transaction():
            for event in history_events(child, days):
                store.apply_event("bench", "room-1", event)
        assert len(store.child_history(CHILD)) == sessions


def measure(url: str, data_dir: str) -> None:
    """Run in a fresh process: print the timings as JSON."""
    from dashboard.app import create_app
    from dashboard.live import LiveHub
    from dmi_live.settings import Settings
    from ingest.mqtt import BrokerAddress
    from review.block import load_block
    from store import open_store

    store = open_store(url)
    app = create_app(Settings(data_dir=Path(data_dir)).with_secret_key(),
                     hub=LiveHub(BrokerAddress(port=1), site="bench", client_id="b"),
                     store=store)
    client = app.server.test_client()
    assert client.post("/login", data={"username": "bench", "password": PASSWORD}
                       ).status_code in (302, 303)
    payload = {"output": "app-page.children",
               "outputs": {"id": "app-page", "property": "children"},
               "inputs": [{"id": "app-url", "property": "pathname", "value": f"/progress/{CHILD}"},
                          {"id": "app-url", "property": "search", "value": ""}],
               "state": [], "changedPropIds": ["app-url.pathname"]}
    times = []
    for _ in range(6):
        t0 = time.perf_counter()
        response = client.post("/_dash-update-component", json=payload)
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200
        assert b"block-view" in response.data
    t0 = time.perf_counter()
    load_block(store, CHILD)
    alone = time.perf_counter() - t0
    print(json.dumps({"cold": times[0], "warm": sorted(times[1:])[2], "load": alone,
                      "bytes": len(response.data)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="store URL or file (default: a new temp SQLite file)")
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or str(Path(tmp) / "bench.sqlite")
        t0 = time.perf_counter()
        build(url, args.sessions)
        print(f"wrote {args.sessions} sessions in {time.perf_counter() - t0:.1f} s")
        out = subprocess.run([sys.executable, __file__, "--measure", url, tmp],
                             capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"page payload {result['bytes'] / 1024:.0f} KiB")
        print(f"sessions={args.sessions} cold_open_s={result['cold']:.3f} "
              f"warm_open_s={result['warm']:.3f} load_block_s={result['load']:.3f}")


if __name__ == "__main__":
    main()
