from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pytest
from scipy.signal import find_peaks

from contract import SampleBatch
from ingest.devices.base import BOARD_COLUMNS, IMU_COLUMNS
from ingest.devices.board import cop_from_corners
from ingest.devices.common import ConfigError
from ingest.devices.scenario import EXERCISES, Phase
from ingest.devices.simulator import SimulatedRoom, SimulatorConfig
from tests.ingest.devices.fakes import FakeClock

FS = 100.0
SECONDS = 900


@dataclass
class Session:
    room: SimulatedRoom
    t: np.ndarray
    board: np.ndarray
    imu: np.ndarray

    def span(self, start: float, end: float) -> slice:
        return slice(int(np.ceil(start * FS)), int(np.ceil(end * FS)))

    @property
    def phases(self) -> list[Phase]:
        return self.room.timeline.phases(0.0, self.t[-1] - 60)  # phases well inside the data

    def pitch_deg(self, sl: slice) -> np.ndarray:
        ax, ay, az = self.imu[sl, 0], self.imu[sl, 1], self.imu[sl, 2]
        return np.degrees(np.arctan2(-ax, np.hypot(ay, az)))


def record(room: SimulatedRoom, seconds: float) -> Session:
    board, imu = room.sources()
    board.setup()
    n = int(seconds * FS)
    rb: list = []
    ri: list = []
    while len(rb) < n:
        rb += board.read(0.1)
        ri += imu.read(0.1)
    return Session(
        room,
        np.array([r.t_dev for r in rb]),
        np.array([r.values for r in rb]),
        np.array([r.values for r in ri]),
    )


@pytest.fixture(scope="module")
def session() -> Session:
    return record(SimulatedRoom(seed=7, speed=0), SECONDS)


# ----------------------------------------------------------------------------- basics


def test_sources_are_a_board_under_the_feet_and_a_trunk_imu() -> None:
    board, imu = SimulatedRoom(board_id="board-9", imu_id="imu-9").sources()
    assert (board.device, board.kind, board.columns, board.placement) == (
        "board-9",
        "board",
        BOARD_COLUMNS,
        "under-feet",
    )
    assert (imu.device, imu.kind, imu.columns, imu.placement) == (
        "imu-9",
        "imu",
        IMU_COLUMNS,
        "trunk",
    )
    assert board.period == imu.period == 0.01


def test_device_time_starts_at_zero_and_is_regular(session: Session) -> None:
    assert session.t[0] == 0.0
    np.testing.assert_allclose(np.diff(session.t), 1 / FS, atol=1e-9)
    assert len(session.board) == len(session.imu)


def test_readings_fit_the_wire_schema(session: Session) -> None:
    board = session.room.sources()[0]
    batch = SampleBatch(
        device=board.device,
        kind=board.kind,
        boot=board.boot,
        seq=0,
        t_dev=0.0,
        period=board.period,
        t_host=1.7e9,
        columns=board.columns,
        rows=tuple(tuple(r) for r in session.board[:25]),
    )
    assert len(batch.rows) == 25


def test_same_seed_same_session_however_it_is_read() -> None:
    a = record(SimulatedRoom(seed=11, speed=0), 30)
    room = SimulatedRoom(seed=11, speed=0)
    pieces = [room.samples(n0, n1) for n0, n1 in ((0, 7), (7, 1500), (1500, 3000))]
    board = np.concatenate([p[0] for p in pieces])
    imu = np.concatenate([p[1] for p in pieces])
    np.testing.assert_array_equal(a.board[:3000], board)
    np.testing.assert_array_equal(a.imu[:3000], imu)
    assert room.phase_at(25.0) == a.room.phase_at(25.0)


def test_different_seeds_give_different_sessions() -> None:
    a, b = SimulatedRoom(seed=1, speed=0), SimulatedRoom(seed=2, speed=0)
    assert not np.array_equal(a.samples(0, 500)[0], b.samples(0, 500)[0])
    assert a.phase_at(100.0) != b.phase_at(100.0)


# ----------------------------------------------------------------------------- scenario


def test_timeline_cycles_through_exercises_with_reps_and_rests(session: Session) -> None:
    phases = session.phases
    assert phases[0].name == "rest"
    assert phases[0].start == 0.0
    for before, after in zip(phases, phases[1:], strict=False):
        assert after.start == before.end
        assert not (before.exercise and after.exercise)  # always a rest in between
    exercises = [p for p in phases if p.exercise]
    assert {p.name for p in exercises} == set(EXERCISES)
    assert {p.surface for p in exercises} == {"firm", "foam"}
    assert any(p.name == "off" for p in phases)
    for p in exercises:
        assert 20.0 <= p.duration <= 50.0
        if p.name == "foam-stand":
            assert p.surface == "foam"
            assert p.reps == ()
        else:
            assert 3 <= len(p.reps) <= 8
            assert all(p.start < t < p.end for t in p.rep_times)
            tempos = [r.duration for r in p.reps]
            assert max(tempos) > min(tempos)  # tempo varies within a set


def test_reps_show_in_the_trunk_pitch_of_squats_and_reaches(session: Session) -> None:
    for p in session.phases:
        if p.name not in ("squat-to-stand", "reach"):
            continue
        sl = session.span(p.start, p.end)
        pitch = session.pitch_deg(sl)
        peaks, _ = find_peaks(pitch, prominence=8.0)
        peak_times = session.t[sl][peaks]
        assert len(peaks) == len(p.reps), p
        np.testing.assert_allclose(peak_times, p.rep_times, atol=0.3)
        lead_in = pitch[: int((p.reps[0].start - p.start) * FS)]
        assert np.ptp(lead_in) < 5.0  # no movement before the first rep


def test_lateral_shifts_move_the_cop_to_alternate_sides(session: Session) -> None:
    seen = 0
    for p in session.phases:
        if p.name != "lateral-shift":
            continue
        sl = session.span(p.start, p.end)
        _, _, ml = cop_from_corners(session.board[sl])
        base = np.median(ml[: int((p.reps[0].start - p.start) * FS)])
        shifts = [(ml[int(round((rep.center - p.start) * FS))] - base) * rep.side for rep in p.reps]
        assert min(shifts) > 0  # every rep towards the loaded foot
        assert np.mean(shifts) > 2.5  # cm
        assert {rep.side for rep in p.reps} == {1, -1}
        seen += 1
    assert seen


def test_child_steps_off_the_board_during_some_rests(session: Session) -> None:
    offs = [p for p in session.phases if p.name == "off"]
    assert offs
    for p in offs:
        total = session.board[session.span(p.start + 1.0, p.end - 1.0)].sum(axis=1)
        assert np.abs(total).max() < 0.5  # nobody on the board
        after = session.board[session.span(p.end + 1.0, p.end + 2.0)].sum(axis=1)
        assert after.min() > 10.0  # back on


# ----------------------------------------------------------------------------- realism


def quiet(session: Session, name: str, surface: str) -> list[slice]:
    return [
        session.span(p.start + 2.0, p.end - 0.5)
        for p in session.phases
        if p.name == name and p.surface == surface and p.duration > 5
    ]


def test_a_small_child_on_the_board(session: Session) -> None:
    mass = session.room.child.mass_kg
    assert 15.0 <= mass <= 21.0
    for sl in quiet(session, "rest", "firm"):
        total = session.board[sl].sum(axis=1)
        assert total.mean() == pytest.approx(mass, rel=0.02)
        assert session.board[sl].min() > 1.0  # every corner carries some load


def test_quiet_standing_sway_is_millimetres_to_two_centimetres(session: Session) -> None:
    for sl in quiet(session, "rest", "firm"):
        _, ap, ml = cop_from_corners(session.board[sl])
        for axis in (ap, ml):
            assert 0.1 < axis.std() < 1.0
            assert 0.3 < np.ptp(axis) < 4.0
        assert abs(np.median(ap)) < 3
        assert abs(np.median(ml)) < 3


def test_sway_is_larger_on_foam_than_on_firm_ground(session: Session) -> None:
    def sway(slices: list[slice]) -> float:
        values = []
        for sl in slices:
            _, ap, ml = cop_from_corners(session.board[sl])
            values.append(np.hypot(ap.std(), ml.std()))
        return float(np.mean(values))

    foam, firm = quiet(session, "foam-stand", "foam"), quiet(session, "rest", "firm")
    assert foam
    assert firm
    assert sway(foam) > 1.3 * sway(firm)


def test_sway_has_most_power_between_0_1_and_1_hz(session: Session) -> None:
    from scipy.signal import welch

    sl = max(quiet(session, "foam-stand", "foam"), key=lambda s: s.stop - s.start)
    _, ap, _ = cop_from_corners(session.board[sl])
    f, p = welch(ap - ap.mean(), fs=FS, nperseg=1024)
    band = p[(f >= 0.1) & (f <= 1.0)].sum()
    assert band > p[f > 1.0].sum()
    assert band > 0.3 * p.sum()


def test_imu_reads_gravity_and_little_rotation_at_rest(session: Session) -> None:
    for sl in quiet(session, "rest", "firm"):
        acc = np.linalg.norm(session.imu[sl, :3], axis=1)
        assert acc.mean() == pytest.approx(1.0, abs=0.02)
        gyro = session.imu[sl, 3:]
        assert np.sqrt((gyro**2).mean()) < 8.0  # deg/s


def test_trunk_pitch_follows_the_board_during_reaches(session: Session) -> None:
    for p in session.phases:
        if p.name == "reach":
            sl = session.span(p.start, p.end)
            _, ap, _ = cop_from_corners(session.board[sl])
            assert np.corrcoef(session.pitch_deg(sl), ap)[0, 1] > 0.7


def test_gyroscope_is_the_rate_of_the_orientation(session: Session) -> None:
    checked = 0
    bias = session.room.child.gyro_bias_dps[1]  # the simulated sensor's constant offset
    for exercise in session.phases:
        if exercise.name != "squat-to-stand":
            continue
        sl = session.span(exercise.start, exercise.end)
        pitch = session.pitch_deg(sl)
        integrated = np.cumsum(session.imu[sl, 4] - bias) / FS
        drift = np.abs((pitch - pitch[0]) - integrated)
        assert drift.max() < 3.0  # degrees, over 20–50 s of squats
        assert np.ptp(pitch) > 25.0
        checked += 1
    assert checked


# ----------------------------------------------------------------------------- pacing


def test_paced_reads_return_what_is_due_and_keep_the_devices_in_step() -> None:
    clock = FakeClock()
    room = SimulatedRoom(seed=3, clock=clock, sleep=clock.sleep)
    board, imu = room.sources()
    board.setup()
    assert [r.t_dev for r in board.read(0.5)] == [0.0]
    clock.advance(2.0)
    got = board.read(0.5)
    assert len(got) == 200
    assert got[-1].t_dev == pytest.approx(2.0)
    assert len(imu.read(0.5)) == 201
    assert clock.sleeps == []


def test_a_read_with_nothing_due_sleeps_at_most_the_timeout() -> None:
    clock = FakeClock()
    room = SimulatedRoom(seed=3, clock=clock, sleep=clock.sleep, speed=0.5)
    board = room.sources()[0]
    board.setup()
    board.read(0.0)
    assert board.read(0.005) == []  # the next sample is due 20 ms later at half speed
    assert clock.sleeps == [0.005]
    assert [r.t_dev for r in board.read(1.0)] == [0.01]
    assert clock.sleeps[-1] == pytest.approx(0.015)


def test_a_given_start_sets_device_time_zero() -> None:
    clock = FakeClock()
    room = SimulatedRoom(seed=3, clock=clock, sleep=clock.sleep, start=clock.now - 1.0)
    assert len(room.sources()[0].read(0.0)) == 101


def test_speed_zero_runs_as_fast_as_possible_without_sleeping() -> None:
    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s")

    room = SimulatedRoom(seed=3, speed=0, sleep=no_sleep)
    board = room.sources()[0]
    times = [r.t_dev for _ in range(20) for r in board.read(1.0)]
    assert len(times) == 20_000
    assert times[-1] == pytest.approx(199.99)


def test_real_time_pacing_gives_about_fs_samples_per_second() -> None:
    room = SimulatedRoom(seed=3, speed=1.0)
    board = room.sources()[0]
    board.setup()
    began = time.monotonic()
    count = 0
    while time.monotonic() - began < 0.5:
        count += len(board.read(0.05))
    elapsed = time.monotonic() - began
    # never ahead of real time; behind by at most one read timeout plus scheduling slack
    assert count <= elapsed * FS + 2
    assert count >= (elapsed - 0.15) * FS


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"seed": 1.5}, "seed"),
        ({"speed": -1.0}, "speed"),
        ({"fs": 5.0}, "fs"),
        ({"board_id": "Board"}, "board_id"),
        ({"board_id": "x", "imu_id": "x"}, "differ"),
    ],
)
def test_bad_simulator_config(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        SimulatorConfig(**kwargs)  # type: ignore[arg-type]
