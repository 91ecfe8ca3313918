"""What one room's ingest costs, and how much one ingest process can carry.

1. CPU per device at 100 Hz. ``--devices`` serial devices (HX711 boards and CSV IMUs,
   alternating) behind pty pairs, fed 100 lines/s each by a separate process, as USB
   serial devices would be. The ingest reads, parses, fits the device clocks, batches,
   spools and publishes them to a real Mosquitto for ``--seconds``. Its process CPU time
   (``time.process_time``, all threads) divided by wall time and by the number of
   devices is ``cpu_pct_per_device`` (% of one core). Mosquitto's CPU is not included.
2. Maximum sustained throughput. ``--fast-sources`` unpaced sources (speed 0, no clock
   fit) produce as fast as the ingest takes them (they pause while more than
   ``BACKLOG`` batches wait, so memory stays bounded). ``max_samples_per_s`` is the rate
   of samples the broker acknowledged (PUBACK; the spool then drops them) over
   ``--fast-seconds``, batches of 10 samples at QoS 1.

    .venv/bin/python bench/ingest_throughput.py
    .venv/bin/python bench/ingest_throughput.py --devices 6 --seconds 30

The last line is ``cpu_pct_per_device=… max_samples_per_s=…``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import multiprocessing
import os
import sys
import tempfile
import time
import tty
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dmi_live import services  # noqa: E402
from dmi_live.broker import free_port  # noqa: E402
from dmi_live.settings import BrokerSettings, Settings  # noqa: E402
from ingest.devices.base import BOARD_COLUMNS, Reading, Source  # noqa: E402
from ingest.devices.hx711 import Hx711Config, hx711_source  # noqa: E402
from ingest.devices.imu_lines import ImuLineConfig, imu_source  # noqa: E402

ROOM = "room-1"
RATE_HZ = 100.0
BACKLOG = 2000  # batches produced but not yet acknowledged, before fast sources pause


# ----------------------------------------------------------------------------- part 1


def feed(masters: list[tuple[int, bool]], seconds: float) -> None:
    """Child process: 100 Hz lines into every pty master (board or IMU format)."""
    start = time.monotonic()
    n = 0
    while (now := time.monotonic()) - start < seconds:
        millis = int((now - start) * 1000)
        for fd, board in masters:
            line = (f"{millis},{4.5 + n % 5 * 0.01:.2f},4.6,4.4,4.5\n" if board else
                    f"{millis},0.01,-0.02,{0.98 + n % 3 * 0.001:.3f},0.5,-0.3,0.1\n")
            with contextlib.suppress(OSError):
                os.write(fd, line.encode())
        n += 1
        time.sleep(max(0.0, start + n / RATE_HZ - time.monotonic()))


def serial_devices(count: int) -> tuple[list[Source], list[tuple[int, bool]], list[int]]:
    sources: list[Source] = []
    masters: list[tuple[int, bool]] = []
    slaves: list[int] = []
    for i in range(count):
        master, slave = os.openpty()
        tty.setraw(slave)
        board = i % 2 == 0
        url = os.ttyname(slave)
        if board:
            sources.append(hx711_source(Hx711Config(device=f"board-{i}", url=url)))
        else:
            sources.append(imu_source(ImuLineConfig(device=f"imu-{i}", url=url,
                                                    placement="trunk")))
        masters.append((master, board))
        slaves.append(slave)
    return sources, masters, slaves


def cpu_per_device(settings: Settings, devices: int, seconds: float) -> float:
    sources, masters, slaves = serial_devices(devices)
    handle = services.start_ingest(settings, ROOM, sources)
    feeder = multiprocessing.get_context("fork").Process(
        target=feed, args=(masters, seconds + 4.0), daemon=True)
    try:
        time.sleep(0.5)  # ports open
        feeder.start()
        time.sleep(2.0)  # warm up: clock fits, connections, first batches
        cpu0, wall0, samples0 = time.process_time(), time.monotonic(), handle.service.samples
        time.sleep(seconds)
        cpu = time.process_time() - cpu0
        wall = time.monotonic() - wall0
        rate = (handle.service.samples - samples0) / wall
    finally:
        feeder.join(10)
        handle.stop()
        for fd in [m for m, _ in masters] + slaves:
            with contextlib.suppress(OSError):
                os.close(fd)
    pct = 100.0 * cpu / wall / devices
    print(f"{devices} serial devices at {RATE_HZ:.0f} Hz for {wall:.1f} s: "
          f"{rate:.0f} samples/s read, ingest CPU {100 * cpu / wall:.1f} % of a core, "
          f"{pct:.2f} % per device, spool left {len(handle.spool)}")
    return pct


# ----------------------------------------------------------------------------- part 2


class FastSource(Source):
    """Unpaced readings, 1000 a call, while the backlog is small."""

    kind = "board"
    columns = BOARD_COLUMNS
    period = 0.01
    realtime = False

    def __init__(self, device: str, backlog: Callable[[], int]) -> None:
        super().__init__()
        self.device = device
        self.backlog = backlog
        self.next = 0

    def read(self, timeout: float) -> list[Reading]:
        if self.backlog() > BACKLOG:
            time.sleep(min(timeout, 0.005))
            return []
        n0, self.next = self.next, self.next + 1000
        return [Reading(k * 0.01, (float(k % 50), 2.0, 3.0, 4.0)) for k in range(n0, self.next)]


def max_throughput(settings: Settings, sources: int, seconds: float) -> float:
    handles: list[services.IngestHandle] = []

    def backlog() -> int:
        if not handles:
            return BACKLOG + 1
        handle = handles[0]
        return handle.service.samples // 10 - handle.forwarder.stats.acked

    fast: list[Source] = [FastSource(f"fast-{i}", backlog) for i in range(sources)]
    handles.append(services.start_ingest(settings, ROOM, fast))
    handle = handles[0]
    try:
        time.sleep(3.0)  # warm up
        acked0, cpu0, wall0 = handle.forwarder.stats.acked, time.process_time(), time.monotonic()
        time.sleep(seconds)
        acked = handle.forwarder.stats.acked - acked0
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    finally:
        handle.stop()
    rate = acked * 10 / wall
    print(f"{sources} unpaced sources for {wall:.1f} s: {rate:.0f} samples/s acknowledged "
          f"({acked / wall:.0f} batches/s of 10 at QoS 1), ingest CPU "
          f"{100 * cpu / wall:.0f} % of a core")
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--fast-sources", type=int, default=3)
    parser.add_argument("--fast-seconds", type=float, default=10.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), broker=BrokerSettings(port=free_port()))
        broker, settings = services.start_broker(settings, fallback=False, pick_free_port=True)
        try:
            pct = cpu_per_device(settings, args.devices, args.seconds)
            rate = max_throughput(settings, args.fast_sources, args.fast_seconds)
        finally:
            broker.stop()
    print(f"cpu_pct_per_device={pct:.2f} max_samples_per_s={rate:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
