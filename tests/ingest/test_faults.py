"""Faults a clinic will meet, end to end against a real Mosquitto, the real ingest
(IngestService, Forwarder, Spool) and the real recorder and store:

- a device unplugged and plugged back in mid-session: a gap with its reason, then data;
- the broker killed (SIGKILL) and restarted: every sample stored exactly once;
- the ingest process killed and restarted: nothing its spool held is lost, and what it
  sends twice is stored once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from contract import decode_batch
from dmi_live.services import IngestHandle
from ingest.devices.base import Source
from ingest.forwarder import Forwarder
from ingest.room import load_room
from ingest.service import IngestService
from ingest.spool import Spool
from record.recorder import Recorder
from store import Store, open_store
from tests.conftest import RunningBroker
from tests.ingest.devices.fakes import PtyDevice
from tests.record.test_recorder import wait_until

pytestmark = [pytest.mark.broker, pytest.mark.slow]

REPO = Path(__file__).parents[2]


# ----------------------------------------------------------------------------- helpers


class Feeder(threading.Thread):
    """The firmware of a 100 Hz device behind a :class:`PtyDevice`: one
    ``millis,v1,…`` line per sample. Plugging it back in restarts its clock, as opening
    the port resets an Arduino. ``lines`` caps how many it sends in all."""

    def __init__(self, device: PtyDevice, *, values: int, lines: int | None = None) -> None:
        super().__init__(daemon=True)
        self.device, self.values, self.lines = device, values, lines
        self.sent = 0
        self.plugged = True
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self._boot_at = time.monotonic()

    def run(self) -> None:
        tick = time.monotonic()
        while not self.halt.is_set() and (self.lines is None or self.sent < self.lines):
            with self.lock:
                if self.plugged:
                    millis = int((time.monotonic() - self._boot_at) * 1000)
                    fields = ",".join(f"{0.5 + (self.sent % 7) / 10:.2f}"
                                      for _ in range(self.values))
                    try:
                        self.device.write(f"{millis},{fields}\r\n".encode())
                        self.sent += 1
                    except OSError:
                        pass
            tick += 0.01
            self.halt.wait(max(0.0, tick - time.monotonic()))

    def unplug(self) -> None:
        with self.lock:
            self.plugged = False
            self.device.unplug()

    def plug(self) -> None:
        with self.lock:
            self.device.plug()
            self._boot_at = time.monotonic()
            self.plugged = True

    def stop(self) -> None:
        self.halt.set()
        self.join(5)
        self.device.unplug()


def start_ingest(broker: RunningBroker, site: str, sources: list[Source],
                 spool_path: Path) -> IngestHandle:
    """What ``dmi-live ingest`` starts, on the test broker."""
    spool = Spool(spool_path)
    forwarder = Forwarder(broker.address("ingest"), spool, site=site, room="room-1",
                          client_id=f"ingest-{site}")
    forwarder.start()
    service = IngestService(sources, forwarder.submit)
    service.start()
    return IngestHandle(forwarder, service, spool)


@pytest.fixture
def recording(tmp_path: Path) -> Iterator[Callable[[RunningBroker, str], tuple[Recorder, Store]]]:
    """Start a recorder (and its store) on a broker; both are stopped afterwards."""
    started: list[tuple[Recorder, Store]] = []

    def start(broker: RunningBroker, site: str) -> tuple[Recorder, Store]:
        store = open_store(tmp_path / "db.sqlite")
        recorder = Recorder(broker.address("recorder"), store, client_id=f"rec-{site}",
                            site=site)
        recorder.start()
        assert recorder.wait_connected(10)
        started.append((recorder, store))
        return recorder, store

    yield start
    for recorder, store in started:
        recorder.stop()
        store.close()


def samples(store: Store, device: str) -> pd.DataFrame:
    try:
        return store.read_samples(device)
    except Exception:  # noqa: BLE001 - the device is not in the store yet
        return pd.DataFrame({"t": [], "boot": [], "seq": []})


def seqs_by_boot(frame: pd.DataFrame) -> dict[str, list[int]]:
    return {str(b): sorted(int(s) for s in g["seq"]) for b, g in frame.groupby("boot")}


def room_file(tmp_path: Path, site: str, devices: dict[str, tuple[str, PtyDevice]]) -> Path:
    """A room file with an HX711 board or a CSV IMU on each pty."""
    text = f'site = "{site}"\nroom = "room-1"\n'
    for device_id, (kind, pty) in devices.items():
        protocol, extra = ("hx711", "") if kind == "board" else ("imu-csv", 'placement = "trunk"\n')
        text += (f'[[devices]]\nid = "{device_id}"\nkind = "{kind}"\nprotocol = "{protocol}"\n'
                 f'port = "{pty.link}"\n{extra}skip_first_line = false\n')
    path = tmp_path / "room.toml"
    path.write_text(text)
    return path


def wait_until_persisted(broker: RunningBroker, since: float) -> None:
    """Mosquitto saves sessions every few seconds (autosave); a clinic's recorder has
    long been saved when a crash comes, so wait for one save after it subscribed."""
    db = broker.broker.folder / "persist" / "mosquitto.db"
    assert wait_until(lambda: db.exists() and db.stat().st_mtime > since + 0.5, timeout=20)


# ----------------------------------------------------------------------------- unplug


def test_unplugged_device_leaves_a_gap_and_resumes_when_plugged_back(
    mosquitto: RunningBroker, site: str, tmp_path: Path, recording, record_property  # noqa: ANN001
) -> None:
    recorder, store = recording(mosquitto, site)
    pty = PtyDevice(tmp_path / "ttyUSB0")
    room = load_room(room_file(tmp_path, site, {"board-1": ("board", pty)}))
    feeder = Feeder(pty, values=4)
    handle = start_ingest(mosquitto, site, room.sources(), tmp_path / "spool.sqlite")
    feeder.start()
    try:
        assert wait_until(lambda: len(samples(store, "board-1")) >= 100, timeout=20)
        [first_boot] = seqs_by_boot(samples(store, "board-1"))
        feeder.unplug()
        time.sleep(1.0)  # the device is away for a second
        feeder.plug()
        plugged = time.monotonic()
        assert wait_until(lambda: len(seqs_by_boot(samples(store, "board-1"))) == 2,
                          timeout=20), "the stream resumed after the device came back"
        resumed = time.monotonic() - plugged
        record_property("resume_seconds", round(resumed, 3))
        print(f"resume after replug: {resumed:.3f} s")
        assert wait_until(lambda: len(store.gaps("board-1")) == 1)
        frame = samples(store, "board-1")
        later = frame[frame["boot"] != first_boot]
        assert wait_until(lambda: len(samples(store, "board-1")) >= len(frame) + 100), (
            "and it keeps streaming")
    finally:
        feeder.stop()
        handle.stop()
    [gap] = store.gaps("board-1")
    before = frame[frame["boot"] == first_boot]
    assert gap.device == "board-1"
    assert gap.boot == later["boot"].iloc[0]
    assert gap.t_from == pytest.approx(before["t"].max(), abs=1e-6)
    assert gap.t_to == pytest.approx(later["t"].min(), abs=1e-6)
    assert gap.t_to - gap.t_from > 0.5, "the gap covers the second the device was away"
    assert gap.reason.startswith("device unavailable")


# ----------------------------------------------------------------------------- broker crash


def test_broker_killed_and_restarted_loses_and_repeats_nothing(
    mosquitto_factory, site: str, tmp_path: Path, recording  # noqa: ANN001
) -> None:
    broker: RunningBroker = mosquitto_factory()
    subscribed = time.time()
    recorder, store = recording(broker, site)
    wait_until_persisted(broker, subscribed)
    ptys = {"board-1": ("board", PtyDevice(tmp_path / "ttyUSB0")),
            "imu-trunk": ("imu", PtyDevice(tmp_path / "rfcomm0"))}
    sources = load_room(room_file(tmp_path, site, ptys)).sources()
    handle = start_ingest(broker, site, sources, tmp_path / "spool.sqlite")
    n = 600  # 6 s at 100 Hz per device
    assert wait_until(lambda: all(getattr(s, "port", None) is not None for s in sources))
    feeders = [Feeder(pty, values=4 if kind == "board" else 6, lines=n)
               for kind, pty in ptys.values()]
    for feeder in feeders:
        feeder.start()
    try:
        assert wait_until(lambda: len(samples(store, "imu-trunk")) >= 100, timeout=20)
        broker.broker.kill()
        time.sleep(1.5)
        assert len(handle.spool) > 0, "batches wait in the spool while the broker is down"
        broker.broker.start()
        assert wait_until(lambda: all(f.sent == n for f in feeders), timeout=30)
        assert wait_until(lambda: store.count_samples() == 2 * n, timeout=30)
    finally:
        for feeder in feeders:
            feeder.stop()
        handle.stop()
    for device in ptys:
        frame = samples(store, device)
        assert seqs_by_boot(frame) == {frame["boot"].iloc[0]: list(range(n))}, device
    assert store.gaps() == []
    assert handle.forwarder.stats.connects >= 2


# ----------------------------------------------------------------------------- ingest crash


def run_ingest(broker: RunningBroker, site: str, spool: Path, *args: str
               ) -> subprocess.Popen[bytes]:
    address = broker.address("ingest")
    env = {**os.environ, "DMI_BROKER_USERNAME": str(address.username),
           "DMI_BROKER_PASSWORD": str(address.password)}
    with (spool.parent / "runner.log").open("ab") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "tests.ingest.ingest_runner", "--site", site,
             "--port", str(broker.port), "--spool", str(spool), *args],
            cwd=REPO, env=env, stdout=log, stderr=log,
        )


def spooled_samples(path: Path) -> set[tuple[str, int]]:
    """(boot, seq) of every sample the spool file holds."""
    spool = Spool(path)
    try:
        rows = spool.pending(after=0, limit=1_000_000)
    finally:
        spool.close()
    out: set[tuple[str, int]] = set()
    for row in rows:
        batch = decode_batch(row.payload)
        out.update((batch.boot, batch.seq + i) for i in range(len(batch.rows)))
    return out


def test_ingest_killed_mid_stream_loses_nothing_it_had_spooled(
    mosquitto: RunningBroker, site: str, tmp_path: Path, recording  # noqa: ANN001
) -> None:
    recorder, store = recording(mosquitto, site)
    spool = tmp_path / "spool.sqlite"
    first = run_ingest(mosquitto, site, spool, "--samples", "5000", "--rate", "500",
                       "--boot", "run-1")
    try:
        assert wait_until(lambda: len(samples(store, "counter")) >= 500, timeout=30)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    held = spooled_samples(spool)  # what the dead ingest still had to send
    second = run_ingest(mosquitto, site, spool, "--samples", "300", "--rate", "1000",
                        "--boot", "run-2")
    assert second.wait(60) == 0, (tmp_path / "runner.log").read_text()[-2000:]

    def stored() -> set[tuple[str, int]]:
        frame = samples(store, "counter")
        return set(zip(frame["boot"], frame["seq"].astype(int), strict=True))

    assert wait_until(lambda: held | {("run-2", k) for k in range(300)} <= stored(),
                      timeout=30), "everything the spool held, and the new run, is stored"
    print(f"the killed ingest's spool held {len(held)} samples")
    frame = samples(store, "counter")
    assert len(stored()) == len(frame), "no sample stored twice"
    seqs = seqs_by_boot(frame)
    assert seqs["run-1"] == list(range(len(seqs["run-1"]))), "no hole in the first run"
    assert len(seqs["run-1"]) < 5000  # it was killed mid-stream
    assert seqs["run-2"] == list(range(300))
    assert (frame[frame["boot"] == "run-1"]["fl"] == frame[frame["boot"] == "run-1"]["seq"]).all()


def test_batches_sent_again_after_an_ingest_crash_are_stored_once(
    mosquitto: RunningBroker, site: str, tmp_path: Path, recording  # noqa: ANN001
) -> None:
    recorder, store = recording(mosquitto, site)
    spool = tmp_path / "spool.sqlite"
    crashed = run_ingest(mosquitto, site, spool, "--samples", "1500", "--rate", "1000",
                         "--boot", "run-1", "--crash-in-ack-window")
    assert crashed.wait(60) == -signal.SIGKILL
    held = spooled_samples(spool)
    assert held, "acknowledged batches were still in the spool when it died"
    second = run_ingest(mosquitto, site, spool, "--samples", "200", "--rate", "1000",
                        "--boot", "run-2")
    assert second.wait(60) == 0, (tmp_path / "runner.log").read_text()[-2000:]
    assert wait_until(lambda: store.count_samples("counter") == 1500 + 200, timeout=30)
    assert wait_until(lambda: recorder.stats.duplicates > 0), "the repeats were dropped"
    frame = samples(store, "counter")
    assert seqs_by_boot(frame) == {"run-1": list(range(1500)), "run-2": list(range(200))}


# ----------------------------------------------------------------------------- spool bound


def test_a_filling_spool_shows_in_the_device_status_and_refuses_only_past_its_bound(
    mosquitto_factory, site: str, tmp_path: Path  # noqa: ANN001
) -> None:
    from tests.ingest.ingest_runner import CountingSource
    from tests.ingest.test_forwarder import Listener

    broker: RunningBroker = mosquitto_factory()
    spool = Spool(tmp_path / "spool.sqlite", max_messages=40, warn_fraction=0.5)
    forwarder = Forwarder(broker.address("ingest"), spool, site=site, room="room-1",
                          client_id=f"ingest-{site}")
    forwarder.start()
    service = IngestService([CountingSource(samples=100_000, rate=200.0, boot="b1")],
                            forwarder.submit)
    service.start()
    # a screen watching the room all along, back within 0.2 s of the broker: it sees the
    # status the ingest publishes when it is back, before the spool has drained (the
    # alarm clears then, and a screen arriving later sees only the cleared status)
    listener = Listener(broker, site)
    listener.client.reconnect_delay_set(0.05, 0.2)
    try:
        assert wait_until(lambda: forwarder.stats.acked > 5)
        broker.broker.kill()
        assert wait_until(lambda: spool.refused > 0, timeout=20), "a full spool refuses"
        assert spool.alarm
        broker.broker.start()
        # the forwarder's reconnect back-off (doubling while the broker was away) decides
        # when it is back, hence a generous wait
        assert wait_until(lambda: any("spool filling up" in s.reason
                                      for s in listener.statuses), timeout=30)
    finally:
        service.stop()
        forwarder.stop()
        spool.close()
        listener.close()
