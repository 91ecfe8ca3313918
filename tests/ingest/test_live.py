"""Live frames: computed once at the ingest with the engine's own functions, fresh, small,
plain about an empty board, and sent at QoS 0 beside (never into) the stored stream."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest

from analysis.cop import cop_from_loads
from analysis.imu import TrunkTilt
from contract import LiveFrame, decode, subscription
from ingest.devices.base import Reading
from ingest.devices.simulator import SimulatedRoom
from ingest.forwarder import Forwarder
from ingest.live import FRAME_EVERY_S, MIN_LOAD_KG, LiveFramer
from ingest.mqtt import connect, make_client
from ingest.service import BatchPolicy, IngestService
from ingest.spool import Spool
from tests.conftest import RunningBroker, wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def frames_of(room: SimulatedRoom, slot: int, seconds: float, *, every_s: float = 0.03
              ) -> tuple[list[LiveFrame], list[Reading]]:
    """Feed ``seconds`` of one simulated device, 1 reading per 10 ms as a serial port
    delivers them; return the frames and the readings."""
    source = room.sources()[slot]
    clock = Clock()
    framer = LiveFramer(source, every_s=every_s, monotonic=clock)
    n = int(seconds * room.fs)
    values = room.samples(0, n)[slot]
    readings = [Reading(i / room.fs, tuple(float(v) for v in row)) for i, row in enumerate(values)]
    frames = []
    for i, reading in enumerate(readings):
        clock.now = i / room.fs
        frame = framer.add([reading], boot="b1", first_seq=i,
                           host_time=lambda t: 1.7e9 + t)
        if frame is not None:
            frames.append(frame)
    return frames, readings


def test_board_frames_carry_the_engines_centre_of_pressure_and_are_fresh() -> None:
    frames, readings = frames_of(SimulatedRoom(seed=1, speed=0), 0, 20.0)
    loads = np.array([r.values for r in readings])
    ml, ap, _ = cop_from_loads(*loads.T)  # what the session engine computes
    assert 20 / 0.03 * 0.95 <= len(frames) <= 20 / 0.03 + 1  # about 33 frames a second
    for frame in frames:
        assert frame.seq == round(frame.t_dev * 100)  # the newest sample is in the frame
        assert frame.rows[-1][0] == frame.t_dev
        for t, f_ml, f_ap, load in frame.rows:
            i = round(t * 100)
            assert load == pytest.approx(loads[i].sum(), abs=1e-3)
            if f_ml is not None:
                assert (f_ml, f_ap) == pytest.approx((ml[i], ap[i]), abs=1e-3)
    points = sum(len(f.rows) for f in frames)
    assert 50 * 20 * 0.95 <= points <= 50 * 20 * 1.3  # thinned to about 50 points a second
    assert frames[-1].ellipse is not None
    assert 0 < frames[-1].ellipse[2] < 5  # a child's sway: a few cm, not a board's width
    assert len(frames[-1].encode()) < 400  # small


def test_imu_frames_carry_the_engines_trunk_tilt() -> None:
    frames, readings = frames_of(SimulatedRoom(seed=2, speed=0), 1, 10.0)
    raw = np.array([r.values for r in readings])
    expected = TrunkTilt(fs=100).process(raw[:, :3], raw[:, 3:])
    for frame in frames[::10]:
        for t, pitch, roll in frame.rows:
            i = round(t * 100)
            assert (pitch, roll) == pytest.approx(
                (expected.pitch_deg[i], expected.roll_deg[i]), abs=1e-3)


def test_nobody_on_the_board_gives_no_centre_of_pressure_and_no_ellipse() -> None:
    room = SimulatedRoom(seed=1, speed=0)
    t = 0.0
    while room.phase_at(t).name != "off":
        t += 1.0
    off = room.phase_at(t)
    frames, _ = frames_of(room, 0, off.end + 5.0)
    inside = [f for f in frames if off.start + 1.5 < f.t_dev < off.end - 1.5]
    assert inside
    for frame in inside:
        assert all(row[1] is None and row[2] is None for row in frame.rows)
        assert all(row[3] < MIN_LOAD_KG for row in frame.rows)
        assert frame.ellipse is None
    back = [f for f in frames if f.t_dev > off.end + 2.0]
    assert back
    assert all(f.rows[-1][1] is not None for f in back)
    assert back[-1].ellipse is not None


def test_a_new_boot_starts_afresh() -> None:
    room = SimulatedRoom(seed=1, speed=0)
    source = room.sources()[0]
    clock = Clock()
    framer = LiveFramer(source, every_s=0.0, monotonic=clock)
    values = room.samples(0, 200)[0]
    readings = [Reading(i / 100, tuple(float(v) for v in row)) for i, row in enumerate(values)]
    framer.add(readings[:150], boot="b1", first_seq=0, host_time=lambda t: 1.7e9 + t)
    frame = framer.add(readings[150:151], boot="b2", first_seq=0, host_time=lambda t: 1.7e9)
    assert frame is not None
    assert frame.boot == "b2"
    assert len(frame.rows) == 1  # nothing of the old boot
    assert frame.ellipse is None


# ----------------------------------------------------------------------------- on the wire


@pytest.mark.broker
def test_live_frames_go_out_at_qos_0_beside_the_stored_batches_never_through_the_spool(
        mosquitto: RunningBroker, site: str, tmp_path: Path) -> None:
    got: dict[str, list[tuple[str, int, float]]] = {"live": [], "samples": []}
    lock = threading.Lock()
    subscribed = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        topic, message = decode(msg.topic, msg.payload, live=True)
        with lock:
            got[topic.leaf].append((topic.device or "", msg.qos, message.t_dev))
        assert isinstance(message, LiveFrame) == (topic.leaf == "live")

    listener = make_client(mosquitto.address("dashboard"), client_id=f"live-{site}")
    listener.on_message = on_message
    listener.on_subscribe = lambda *_: subscribed.set()
    listener.on_connect = lambda c, *a: c.subscribe(
        [(subscription(site, "+", "live"), 1), (subscription(site, "+", "samples"), 1)])
    connect(listener, mosquitto.address("dashboard"))
    listener.loop_start()
    assert subscribed.wait(10)
    spool = Spool(tmp_path / "spool.sqlite")
    forwarder = Forwarder(mosquitto.address("ingest"), spool, site=site, room="room-1",
                          client_id=f"ing-{site}")
    forwarder.start()
    service = IngestService(SimulatedRoom(seed=1).sources(), forwarder.submit,
                            BatchPolicy(batch_size=25, max_latency=0.5))
    service.start()
    try:
        assert wait_until(lambda: len(got["live"]) > 20)
        time.sleep(2.0)
        with lock:
            start = len(got["live"])
        time.sleep(2.0)
        with lock:
            live, samples = list(got["live"]), list(got["samples"])
    finally:
        service.stop()
        forwarder.stop()
        listener.disconnect()
        listener.loop_stop()
    measured = live[start:]

    def per_device_second(device: str) -> float:
        """Frames per second of the device's own clock (a busy host may send late, in
        bursts: wall-clock counts would measure the machine, not the ingest)."""
        t = [t_dev for d, _, t_dev in measured if d == device]
        return (len(t) - 1) / (max(t) - min(t))

    # about the display rate (a board at 100 Hz: 50 frames a second, one drawn point each;
    # an IMU 25), plus a frame when a chunk ending between drawn points would keep the
    # screen waiting (a busy host sends uneven chunks): never more than one frame every
    # FRAME_EVERY_S, never a frame a sample (100 a second). The freshness they give the
    # wall is measured by bench/live_latency.py
    ceiling = 1.25 / FRAME_EVERY_S
    assert 10 <= per_device_second("board-1") <= min(50 * 1.25, ceiling)
    assert 5 <= per_device_second("imu-trunk") <= ceiling < 100
    assert {qos for _, qos, _ in live} == {0}
    assert {qos for _, qos, _ in samples} == {1}
    assert forwarder.live.sent >= len(live)
    # the spool held only the batches (25 samples each), not one of the frames
    assert len(samples) <= forwarder.stats.spooled <= service.samples / 25 + 4
    assert forwarder.live.sent > 5 * forwarder.stats.spooled
    spool.close()


def test_the_ellipse_after_stepping_back_on_is_the_childs_sway_not_the_step() -> None:
    room = SimulatedRoom(seed=1, speed=0)
    t = 0.0
    while room.phase_at(t).name != "off":
        t += 1.0
    off = room.phase_at(t)
    rest = room.phase_at(off.end + 0.01)  # standing still again before the next exercise
    assert rest.name == "rest"
    frames, _ = frames_of(room, 0, rest.end)
    after = [f.ellipse for f in frames if off.end + 1.0 < f.t_dev and f.ellipse is not None]
    # the simulated child steps on from 5 cm to the side: none of that is in the ellipse,
    # which shows the sway of quiet standing (a child's: about a centimetre)
    assert len(after) > 20
    assert max(e[2] for e in after) < 1.5
