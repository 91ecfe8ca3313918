"""``dmi-live demo``: broker, simulated room, recorder and dashboard in one process."""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import signal
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from dashboard import kiosk_links
from dmi_live import services
from dmi_live.errors import UsageError
from dmi_live.settings import Settings
from ingest.service import BatchPolicy

log = logging.getLogger(__name__)

DEMO_ROOM = "room-1"
# Stored samples go in batches of 25 (a quarter second at 100 Hz) at QoS 1 through the
# spool; the wall draws the ingest's live frames (QoS 0, every 20 ms, never stored), so
# the batches need not be small to keep it fresh (bench/live_latency.py).
STORED_BATCHING = BatchPolicy(batch_size=25, max_latency=0.5)
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
        ingest = services.start_ingest(settings, DEMO_ROOM, sources, policy=STORED_BATCHING)
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


LOCK_NAME = "demo.lock"
MAX_DEMOS = 9


def _try_lock(folder: Path) -> TextIO | None:
    """Hold ``folder/demo.lock`` (an flock, released by the kernel however we end)."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = (folder / LOCK_NAME).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip()
        handle.close()
        log.debug("%s is used by the demo with pid %s", folder, owner or "?")
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def claim_data_dir(folder: Path, *, may_move: bool) -> tuple[Path, TextIO]:
    """A data folder no other running demo uses, and the lock that keeps it ours.

    Two demos on one folder would share the database, the spool and the broker's files
    (and reset each other's password). The default folder moves on to ``demo-2``,
    ``demo-3``…; a folder the user chose is refused with the reason.
    """
    candidates = [folder]
    if may_move:
        candidates += [folder.with_name(f"{folder.name}-{n}") for n in range(2, MAX_DEMOS + 1)]
    for candidate in candidates:
        lock = _try_lock(candidate)
        if lock is not None:
            return candidate, lock
    if may_move:
        raise UsageError(f"{MAX_DEMOS} demos are running already (in {folder}…-{MAX_DEMOS}); "
                         "stop one with Ctrl-C")
    raise UsageError(f"another dmi-live demo is running with the data folder {folder}; "
                     "stop it first or choose another --data-dir")


def run_demo(settings: Settings, *, seed: int, speed: float, may_move: bool = False) -> int:
    folder, lock = claim_data_dir(settings.data_dir, may_move=may_move)
    if folder != settings.data_dir:
        print(f"another demo is running in {settings.data_dir}; this one uses {folder}",
              flush=True)
        settings = replace(settings, data_dir=folder)
    stop = threading.Event()

    def on_signal(*_: object) -> None:
        stop.set()
        # a second Ctrl-C while stopping ends at once (the broker ends with us)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    try:
        return _run(settings, stop, seed=seed, speed=speed)
    finally:
        lock.close()


def _run(settings: Settings, stop: threading.Event, *, seed: int, speed: float) -> int:
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
