"""The session engine: auto reps from the exercise's signal, manual corrections, live
snapshots, recovery from the store — and, on a real Mosquitto with the recorder, the
count on the derived topic equals the stored count."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.synth import SetScenario, simulate_set
from contract import (
    DeviceStatus,
    Event,
    Kind,
    RoomState,
    SampleBatch,
    SchemaError,
    SwaySnapshot,
    Tilt,
    decode_room_state,
    derived_topic,
    events_topic,
    samples_topic,
)
from ingest.mqtt import connect, make_client
from record.engine import (
    PROFILE_FOR_CATALOG,
    Outgoing,
    RepTally,
    SessionEngine,
    rep_source,
)
from record.engine_service import EngineService
from record.recorder import Recorder
from store import Store, open_store
from store.catalog import DEFAULT_EXERCISES
from tests.conftest import RunningBroker, wait_until

T0 = 1_700_000_000.0
FS = 100.0
ROWS = 25
SITE = "clinic-a"
ROOM = "room-1"
CATALOG = {e.key: e.signal_profile for e in DEFAULT_EXERCISES}
STS = "sit-to-stand-foam"  # vertical-transfer: trunk pitch
SHIFT = "weight-shift-lateral-foam"  # ml-shift: board COP
HOLD = "stand-foam-pad"  # static-hold: counted by hand


# ----------------------------------------------------------------------------- helpers


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def imu_batches(
    pitch_deg: np.ndarray, *, t0: float, device: str = "imu-trunk", seq0: int = 0
) -> list[SampleBatch]:
    """A trunk IMU leaning forward by ``pitch_deg`` (gyro y = d pitch / dt)."""
    p = np.radians(pitch_deg)
    gy = np.degrees(np.gradient(p, 1 / FS))
    data = np.column_stack(
        [-np.sin(p), np.zeros_like(p), np.cos(p), np.zeros_like(p), gy, np.zeros_like(p)]
    )
    return _batches(data, ("ax", "ay", "az", "gx", "gy", "gz"), "imu", device, t0, seq0)


def board_batches(
    ml_cm: np.ndarray, *, t0: float, device: str = "board-1", seq0: int = 0, rows: int = ROWS
) -> list[SampleBatch]:
    """Loads putting the centre of pressure ``ml_cm`` right of the board centre."""
    right = 0.5 + ml_cm / 43.3
    fr = br = 10.0 * right  # a 20 kg child
    fl = bl = 10.0 * (1 - right)
    data = np.column_stack([fl, fr, bl, br])
    return _batches(data, ("fl", "fr", "bl", "br"), "board", device, t0, seq0, rows)


def _batches(
    data: np.ndarray,
    cols: tuple[str, ...],
    kind: Kind,
    device: str,
    t0: float,
    seq0: int,
    size: int = ROWS,
) -> list[SampleBatch]:
    out = []
    for i in range(0, len(data), size):
        rows = tuple(tuple(round(float(v), 6) for v in row) for row in data[i : i + size])
        seq = seq0 + i
        out.append(
            SampleBatch(device, kind, "boot-1", seq, seq / FS, 1 / FS, t0 + i / FS, cols, rows)
        )
    return out


def session_start(session: str = "s-1", t: float = T0, child: str = "c-7f3a") -> Event:
    return Event(type="session_start", t=t, session=session, author="ana", data={"child": child})


def set_start(
    set_id: str, exercise: str, t: float, session: str = "s-1", planned: int = 6
) -> Event:
    return Event(
        type="set_start",
        t=t,
        session=session,
        set=set_id,
        author="ana",
        data={
            "exercise": exercise,
            "surface": "foam-pad",
            "support": "pelvis",
            "planned_reps": planned,
        },
    )


def rep(
    delta: int, t: float, *, source: str = "manual", set_id: str = "set-1", session: str = "s-1"
) -> Event:
    return Event(
        type="rep",
        t=t,
        session=session,
        set=set_id,
        author="ana",
        data={"delta": delta, "source": source},
    )


class Room:
    """Drives one engine like the broker would: every event it emits comes back to it."""

    def __init__(self, engine: SessionEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.events: list[Event] = []
        self.snapshots: list[RoomState] = []

    def take(self, out: list[Outgoing]) -> None:
        for item in out:
            if isinstance(item.message, Event):
                assert item.topic == events_topic(SITE, ROOM)
                self.events.append(item.message)
                self.take(self.engine.on_event(ROOM, item.message))
            else:
                assert item.topic == derived_topic(SITE, ROOM)
                assert item.retain
                self.snapshots.append(decode_room_state(item.payload))

    def event(self, event: Event) -> None:
        self.take(self.engine.on_event(ROOM, event))

    def feed(self, batches: list[SampleBatch]) -> None:
        """Batches arrive in real time: the clock follows their host times."""
        for b in batches:
            self.clock.now = b.t_host + len(b.rows) / FS
            self.take(self.engine.on_batch(ROOM, b))

    @property
    def last(self) -> RoomState:
        return self.snapshots[-1]


@pytest.fixture
def room() -> Room:
    clock = Clock()
    return Room(SessionEngine(SITE, exercise_profile=CATALOG.get, clock=clock), clock)


def squats(n: int, seed: int = 1) -> np.ndarray:
    sim = simulate_set(
        SetScenario(n_reps=n, amplitude=(20.0, 20.0), offset=5.0),
        fs=FS,
        rng=np.random.default_rng(seed),
    )
    return sim.x


# ----------------------------------------------------------------------------- pure engine


def test_every_catalog_profile_maps_to_a_detector_or_to_hand_counting() -> None:
    for ex in DEFAULT_EXERCISES:
        assert ex.signal_profile in PROFILE_FOR_CATALOG
    assert rep_source("vertical-transfer") == "imu"
    assert rep_source("step") == "imu"
    assert rep_source("ml-shift") == "cop"
    assert rep_source("ap-shift") == "cop"
    assert rep_source("reach") == "cop"
    assert rep_source("static-hold") is None
    assert rep_source("no-such-profile") is None


def test_squats_on_the_trunk_imu_become_auto_rep_events_and_the_count(room: Room) -> None:
    room.event(session_start())
    room.event(set_start("set-1", STS, T0 + 1))
    assert room.last.set == "set-1"
    assert room.last.auto_count
    assert room.last.reps == 0
    room.feed(imu_batches(squats(6), t0=T0 + 1.5))
    assert len(room.events) == 6
    for e in room.events:
        assert (e.type, e.session, e.set) == ("rep", "s-1", "set-1")
        assert e.data["delta"] == 1
        assert e.data["source"] == "auto"
        assert 0 < e.data["confidence"] <= 1
    assert room.last.reps == 6
    assert room.last.tilt is not None
    assert -5 < room.last.tilt.pitch < 30
    assert room.last.child == "c-7f3a"
    assert room.last.exercise == STS


def test_lateral_weight_shifts_on_the_board_are_counted_with_sway_metrics(room: Room) -> None:
    sim = simulate_set(
        SetScenario(
            n_reps=8, period_s=(3.0, 3.0), amplitude=(8.0, 8.0), shape="sine", noise_sd=0.1
        ),
        fs=FS,
        rng=np.random.default_rng(4),
    )
    room.event(session_start())
    room.event(set_start("set-1", SHIFT, T0 + 1, planned=8))
    room.feed(board_batches(sim.x, t0=T0 + 1.5))
    assert room.last.reps == 8 == len(room.events)
    metrics = room.last.metrics
    assert metrics is not None
    assert metrics.rms_cm is not None
    assert 1.0 < metrics.rms_cm < 5.0
    assert metrics.mean_frequency_hz is not None
    assert 0.2 < metrics.mean_frequency_hz < 0.5
    assert room.last.tilt is None  # no IMU in this room


@pytest.mark.parametrize(("rows", "expected"), [(25, 40), (10, 100), (4, 100)])
def test_snapshots_follow_the_samples_at_most_ten_times_a_second(
    room: Room, rows: int, expected: int
) -> None:
    room.feed(board_batches(np.zeros(1000), t0=T0, rows=rows))  # 10 s of a still child
    assert expected - 2 <= len(room.snapshots) <= expected + 1
    assert room.snapshots[0].metrics is None  # under 2 s of data
    assert room.last.metrics is not None
    assert room.last.metrics.ellipse_area_cm2 is not None
    assert room.last.session is None
    assert room.last.reps == 0


def test_static_hold_is_counted_by_hand_only(room: Room) -> None:
    room.event(session_start())
    room.event(set_start("set-1", HOLD, T0 + 1, planned=3))
    room.feed(imu_batches(squats(4), t0=T0 + 1.5))
    assert room.events == []
    assert not room.last.auto_count
    room.event(rep(+1, T0 + 20))
    assert room.last.reps == 1


def test_manual_corrections_combine_with_auto_reps(room: Room) -> None:
    room.event(session_start())
    room.event(set_start("set-1", STS, T0 + 1))
    room.feed(imu_batches(squats(4), t0=T0 + 1.5))
    assert room.last.reps == 4
    t = room.clock.now
    room.event(rep(+1, t + 1))  # the therapist saw one more
    room.event(rep(+1, t + 2))
    assert room.last.reps == 6
    room.event(rep(-1, t + 3))  # and takes one back
    assert room.last.reps == 5
    for i in range(5):  # the detector withdraws its reps, never the therapist's
        room.event(rep(-1, t + 4 + i, source="auto"))
    assert room.last.reps == 1
    room.event(rep(-1, t + 10))
    room.event(rep(-1, t + 11))
    assert room.last.reps == 0  # never below zero


def test_a_redelivered_event_or_batch_counts_once(room: Room) -> None:
    room.event(session_start())
    room.event(set_start("set-1", STS, T0 + 1))
    plus = rep(+1, T0 + 2)
    room.event(plus)
    room.event(plus)
    assert room.last.reps == 1
    batches = imu_batches(squats(3), t0=T0 + 1.5)
    room.feed(batches)
    room.feed(batches[::3])  # a restarted ingest sends some again
    assert room.last.reps == 4
    assert room.engine.stats.duplicates == len(batches[::3])


def test_set_end_stops_detection(room: Room) -> None:
    room.event(session_start())
    room.event(set_start("set-1", STS, T0 + 1))
    signal = squats(6)
    batches = imu_batches(signal, t0=T0 + 1.5)
    half = len(batches) // 2
    room.feed(batches[:half])
    counted = room.last.reps
    assert 1 <= counted < 6
    end = room.clock.now
    room.event(Event(type="set_end", t=end, session="s-1", set="set-1"))
    # a rep whose return the end cut off may still count, at once; later samples never
    at_end = room.events[counted:]
    assert len(at_end) <= 1
    assert all(e.t <= end and e.data["source"] == "auto" for e in at_end)
    room.feed(batches[half:])
    assert len(room.events) == counted + len(at_end)
    assert room.last.set is None
    assert room.last.reps == 0
    assert not room.last.auto_count
    assert room.last.session == "s-1"
    room.event(Event(type="session_end", t=room.clock.now, session="s-1"))
    assert room.last.session is None
    assert room.last.child is None


def test_notes_and_tags_show_as_the_latest_note(room: Room) -> None:
    room.event(session_start())
    room.event(
        Event(
            type="note",
            t=T0 + 5,
            session="s-1",
            data={"text": "good trunk control", "family_visible": True},
        )
    )
    room.event(Event(type="tag", t=T0 + 3, session="s-1", data={"tag": "fatigue"}))
    note = room.last.last_note
    assert note is not None
    assert note.text == "good trunk control"
    assert note.family_visible
    room.event(Event(type="tag", t=T0 + 9, session="s-1", data={"tag": "fatigue"}))
    assert room.last.last_note is not None
    assert room.last.last_note.tag == "fatigue"


def test_a_device_that_goes_quiet_or_offline_drops_its_numbers(room: Room) -> None:
    both = board_batches(np.zeros(300), t0=T0) + imu_batches(np.full(300, 10.0), t0=T0)
    room.feed(sorted(both, key=lambda b: b.t_host))
    assert room.last.metrics is not None
    assert room.last.tilt is not None
    assert room.last.tilt.pitch == pytest.approx(10, abs=0.5)
    offline = DeviceStatus("imu-trunk", "imu", "offline", room.clock.now, reason="unplugged")
    room.take(room.engine.on_status(ROOM, offline))
    assert room.last.tilt is None
    assert room.last.metrics is not None
    room.take(room.engine.tick(room.clock.now + 5))
    assert room.last.metrics is None


def test_a_second_imu_on_the_pelvis_does_not_replace_the_trunk(room: Room) -> None:
    pelvis = DeviceStatus("imu-pelvis", "imu", "online", T0, placement="pelvis")
    room.take(room.engine.on_status(ROOM, pelvis))
    room.feed(imu_batches(np.full(200, 30.0), t0=T0, device="imu-pelvis"))
    room.feed(imu_batches(np.full(200, 5.0), t0=T0 + 2))
    assert room.last.tilt is not None
    assert room.last.tilt.pitch == pytest.approx(5, abs=0.5)


def test_bad_inputs_are_counted_and_never_stop_the_engine(room: Room) -> None:
    engine = room.engine
    room.event(session_start())
    room.event(set_start("set-x", "no-such-exercise", T0 + 1))  # the store refuses it too
    assert room.last.set is None
    room.event(rep(+1, T0 + 2, set_id="set-x"))  # rep for a set nobody started
    room.event(Event(type="set_end", t=T0 + 2, session="s-1", set="nope"))
    room.event(Event(type="note", t=T0 + 2, session="other", data={"text": "x"}))
    room.event(Event(type="tag", t=T0 + 2, session="s-1", data={"tag": "fatigue", "text": 5}))
    assert engine.stats.ignored_events == 5
    assert room.last.last_note is None
    odd = SampleBatch("board-1", "board", "b", 0, 0.0, 0.01, T0, ("a", "b"), ((1.0, 2.0),))
    assert engine.on_batch(ROOM, odd) == []
    assert engine.stats.rejected == 1
    room.event(set_start("set-1", STS, T0 + 3))
    still = (0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    cols = ("ax", "ay", "az", "gx", "gy", "gz")
    slow = SampleBatch("imu-trunk", "imu", "b", 0, 0.0, 1.0, T0 + 3, cols, (still,) * 3)
    room.take(engine.on_batch(ROOM, slow))  # 1 Hz: too slow for the rep counter
    assert engine.stats.rejected == 2
    room.feed(imu_batches(squats(3), t0=T0 + 6.5))
    assert room.last.reps == 3


def test_room_state_round_trips_and_validates() -> None:
    state = RoomState(
        "room-1",
        T0,
        "s-1",
        "c-7f3a",
        "set-1",
        STS,
        "foam-pad",
        "pelvis",
        5,
        2,
        T0 - 10,
        True,
        SwaySnapshot.from_values(
            ellipse_area_cm2=4.0, mean_velocity_cm_s=1.5, rms_cm=0.8, mean_frequency_hz=float("nan")
        ),
        Tilt(3.0, -1.0),
    )
    back = decode_room_state(state.encode())
    assert back == state
    assert back.metrics is not None
    assert back.metrics.mean_frequency_hz is None
    with pytest.raises(SchemaError, match="planned_reps"):
        RoomState(
            "room-1",
            T0,
            "s-1",
            set="set-1",
            exercise=STS,
            surface="foam-pad",
            support="pelvis",
            set_started_t=T0,
        )
    with pytest.raises(SchemaError, match="reps"):
        RoomState("room-1", T0, reps=3)
    with pytest.raises(SchemaError, match="child"):
        RoomState("room-1", T0, child="Emma Smith")
    with pytest.raises(SchemaError, match="tilt.pitch"):
        decode_room_state(state.encode().replace(b'"pitch":3.0', b'"pitch":"x"'))


# ----------------------------------------------------------------------------- with a store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "db.sqlite")
    opened.add_child("c-7f3a", "")  # children are registered before their sessions
    yield opened
    opened.close()


_STEP = st.tuples(
    st.sampled_from([1, 1, -1]), st.sampled_from(["auto", "manual"]), st.integers(0, 4)
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(_STEP, max_size=14))
def test_rep_tally_agrees_with_the_store(store: Store, steps: list[tuple[int, str, int]]) -> None:
    session = f"s-{time.monotonic_ns()}"
    store.apply_event(SITE, ROOM, session_start(session))
    store.apply_event(SITE, ROOM, set_start("set-" + session, STS, T0 + 1, session=session))
    tally = RepTally()
    for delta, source, dt in steps:
        store.apply_event(
            SITE,
            ROOM,
            rep(delta, T0 + 2 + dt, source=source, set_id="set-" + session, session=session),
        )
        if delta == 1:
            tally.add(T0 + 2 + dt, source)
        else:
            tally.revoke(source)
        assert tally.count == store.rep_count("set-" + session)


def test_a_restarted_engine_takes_session_set_and_count_from_the_store(store: Store) -> None:
    events = [
        session_start(),
        set_start("set-1", STS, T0 + 1),
        rep(+1, T0 + 2),
        rep(+1, T0 + 3, source="auto"),
        rep(+1, T0 + 4),
        rep(-1, T0 + 5),
        Event(type="note", t=T0 + 6, session="s-1", data={"text": "tired"}),
    ]
    for e in events:
        store.apply_event(SITE, ROOM, e)
    clock = Clock(T0 + 10)
    fresh = Room(SessionEngine(SITE, exercise_profile=CATALOG.get, clock=clock), clock)
    fresh.take(fresh.engine.restore(store))
    state = fresh.last
    assert (state.session, state.child, state.set, state.exercise) == (
        "s-1",
        "c-7f3a",
        "set-1",
        STS,
    )
    assert state.reps == store.rep_count("set-1") == 2
    assert state.last_note is not None
    assert state.last_note.text == "tired"
    for e in events:  # redelivered after the restart: nothing counts twice
        fresh.event(e)
    assert fresh.last.reps == 2
    correction = rep(-1, T0 + 11, source="auto")  # revokes the auto rep, in both
    store.apply_event(SITE, ROOM, correction)
    fresh.event(correction)
    assert fresh.last.reps == store.rep_count("set-1") == 1
    fresh.feed(imu_batches(squats(3), t0=T0 + 12))
    for e in fresh.events:
        store.apply_event(SITE, ROOM, e)
    assert fresh.last.reps == store.rep_count("set-1") == 4
    ended = Event(type="session_end", t=T0 + 60, session="s-1")
    store.apply_event(SITE, ROOM, ended)
    fresh.take(fresh.engine.restore(store))
    assert fresh.last.session is None
    assert fresh.last.set is None


def test_a_reconnect_resync_takes_missed_events_and_keeps_unstored_ones(
    store: Store, room: Room
) -> None:
    for e in (session_start(), set_start("set-1", STS, T0 + 1), rep(+1, T0 + 2)):
        store.apply_event(SITE, ROOM, e)
        room.event(e)
    late = rep(+1, T0 + 3)  # counted live; the recorder has not committed it yet
    room.event(late)
    missed = rep(-1, T0 + 4)  # stored while the engine was disconnected
    store.apply_event(SITE, ROOM, missed)
    room.take(room.engine.restore(store))
    assert room.last.reps == 1
    store.apply_event(SITE, ROOM, late)
    room.take(room.engine.restore(store))
    assert room.last.reps == store.rep_count("set-1") == 1


# ----------------------------------------------------------------------------- on Mosquitto


class Watcher:
    """A dashboard-like subscriber that keeps the latest snapshot of a room."""

    def __init__(self, broker: RunningBroker, site: str) -> None:
        self.latest: RoomState | None = None
        self.lock = threading.Lock()
        self.client = make_client(broker.address("dashboard"), client_id=f"watch-{site}")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(derived_topic(site, ROOM), qos=1)
        self.client.reconnect_delay_set(0.1, 0.5)
        connect(self.client, broker.address("dashboard"))
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.latest = decode_room_state(msg.payload)

    def shows(self, **expected: object) -> Callable[[], bool]:
        """A predicate: the latest snapshot has these field values."""

        def check() -> bool:
            with self.lock:
                state = self.latest
            return state is not None and all(getattr(state, k) == v for k, v in expected.items())

        return check

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()



@pytest.mark.broker
def test_auto_reps_reach_the_store_and_the_snapshot_count_equals_it(
    mosquitto: RunningBroker, site: str, tmp_path: Path
) -> None:
    store = open_store(tmp_path / "db.sqlite")
    store.add_child("c-7f3a", "")
    recorder = Recorder(mosquitto.address("recorder"), store, client_id=f"rec-{site}", site=site)
    recorder.start()
    engine = EngineService(
        mosquitto.address("recorder"), store, site=site, client_id=f"engine-{site}"
    )
    engine.start()
    remote = Watcher(mosquitto, site)
    ingest = make_client(mosquitto.address("ingest"), client_id=f"ingest-{site}")
    connect(ingest, mosquitto.address("ingest"))
    ingest.loop_start()
    try:
        assert recorder.wait_connected(5)
        assert engine.wait_ready(5)
        time.sleep(0.2)  # the recorder's subscription is acknowledged
        now = time.time()
        remote.publish(events_topic(site, ROOM), session_start(t=now).encode())
        remote.publish(events_topic(site, ROOM), set_start("set-1", STS, now + 0.1).encode())
        assert wait_until(lambda: remote.latest is not None and remote.latest.set == "set-1")
        assert wait_until(lambda: bool(store.sessions(site=site)) and len(store.sets("s-1")) == 1)
        infos = [
            ingest.publish(samples_topic(site, ROOM, b.device), b.encode(), qos=1)
            for b in imu_batches(squats(5), t0=now + 0.5)
        ]
        for info in infos:
            info.wait_for_publish(5)
        assert wait_until(lambda: store.rep_count("set-1") == 5)
        remote.publish(events_topic(site, ROOM), rep(-1, time.time()).encode())
        assert wait_until(lambda: store.rep_count("set-1") == 4)
        assert wait_until(lambda: remote.latest is not None and remote.latest.reps == 4)
        assert [r.source for r in store.reps("set-1")] == ["auto"] * 5
        assert remote.latest is not None
        assert remote.latest.reps == store.rep_count("set-1")
        assert engine.stats.rejected == 0
        assert recorder.stats.rejected == 0
    finally:
        ingest.loop_stop()
        ingest.disconnect()
        remote.stop()
        engine.stop()
        recorder.stop()
        store.close()


@pytest.mark.broker
def test_engine_service_restores_from_the_store_and_resyncs_after_a_broker_outage(
    mosquitto_factory: Callable[[], RunningBroker], site: str, tmp_path: Path
) -> None:
    broker = mosquitto_factory()  # a private one: this test stops it
    store = open_store(tmp_path / "db.sqlite")
    store.add_child("c-7f3a", "")
    now = time.time()
    for e in (session_start(t=now), set_start("set-1", STS, now + 0.1), rep(+1, now + 1),
              rep(+1, now + 2)):
        store.apply_event(site, ROOM, e)  # recorded before this engine started
    engine = EngineService(broker.address("recorder"), store, site=site)
    engine.start()
    wall = Watcher(broker, site)
    try:
        assert engine.wait_ready(5)
        assert wait_until(wall.shows(session="s-1", child="c-7f3a", set="set-1", reps=2))
        broker.broker.stop()
        store.apply_event(site, ROOM, rep(-1, now + 3))  # the recorder catches up meanwhile
        broker.broker.start()
        assert wait_until(lambda: engine.stats.connects >= 2)
        assert wait_until(wall.shows(set="set-1", reps=1))
        assert engine.stats.restores >= 2
    finally:
        wall.stop()
        engine.stop()
        store.close()
