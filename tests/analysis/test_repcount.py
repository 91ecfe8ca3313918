"""The streaming rep counter: any orientation, any tempo, pauses, noise, real sets."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
from pathlib import Path

import numpy as np
import pytest

from analysis.errors import InvalidParameterError, InvalidSignalError
from analysis.repcalib import calibrate
from analysis.repcount import Rep, RepCounter
from analysis.repsettings import Calibration, Sensitivity
from analysis.repsynth import SensorSet, imu_samples, random_rotation, simulate_sensor_set
from analysis.synth import SetScenario
from tests.analysis.repsets import cut_squats, double_bump_set

FS = 50.0
SPAR = Path(__file__).resolve().parents[1] / "data" / "spar"


def _count(
    t: np.ndarray,
    samples: np.ndarray,
    *,
    kind: str = "imu",
    piece: int = 5,
    fs: float = FS,
    **settings: object,
) -> list[Rep]:
    counter = RepCounter(fs=fs, kind=kind, **settings)  # type: ignore[arg-type]
    reps: list[Rep] = []
    for i in range(0, t.size, piece):
        reps += counter.push(t[i : i + piece], samples[i : i + piece])
    return reps + counter.finish()


def _set(scenario: SetScenario, seed: int, motion: str = "rotation") -> SensorSet:
    return simulate_sensor_set(
        scenario,
        fs=FS,
        rng=np.random.default_rng(seed),
        motion=motion,  # type: ignore[arg-type]
    )


SQUATS = {
    "steady": SetScenario(n_reps=10),
    "faster": SetScenario(n_reps=12, period_s=(4.0, 1.5)),
    "slower": SetScenario(n_reps=8, period_s=(1.4, 4.5)),
    "fading": SetScenario(n_reps=12, amplitude=(28.0, 12.0)),
    "pause": SetScenario(n_reps=10, pause_s=10.0),
    "noisy": SetScenario(n_reps=10, noise_sd=1.5, spikes=4, wander=8.0, offset=20.0),
    "irregular": SetScenario(n_reps=12, tempo_jitter=0.35, amplitude_jitter=0.35),
}


@pytest.mark.parametrize("name", list(SQUATS))
def test_every_rep_is_counted_once_near_its_time(name: str) -> None:
    for seed in range(3):
        sim = _set(SQUATS[name], seed)
        reps = _count(sim.t, sim.samples)
        assert len(reps) == SQUATS[name].n_reps, f"seed {seed}"
        times = np.array([r.t for r in reps])
        period = np.gradient(sim.rep_times)
        assert np.all(np.abs(times - sim.rep_times) < 0.2 * period), f"seed {seed}"
        assert all(0.0 <= r.confidence <= 1.0 for r in reps)


def test_turning_the_sensor_does_not_change_the_count() -> None:
    scenario = SetScenario(n_reps=9, tempo_jitter=0.2, noise_sd=0.8)
    mounts = [random_rotation(np.random.default_rng(100 + k)) for k in range(6)]
    counts = set()
    for mount in mounts:
        sim = simulate_sensor_set(scenario, fs=FS, rng=np.random.default_rng(5), mount=mount)
        counts.add(len(_count(sim.t, sim.samples)))
    assert counts == {9}


@pytest.mark.parametrize(
    ("motion", "scenario"),
    [
        (
            "translation",
            SetScenario(
                n_reps=10,
                shape="sine",
                amplitude=(4.0, 4.0),
                period_s=(2.2, 1.4),
                noise_sd=0.3,
                hold=0.0,
            ),
        ),
        (
            "cop",
            SetScenario(
                n_reps=8,
                shape="sine",
                amplitude=(6.0, 6.0),
                period_s=(3.0, 2.0),
                noise_sd=0.15,
                hold=0.0,
            ),
        ),
        (
            "cop",
            SetScenario(
                n_reps=8,
                shape="pulse",
                amplitude=(6.0, 4.0),
                period_s=(3.5, 3.5),
                noise_sd=0.15,
                hold=0.3,
                pause_s=8.0,
            ),
        ),
    ],
    ids=["step-up", "weight-shift", "reach-with-pause"],
)
def test_steps_and_board_movements_are_counted(motion: str, scenario: SetScenario) -> None:
    kind = "cop" if motion == "cop" else "imu"
    for seed in range(3):
        sim = _set(scenario, seed, motion)
        assert len(_count(sim.t, sim.samples, kind=kind)) == scenario.n_reps, f"seed {seed}"


def test_rest_and_sensor_noise_count_nothing() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(0, 40, 1 / FS)
    sway = 2.0 * np.sin(2 * np.pi * 0.2 * t) * np.sin(2 * np.pi * 0.03 * t)  # ±2° drift
    samples = imu_samples(sway, fs=FS, rng=rng, noise=0.5)
    assert _count(t, samples) == []


def test_streaming_in_any_pieces_gives_the_same_reps() -> None:
    sim = _set(SQUATS["irregular"], 11)
    whole = _count(sim.t, sim.samples, piece=sim.t.size)
    assert len(whole) == SQUATS["irregular"].n_reps
    for piece in (1, 7, 50):
        assert _count(sim.t, sim.samples, piece=piece) == whole


def test_a_rep_appears_within_half_a_period_of_its_end() -> None:
    scenario = SetScenario(n_reps=10, period_s=(3.0, 1.6), tempo_jitter=0.2)
    for seed in range(3):
        sim = _set(scenario, seed)
        counter = RepCounter(fs=FS)
        shown = []
        for i in range(sim.t.size):
            shown += [sim.t[i] for _ in counter.push(sim.t[i : i + 1], sim.samples[i : i + 1])]
        assert len(shown) == scenario.n_reps
        periods = np.diff(np.append(sim.rep_times, sim.rep_ends[-1] + 0.5))
        assert np.all(np.asarray(shown) - sim.rep_ends <= 0.5 * periods), f"seed {seed}"


def test_missing_samples_are_bridged() -> None:
    sim = _set(SQUATS["steady"], 4)
    samples = sim.samples.copy()
    samples[400:410] = np.nan  # a dropped radio packet
    samples[700, 2] = np.nan
    assert len(_count(sim.t, samples)) == SQUATS["steady"].n_reps


def test_calibrating_on_one_set_fixes_the_next() -> None:
    t, samples = double_bump_set(10, 100)
    assert len(_count(t, samples)) != 10  # the hard case: the defaults count bumps
    calibration = calibrate(t, samples, count=10, fs=FS)
    assert calibration != Calibration()
    assert Calibration.from_json(calibration.to_json()) == calibration
    for seed, n in ((1, 12), (2, 8), (3, 11)):
        t2, s2 = double_bump_set(n, seed)
        assert len(_count(t2, s2, calibration=calibration)) == n, f"seed {seed}"


def test_calibrating_a_set_the_defaults_count_right_learns_only_its_tempo() -> None:
    sim = _set(SQUATS["steady"], 8)  # a squat every 2.5 s
    calibration = calibrate(sim.t, sim.samples, count=10, fs=FS)
    assert list(calibration.changes()) == ["period_s"]
    lo, hi = calibration.period_s
    assert lo < 2.5 < hi
    # the child may be much faster or slower the next day: still counted
    for period, seed in ((1.6, 1), (1.6, 2), (4.0, 3), (4.0, 4)):
        scenario = SetScenario(n_reps=10, period_s=(period, period), tempo_jitter=0.1)
        next_set = _set(scenario, seed)
        assert len(_count(next_set.t, next_set.samples, calibration=calibration)) == 10


def test_the_other_arms_set_teaches_that_a_first_rep_with_two_bumps_is_one() -> None:
    left, right = (
        np.loadtxt(SPAR / f"S01_TRAP_{arm}.csv", delimiter=",", skiprows=1) for arm in "LR"
    )
    # untuned, the first rep's two bumps count twice: the tempo is not known yet
    assert len(_count(right[:, 0], right[:, 1:])) == 21
    calibration = calibrate(left[:, 0], left[:, 1:], count=20, fs=FS)
    assert len(_count(right[:, 0], right[:, 1:], calibration=calibration)) == 20


def test_a_recording_stopped_just_after_the_last_reps_extreme_counts_that_rep() -> None:
    for seed in range(3):
        assert len(_count(*cut_squats(10, 0.6, seed))) == 10  # out, and on the way back
        assert len(_count(*cut_squats(10, 0.3, seed))) == 9  # barely begun


def test_a_count_the_set_does_not_show_teaches_nothing() -> None:
    # 12 squats recorded; the therapist counted 10 (two were warming up)
    calibration = calibrate(*cut_squats(12, 0.6, 1), count=10, fs=FS)
    assert calibration == Calibration()
    assert len(_count(*cut_squats(10, 0.6, 2), calibration=calibration)) == 10


def test_sensitivity_steps_move_the_count_the_expected_way() -> None:
    # 6° swings: at the edge of what counts as a deliberate rep
    small = SetScenario(n_reps=10, amplitude=(6.0, 6.0), period_s=(2.0, 2.0), noise_sd=0.3)
    for seed in range(3):
        sim = _set(small, seed)
        fewer, normal, more = (
            len(_count(sim.t, sim.samples, sensitivity=step)) for step in Sensitivity
        )
        assert fewer <= normal <= more
        assert fewer < more
        assert more == 10


def test_spar_sets_are_counted_within_one_rep_untuned() -> None:
    files = sorted(SPAR.glob("S*.csv"))
    assert len(files) == 5
    for path in files:
        table = np.loadtxt(path, delimiter=",", skiprows=1)
        got = len(_count(table[:, 0], table[:, 1:]))
        assert abs(got - 20) <= 1, f"{path.name}: {got} reps counted, 20 done"


def test_bad_input_is_refused_with_a_clear_message() -> None:
    with pytest.raises(InvalidParameterError, match="kind"):
        RepCounter(fs=FS, kind="emg")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="sensitivity"):
        RepCounter(fs=FS, sensitivity="max")
    with pytest.raises(InvalidParameterError, match="fs"):
        RepCounter(fs=0)
    with pytest.raises(InvalidSignalError, match=r"shape \(n, 6\)"):
        RepCounter(fs=FS).push(np.arange(3.0), np.zeros((3, 2)))
    with pytest.raises(InvalidSignalError, match="lengths differ"):
        RepCounter(fs=FS, kind="cop").push(np.arange(3.0), np.zeros((4, 2)))
    with pytest.raises(InvalidParameterError, match="period_s"):
        Calibration(period_s=(3.0, 1.0))
    with pytest.raises(InvalidParameterError, match="not a calibration"):
        Calibration.from_json('{"threshold": 1, "colour": "red"}')
    with pytest.raises(InvalidParameterError, match="count"):
        calibrate(np.arange(200) / FS, np.zeros((200, 6)), count=-1, fs=FS)


def test_reset_starts_a_new_set() -> None:
    sim = _set(SQUATS["steady"], 3)
    counter = RepCounter(fs=FS)
    first = counter.push(sim.t, sim.samples) + counter.finish()
    counter.reset()
    assert counter.count == 0
    assert counter.push(sim.t, sim.samples) + counter.finish() == first


@pytest.mark.parametrize(
    "name",
    ["analysis.repcount", "analysis.repsettings", "analysis.repcalib", "analysis.repsynth"],
)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_scenarios_are_reproducible() -> None:
    a = _set(dataclasses.replace(SQUATS["noisy"], n_reps=4), 1)
    b = _set(dataclasses.replace(SQUATS["noisy"], n_reps=4), 1)
    np.testing.assert_array_equal(a.samples, b.samples)
