"""``dmi-live demo``: broker, simulated room, recorder and dashboard in one process."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, replace
from typing import Any

from dashboard.auth import kiosk_token
from dmi_live import services
from dmi_live.settings import Settings

log = logging.getLogger(__name__)

DEMO_ROOM = "room-1"


@dataclass
class Demo:
    settings: Settings
    parts: list[Any]
    wall_url: str

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
        ingest = services.start_ingest(settings, DEMO_ROOM, sources)
    except BaseException:
        for part in (locals().get("dashboard"), locals().get("recorder"), broker):
            if part is not None:
                part.stop()
        raise
    parts = [ingest, recorder, dashboard, broker]
    token = kiosk_token(settings.secret_key, DEMO_ROOM)
    wall = f"{dashboard.url}/wall/{DEMO_ROOM}?k={token}"
    return Demo(replace(settings, http_port=int(dashboard.url.rsplit(":", 1)[1])), parts, wall)


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
    print("Press Ctrl-C to stop.", flush=True)
    try:
        stop.wait()
    finally:
        print("Stopping…", flush=True)
        demo.stop()
        print("Stopped cleanly.", flush=True)
    return 0
