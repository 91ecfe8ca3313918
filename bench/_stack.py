"""The live stack for browser benchmarks, on free ports, in a temp folder: Mosquitto
(``start_broker``), the dashboard (``start_dashboard``) in this process, an ingest of one
board and three IMUs at 100 Hz (in a process of its own, as a clinic runs it beside the
devices, or with ``ingest_process=False`` in this one, as the demo does), and optionally
the polling baseline page on its own port."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from dashboard import kiosk_links
from dmi_live import services
from dmi_live.broker import free_port
from dmi_live.settings import BrokerSettings, Settings
from ingest.devices.simulator import SimulatedRoom
from ingest.service import BatchPolicy

ROOM = "room-1"
DEVICES = ("board-1", "imu-trunk", "imu-pelvis", "imu-head")


@dataclass
class Stack:
    settings: Settings
    broker: Any
    dashboard: services.DashboardHandle
    ingest: Any  # an IngestHandle, or an IngestProcess
    wall_url: str
    baseline_url: str | None = None
    baseline_cursors: Any = None
    _baseline: tuple[BaseWSGIServer, threading.Thread] | None = None

    @property
    def hub(self) -> Any:
        return self.dashboard.hub

    def broker_pid(self) -> int | None:
        process = getattr(self.broker, "process", None) or getattr(self.broker, "_process", None)
        return getattr(process, "pid", None)

    def wait_for_devices(self, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            feed = self.hub.rooms.get(ROOM)
            if feed and all(d in feed.devices and feed.devices[d].ring.written
                            for d in DEVICES):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self._baseline is not None:
            server, thread = self._baseline
            server.shutdown()
            thread.join(5)
        for part in (self.ingest, self.dashboard, self.broker):
            part.stop()


def simulated_sources() -> list[Any]:
    """Board + trunk IMU of seed 1, and only the IMU of seeds 2 and 3 (pelvis, head)."""
    board, trunk = SimulatedRoom(seed=1).sources()
    pelvis = SimulatedRoom(seed=2, imu_id="imu-pelvis").sources()[1]
    head = SimulatedRoom(seed=3, imu_id="imu-head").sources()[1]
    return [board, trunk, pelvis, head]


def _run_ingest(settings: Settings, policy: BatchPolicy, ready: Any, stop: Any) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    handle = services.start_ingest(settings, ROOM, simulated_sources(), policy=policy)
    ready.set()
    stop.wait()
    handle.stop()


class IngestProcess:
    """The room's ingest in a process of its own (spawned: nothing shared with this one)."""

    def __init__(self, settings: Settings, policy: BatchPolicy) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._ready, self._stop = ctx.Event(), ctx.Event()
        self.process = ctx.Process(target=_run_ingest, name="ingest", daemon=True,
                                   args=(settings, policy, self._ready, self._stop))
        self.process.start()
        if not self._ready.wait(30):
            self.stop()
            raise RuntimeError("the ingest process did not start")

    def stop(self) -> None:
        self._stop.set()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def start_stack(data_dir: Path, *, baseline: bool = True, baseline_interval_ms: int = 40,
                policy: BatchPolicy | None = None, ingest_process: bool = True) -> Stack:
    settings = Settings(data_dir=data_dir, broker=BrokerSettings(port=free_port()),
                        http_port=free_port()).with_secret_key()
    broker, settings = services.start_broker(settings, fallback=False, pick_free_port=True)
    try:
        dashboard = services.start_dashboard(settings, pick_free_port=True)
    except BaseException:
        broker.stop()
        raise
    try:
        policy = policy or BatchPolicy(25, 0.5)
        ingest: Any = (IngestProcess(settings, policy) if ingest_process else
                       services.start_ingest(settings, ROOM, simulated_sources(), policy=policy))
    except BaseException:
        dashboard.stop()
        broker.stop()
        raise
    token, _ = kiosk_links.create(dashboard.store, settings.secret_key, ROOM, created_by="bench",
                                  now=time.time())
    stack = Stack(replace(settings, http_port=int(dashboard.url.rsplit(":", 1)[1])), broker,
                  dashboard, ingest, f"{dashboard.url}/wall/{ROOM}?k={token}")
    if baseline:
        from bench.baseline_app import create_baseline_app

        app = create_baseline_app(dashboard.hub, ROOM, interval_ms=baseline_interval_ms)
        port = free_port()
        server = make_server("127.0.0.1", port, app.server, threaded=True)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="baseline-http",
                                  daemon=True)
        thread.start()
        stack._baseline = (server, thread)
        stack.baseline_url = f"http://127.0.0.1:{port}/"
        stack.baseline_cursors = app.cursors  # type: ignore[attr-defined]
    return stack
