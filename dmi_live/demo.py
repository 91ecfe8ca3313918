"""``dmi-live demo``: broker, simulated room, recorder and dashboard in one process."""

from __future__ import annotations

import logging
import secrets
import signal
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from dashboard import kiosk_links
from dmi_live import services
from dmi_live.settings import Settings
from ingest.service import BatchPolicy

log = logging.getLogger(__name__)

DEMO_ROOM = "room-1"
# A live wall wants fresh data often: batches of at most 2 samples or 20 ms (measured with
# bench/live_latency.py: p95 48 ms and 48 updates/s, against 52 ms and 25/s with 5-sample
# batches). The ingest's default (10 samples / 100 ms) cuts the broker's message rate
# five-fold for clinics with many rooms; a room file chooses with [batching].
LIVE_BATCHING = BatchPolicy(batch_size=2, max_latency=0.02)
DEMO_USER = "therapist"
# Fictional children: pseudonymous ids travel over MQTT, names stay in the database.
DEMO_CHILDREN = (("c-0417", "Amara"), ("c-0522", "Ben"), ("c-0631", "Léa"))


def seed_demo(store: Any) -> str:
    """Demo children and a therapist account; returns a fresh password for it."""
    from access.passwords import hash_password

    known = {c.pseudonym for c in store.children()}
    for pseudonym, name in DEMO_CHILDREN:
        if pseudonym not in known:
            store.add_child(pseudonym, name)
    password = "-".join(secrets.token_hex(3) for _ in range(3))
    if store.get_user(DEMO_USER) is None:
        store.add_user(DEMO_USER, "therapist", hash_password(password))
    else:
        store.set_password_hash(DEMO_USER, hash_password(password))
    return password


@dataclass
class Demo:
    settings: Settings
    parts: list[Any]
    wall_url: str
    remote_url: str
    password: str

    def stop(self) -> None:
        """Stop in data-flow order so everything produced is recorded before the end."""
        for part in self.parts:
            try:
                part.stop()
            except Exception:
                log.exception("stopping %s failed", type(part).__name__)


def start_demo(settings: Settings, *, seed: int = 1, speed: float = 1.0,
               pick_free_ports: bool = True) -> Demo:
    from ingest.devices.simulator import SimulatedRoom

    settings = settings.with_secret_key()
    broker, settings = services.start_broker(settings, fallback=True,
                                             pick_free_port=pick_free_ports)
    parts: list[Any] = []
    try:
        recorder = services.start_recorder(settings)
        dashboard = services.start_dashboard(settings, pick_free_port=pick_free_ports)
        sources = SimulatedRoom(seed=seed, speed=speed).sources()
        ingest = services.start_ingest(settings, DEMO_ROOM, sources, policy=LIVE_BATCHING)
    except BaseException:
        for part in (locals().get("dashboard"), locals().get("recorder"), broker):
            if part is not None:
                part.stop()
        raise
    parts = [ingest, recorder, dashboard, broker]
    # Only hand out the links once every part listens: a session started in the very first
    # moment must not reach the recorder before the session engine has subscribed.
    ready = (recorder.recorder.wait_connected(10) and recorder.engine.wait_ready(10)
             and dashboard.hub.connected.wait(10))
    if not ready:
        log.warning("the recorder, session engine or dashboard is not connected yet")
    password = seed_demo(dashboard.store)
    from dmi_live.demo_history import seed_history

    seed_history(dashboard.store, settings.site, DEMO_ROOM)
    token, _ = kiosk_links.create(dashboard.store, settings.secret_key, DEMO_ROOM,
                                  created_by="demo", now=time.time())
    wall = f"{dashboard.url}/wall/{DEMO_ROOM}?k={token}"
    remote = f"{dashboard.url}/remote/{DEMO_ROOM}"
    return Demo(replace(settings, http_port=int(dashboard.url.rsplit(":", 1)[1])), parts, wall,
                remote, password)


def run_demo(settings: Settings, *, seed: int, speed: float) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    demo = start_demo(settings, seed=seed, speed=speed)
    s = demo.settings
    print(f"DMI Live demo is running (site {s.site}, data in {s.data_dir.resolve()})")
    print(f"  broker     : mqtt://{s.broker.host}:{s.broker.port}")
    print(f"  database   : {s.database_url}")
    print(f"  wall screen: {demo.wall_url}")
    print(f"  remote     : {demo.remote_url}  (sign in as '{DEMO_USER}', "
          f"password {demo.password})")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        stop.wait()
    finally:
        print("Stopping…", flush=True)
        demo.stop()
        print("Stopped cleanly.", flush=True)
    return 0
