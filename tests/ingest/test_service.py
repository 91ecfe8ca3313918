"""The ingest service's batching and timing: host times from the device clock fit, resets
as new boots, counter wraps invisible, and rejected input visible in the device status."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence

import pytest

from contract import DeviceStatus, SampleBatch
from ingest.devices.base import BOARD_COLUMNS, Reading, Source
from ingest.devices.hx711 import Hx711Config, hx711_source
from ingest.devices.replayer import CsvFileConfig, csv_source
from ingest.devices.simulator import SimulatedRoom
from ingest.service import Batcher, BatchPolicy, DeviceReader, runs_in_real_time
from tests.ingest.devices.fakes import FakeClock
from tests.record.test_recorder import wait_until

WALL = 1_700_000_000.0  # wall time − monotonic time in these tests


class StubSource(Source):
    """A board whose readings the test hands to the batcher itself."""

    device = "board-1"
    kind = "board"
    columns = BOARD_COLUMNS
    period = 0.01

    def read(self, timeout: float) -> list[Reading]:
        return []


def reading(t_dev: float) -> Reading:
    return Reading(t_dev, (1.0, 2.0, 3.0, 4.0))


def sample_times(batches: Sequence[SampleBatch]) -> dict[tuple[str, int], tuple[float, float]]:
    """(boot, seq) → (device time, host time) of every sample."""
    out = {}
    for b in batches:
        for i, (t_dev, t_host) in enumerate(zip(b.device_times(), b.host_times(), strict=True)):
            out[(b.boot, b.seq + i)] = (t_dev, t_host)
    return out


def make_batcher(source: Source, mono: FakeClock, **kwargs: object) -> Batcher:
    return Batcher(source, BatchPolicy(batch_size=10, max_latency=0.1),
                   clock=lambda: mono.now + WALL, monotonic=mono, **kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- clock fit


def test_host_times_follow_the_device_clock_not_the_arrival_jitter() -> None:
    """A 100 Hz device 200 ppm slow; lines arrive a few ms late, in irregular chunks,
    with an 80 ms Bluetooth stall every second: every sample's host time stays within a
    few ms of when it was taken, and the time axis is as smooth as the device's clock."""
    rng = random.Random(7)
    mono = FakeClock(start=5000.0)
    batcher = make_batcher(StubSource(), mono)
    n = 6000  # one minute
    taken = [5000.0 + i * 0.01 * (1 + 2e-4) for i in range(n)]  # host time of each sample
    arrival, last = [], 0.0
    for i, t in enumerate(taken):  # a serial link delivers in order
        stall = 0.08 if i % 100 == 50 else 0.0
        last = max(last, t + 0.002 + rng.expovariate(1 / 0.003) + stall)
        arrival.append(last)
    batches: list[SampleBatch] = []
    i = 0
    while i < n:
        mono.now += rng.uniform(0.005, 0.06)
        j = i
        while j < n and arrival[j] <= mono.now:
            j += 1
        batches += batcher.add([reading(k * 0.01) for k in range(i, j)])
        i = j
    batches += batcher.flush()
    times = sample_times(batches)
    assert len(times) == n
    assert {b.boot for b in batches} == {"boot-0"}
    settled = 1000  # the fit needs a few 2 s bins before its drift estimate is good
    errors = [abs(times[("boot-0", k)][1] - (taken[k] + WALL)) for k in range(settled, n)]
    assert max(errors) < 0.006, "host time within 6 ms of when the sample was taken"
    steps = [times[("boot-0", k + 1)][1] - times[("boot-0", k)][1] for k in range(settled, n - 1)]
    assert max(abs(s - 0.01) for s in steps) < 0.002, "no arrival jitter on the time axis"


def test_a_device_clock_reset_starts_a_new_boot_with_fresh_host_times() -> None:
    mono = FakeClock(start=100.0)
    batcher = make_batcher(StubSource(), mono)
    batches = []
    for k in range(0, 295, 5):  # 3 s of a device whose clock reads 50 s
        mono.now = 100.0 + (k + 5) * 0.01 + 0.002
        batches += batcher.add([reading(50.0 + i * 0.01) for i in range(k, k + 5)])
    first_boot = batcher.boot
    for k in range(0, 100, 5):  # it restarted: its clock reads 0 s again
        mono.now = 104.0 + (k + 5) * 0.01 + 0.002
        batches += batcher.add([reading(i * 0.01) for i in range(k, k + 5)])
    batches += batcher.flush()
    assert batcher.boot != first_boot
    assert batcher.resets == 1
    old = [b for b in batches if b.boot == first_boot]
    new = [b for b in batches if b.boot == batcher.boot]
    assert sum(len(b.rows) for b in old) == 295
    old_hosts = [t for b in old for t in b.host_times()]
    assert WALL + 100.0 < min(old_hosts) < max(old_hosts) < WALL + 103.0, (
        "the readings before the reset keep the old boot's host times")
    assert [b.seq for b in new] == list(range(0, 100, 10)), "sequence restarts at 0"
    assert new[0].t_host == pytest.approx(WALL + 104.0 + 0.002, abs=0.01)


def test_a_counter_wrap_is_seamless_in_one_boot() -> None:
    """A 16-bit millisecond counter wraps every 65.536 s: the batches go on in one boot
    with continuous sequence numbers and device and host times."""
    source = hx711_source(Hx711Config(device="board-1", url="loop://", counter_bits=16,
                                      skip_first_line=False))
    source.setup()
    mono = FakeClock(start=200.0)
    batcher = make_batcher(source, mono)
    stamps = [(65_000 + 10 * i) % 65_536 for i in range(100)]
    batches = []
    try:
        for k in range(0, 100, 4):
            assert source.port is not None
            source.port.write(b"".join(f"{s},1,2,3,4\n".encode() for s in stamps[k:k + 4]))
            mono.now = 200.0 + (k + 4) * 0.01
            got: list[Reading] = []
            while len(got) < 4:
                got += source.read(0.05)
            batches += batcher.add(got)
        batches += batcher.flush()
    finally:
        source.cleanup()
    times = sample_times(batches)
    assert len({b.boot for b in batches}) == 1
    assert [seq for _, seq in times] == list(range(100))
    t_dev = [t for t, _ in times.values()]
    t_host = [h for _, h in times.values()]
    assert t_dev == pytest.approx([65.0 + 0.01 * i for i in range(100)])
    assert all(0.009 < b - a < 0.011 for a, b in zip(t_host, t_host[1:], strict=False))


def test_a_replay_faster_than_real_time_gets_arrival_host_times() -> None:
    """Device time of a 10× replay runs ahead of the host: it is not fitted (that would
    look like a reset every second); the newest reading is taken to arrive now."""
    mono = FakeClock(start=10.0)
    batcher = make_batcher(StubSource(), mono, fit_clock=False)
    batches = []
    for k in range(0, 1000, 100):
        mono.now += 0.1
        batches += batcher.add([reading(i * 0.01) for i in range(k, k + 100)])
    assert len({b.boot for b in batches}) == 1
    assert batches[-1].host_times()[-1] == pytest.approx(mono.now + WALL)


def test_which_sources_run_in_real_time() -> None:
    serial = hx711_source(Hx711Config(device="board-1", url="loop://"))
    live, fast = SimulatedRoom(speed=1.0).sources()[0], SimulatedRoom(speed=0).sources()[0]
    replay = csv_source(CsvFileConfig(device="imu-1", path="x.csv", kind="imu", speed=4.0))
    assert [runs_in_real_time(s) for s in (serial, live, fast, replay)] == [
        True, True, False, False]


# ----------------------------------------------------------------------------- status


class Collector:
    def __init__(self) -> None:
        self.items: list[SampleBatch | DeviceStatus] = []
        self.lock = threading.Lock()

    def __call__(self, item: SampleBatch | DeviceStatus) -> None:
        with self.lock:
            self.items.append(item)

    def statuses(self) -> list[DeviceStatus]:
        with self.lock:
            return [i for i in self.items if isinstance(i, DeviceStatus)]

    def state(self) -> str:
        statuses = self.statuses()
        return statuses[-1].state if statuses else ""

    def samples(self) -> int:
        with self.lock:
            return sum(len(i.rows) for i in self.items if isinstance(i, SampleBatch))


def test_the_device_status_shows_rejected_lines() -> None:
    source = hx711_source(Hx711Config(device="board-1", url="loop://", skip_first_line=False))
    out = Collector()
    reader = DeviceReader(source, out, BatchPolicy())
    reader.start()
    try:
        assert wait_until(lambda: source.port is not None)
        assert source.port is not None
        source.port.write(b"garbage\n1,2,x,4\n" * 3)
        assert wait_until(lambda: out.state() == "stale")
        stale = out.statuses()[-1]
        assert stale.rejects == 6
        assert stale.reason == "no valid data: 6 lines rejected"
        source.port.write(b"".join(f"{1000 + 10 * i},1,2,3,4\n".encode() for i in range(20)))
        assert wait_until(lambda: out.state() == "online")
        assert out.statuses()[-1].rejects == 6
    finally:
        reader.stop()
        reader.join(5)
    assert out.samples() == 20
    assert not reader.is_alive()
