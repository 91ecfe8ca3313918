"""The engine counts with the streaming rep counter: real recorded sets, sensors mounted
any way, the set's last rep at its end, and learning from the therapist — a set whose
count they corrected calibrates the counter for that child and exercise, from the next
set on; on a real Mosquitto with the recorder, the calibration lands in the store."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from analysis.repsettings import Calibration, Sensitivity
from analysis.repsynth import random_rotation, simulate_sensor_set
from analysis.synth import SetScenario
from contract import Event, SampleBatch, events_topic, samples_topic
from ingest.mqtt import connect, make_client
from record.engine import Labelled, SessionEngine
from record.engine_learn import learn
from record.engine_parts import RepSetup
from record.engine_service import EngineService
from record.recorder import Recorder
from store import open_store
from tests.analysis.repsets import double_bump_set
from tests.conftest import RunningBroker, wait_until
from tests.record.test_engine import (
    CATALOG,
    ROOM,
    SITE,
    STS,
    T0,
    Clock,
    Room,
    Watcher,
    rep,
    session_start,
    set_start,
)

SPAR = Path(__file__).resolve().parents[1] / "data" / "spar"
G = 9.80665
IMU_COLS = ("ax", "ay", "az", "gx", "gy", "gz")
STEP = "step-onto-block"  # step: the trunk IMU too


def imu_batches(t: np.ndarray, samples: np.ndarray, *, fs: float, t0: float,
                rows: int = 10, seq0: int = 0) -> list[SampleBatch]:
    """An IMU's samples (acc m/s², gyr deg/s) as the wire carries them: acc in g
    (``seq0``: the device's sequence number of the first one)."""
    data = np.column_stack([samples[:, :3] / G, samples[:, 3:]])
    out = []
    for i in range(0, len(data), rows):
        chunk = tuple(tuple(round(float(v), 6) for v in row) for row in data[i : i + rows])
        out.append(SampleBatch("imu-trunk", "imu", "boot-1", seq0 + i, float(t[i]), 1 / fs,
                               t0 + float(t[i]), IMU_COLS, chunk))
    return out


def feed(room: Room, batches: list[SampleBatch], fs: float) -> None:
    for b in batches:
        room.clock.now = b.t_host + len(b.rows) / fs
        room.take(room.engine.on_batch(ROOM, b))


def end_set(room: Room, set_id: str = "set-1") -> None:
    room.event(Event(type="set_end", t=room.clock.now, session="s-1", set=set_id))


def auto_reps(room: Room, set_id: str) -> int:
    return sum(1 for e in room.events if e.set == set_id and e.data["source"] == "auto")


def make_room(**engine: object) -> Room:
    clock = Clock()
    return Room(SessionEngine(SITE, exercise_profile=CATALOG.get, clock=clock,
                              **engine), clock)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["S01_ABD_L", "S01_ER_L", "S01_PEN_L"])
def test_real_recorded_sets_are_counted_by_the_engine_within_one_rep(name: str) -> None:
    table = np.loadtxt(SPAR / f"{name}.csv", delimiter=",", skiprows=1)  # 20 reps each
    room = make_room()
    room.event(session_start())
    room.event(set_start("set-1", STS, T0 + 0.5, planned=20))
    feed(room, imu_batches(table[:, 0], table[:, 1:], fs=50, t0=T0 + 1), 50)
    live = room.last.reps
    end_set(room)
    counted = auto_reps(room, "set-1")
    assert abs(counted - 20) <= 1, f"{name}: {counted} reps counted, 20 done"
    assert live <= counted <= live + 1  # the end adds at most the rep it cut off
    assert all(T0 + 1 <= e.t <= room.clock.now for e in room.events)


def test_a_sensor_mounted_any_way_counts_the_same() -> None:
    for seed in range(3):
        rng = np.random.default_rng(seed)
        sim = simulate_sensor_set(SetScenario(n_reps=8), fs=100, rng=rng,
                                  mount=random_rotation(rng))
        room = make_room()
        room.event(session_start())
        room.event(set_start("set-1", STEP, T0 + 0.5, planned=8))
        feed(room, imu_batches(sim.t, sim.samples, fs=100, t0=T0 + 1), 100)
        end_set(room)
        assert auto_reps(room, "set-1") == 8, f"seed {seed}"


def correct_to(room: Room, target: int, set_id: str) -> None:
    """The therapist taps +1 / −1 until the wall shows ``target``."""
    while room.last.reps != target:
        room.clock.now += 0.3
        room.event(rep(1 if room.last.reps < target else -1, room.clock.now, set_id=set_id))


def test_a_corrected_set_calibrates_the_counter_for_the_next_set() -> None:
    learned: dict[tuple[str | None, str], RepSetup] = {}
    labels: list[Labelled] = []
    room = make_room(rep_setup=lambda child, ex: learned.get((child, ex), RepSetup()),
                     on_labelled=labels.append)
    room.event(session_start())

    t, x = double_bump_set(10, 100)
    room.event(set_start("set-1", STS, T0 + 0.5, planned=10))
    feed(room, imu_batches(t, x, fs=50, t0=T0 + 1), 50)
    wrong = room.last.reps
    assert wrong != 10  # the defaults count the bumps
    correct_to(room, 10, "set-1")
    before_end = len(room.events)
    end_set(room)
    assert len(room.events) == before_end  # after a correction no rep is added at the end

    [label] = labels
    assert (label.child, label.exercise, label.kind, label.count, label.auto) == (
        "c-7f3a", STS, "imu", 10, wrong)
    assert label.fs == 50
    assert label.x.shape == (t.size, 6)
    calibration = learn(label)
    assert calibration != Calibration()
    learned[("c-7f3a", STS)] = RepSetup(calibration, Sensitivity.NORMAL)

    for i, (n, seed) in enumerate(((12, 1), (8, 2)), start=2):
        t2, x2 = double_bump_set(n, seed)
        start = room.clock.now + 5
        room.event(set_start(f"set-{i}", STS, start, planned=n))
        feed(room, imu_batches(t2, x2, fs=50, t0=start + 0.5, seq0=i * 100_000), 50)
        end_set(room, f"set-{i}")
        assert auto_reps(room, f"set-{i}") == n, f"set {i}"
    assert len(labels) == 1  # uncorrected sets teach nothing


def test_the_sensitivity_step_reaches_the_counter() -> None:
    rng = np.random.default_rng(3)
    # 6° swings: at the edge of a deliberate rep
    small = SetScenario(n_reps=10, amplitude=(6.0, 6.0), period_s=(2.0, 2.0), noise_sd=0.3)
    sim = simulate_sensor_set(small, fs=50, rng=rng)
    counts = {}
    for step in Sensitivity:
        room = make_room(rep_setup=lambda child, ex, step=step: RepSetup(None, step))
        room.event(session_start())
        room.event(set_start("set-1", STS, T0 + 0.5, planned=10))
        feed(room, imu_batches(sim.t, sim.samples, fs=50, t0=T0 + 1), 50)
        end_set(room)
        counts[step] = auto_reps(room, "set-1")
    assert counts[Sensitivity.FEWER] < counts[Sensitivity.MORE] == 10
    assert counts[Sensitivity.FEWER] <= counts[Sensitivity.NORMAL] <= counts[Sensitivity.MORE]


def test_settings_that_cannot_be_read_leave_the_defaults() -> None:
    def broken(child: str | None, exercise: str) -> RepSetup:
        raise OSError("database is locked")

    room = make_room(rep_setup=broken)
    room.event(session_start())
    room.event(set_start("set-1", STEP, T0 + 0.5, planned=8))
    sim = simulate_sensor_set(SetScenario(n_reps=8), fs=100, rng=np.random.default_rng(5))
    feed(room, imu_batches(sim.t, sim.samples, fs=100, t0=T0 + 1), 100)
    end_set(room)
    assert auto_reps(room, "set-1") == 8


@pytest.mark.broker
def test_on_mosquitto_a_corrected_set_is_stored_as_a_calibration_and_used_next(
    mosquitto: RunningBroker, site: str, tmp_path: Path
) -> None:
    store = open_store(tmp_path / "db.sqlite")
    store.add_child("c-7f3a", "")
    store.set_rep_sensitivity("c-7f3a", STS, "normal")
    recorder = Recorder(mosquitto.address("recorder"), store, client_id=f"rec-{site}", site=site)
    recorder.start()
    engine = EngineService(mosquitto.address("recorder"), store, site=site,
                           client_id=f"engine-{site}")
    engine.start()
    remote = Watcher(mosquitto, site)
    ingest = make_client(mosquitto.address("ingest"), client_id=f"ingest-{site}")
    connect(ingest, mosquitto.address("ingest"))
    ingest.loop_start()
    events = events_topic(site, ROOM)

    def send(batches: list[SampleBatch]) -> None:
        for info in [ingest.publish(samples_topic(site, ROOM, b.device), b.encode(), qos=1)
                     for b in batches]:
            info.wait_for_publish(5)

    try:
        assert recorder.wait_connected(5)
        assert engine.wait_ready(5)
        time.sleep(0.2)
        now = time.time()
        remote.publish(events, session_start(t=now).encode())
        remote.publish(events, set_start("set-1", STS, now + 0.1, planned=10).encode())
        assert wait_until(lambda: len(store.sets("s-1")) == 1 if store.sessions(site=site)
                          else False)
        t, x = double_bump_set(10, 100)
        send(imu_batches(t, x, fs=50, t0=now + 0.5))
        assert wait_until(lambda: remote.latest is not None and remote.latest.reps > 10)
        wrong = store.rep_count("set-1")
        assert wait_until(lambda: remote.latest is not None and remote.latest.reps == wrong)
        for i in range(wrong - 10):  # the therapist takes back the extra reps
            remote.publish(events, rep(-1, time.time() + i * 0.01).encode())
        assert wait_until(lambda: store.rep_count("set-1") == 10)
        remote.publish(events, Event(type="set_end", t=time.time(), session="s-1",
                                     set="set-1").encode())
        assert wait_until(lambda: (row := store.rep_calibration("c-7f3a", STS)) is not None
                          and row.calibration is not None, timeout=20)
        row = store.rep_calibration("c-7f3a", STS)
        assert row is not None
        assert row.calibration is not None
        assert Calibration.from_json(row.calibration) != Calibration()
        assert engine.learner.learned == 1

        t2, x2 = double_bump_set(12, 1)
        now = time.time()
        remote.publish(events, set_start("set-2", STS, now, planned=12).encode())
        assert wait_until(lambda: remote.latest is not None and remote.latest.set == "set-2")
        send(imu_batches(t2, x2, fs=50, t0=now + 0.5, seq0=100_000))
        assert wait_until(lambda: store.rep_count("set-2") >= 11)
        remote.publish(events, Event(type="set_end", t=time.time(), session="s-1",
                                     set="set-2").encode())
        assert wait_until(lambda: store.rep_count("set-2") == 12)
        assert {r.source for r in store.reps("set-2")} == {"auto"}
        assert engine.stats.rejected == 0
        assert recorder.stats.rejected == 0
    finally:
        ingest.loop_stop()
        ingest.disconnect()
        remote.stop()
        engine.stop()
        recorder.stop()
        store.close()


def test_correcting_a_finished_sets_count_teaches_too() -> None:
    labels: list[Labelled] = []
    room = make_room(on_labelled=labels.append)
    room.event(session_start())
    t, x = double_bump_set(10, 100)
    room.event(set_start("set-1", STS, T0 + 0.5, planned=10))
    feed(room, imu_batches(t, x, fs=50, t0=T0 + 1), 50)
    end_set(room)
    counted = auto_reps(room, "set-1")
    assert counted > 10
    assert labels == []  # not corrected (yet): nothing to learn
    for _ in range(counted - 10):  # the therapist fixes the final count between sets
        room.clock.now += 0.5
        room.event(rep(-1, room.clock.now))
    assert room.engine.stats.ignored_events == 0
    assert [lb.count for lb in labels] == list(range(counted - 1, 9, -1))
    assert labels[-1].auto == counted
    assert learn(labels[-1]) != Calibration()
