"""Streaming rep detection."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import InvalidParameterError, InvalidSignalError
from analysis.reps import DEFAULT_PROFILES, Rep, RepDetector, RepProfile
from analysis.synth import SetScenario, simulate_set

FS = 100.0
SQUAT = DEFAULT_PROFILES["squat"]


def _count(profile: RepProfile, t: np.ndarray, x: np.ndarray, chunk: int = 10) -> list[Rep]:
    det = RepDetector(profile, fs=FS)
    reps: list[Rep] = []
    for i in range(0, t.size, chunk):
        reps += det.push(t[i : i + chunk], x[i : i + chunk])
    return reps


def _assert_matches(reps: list[Rep], truth: np.ndarray, tolerance_s: float = 0.6) -> None:
    assert len(reps) == len(truth), f"counted {len(reps)} reps, {len(truth)} done"
    times = np.array([r.t for r in reps])
    assert np.abs(times - truth).max() < tolerance_s


@pytest.mark.parametrize(
    "scenario",
    [
        SetScenario(),
        SetScenario(period_s=(4.0, 1.5)),  # speeding up
        SetScenario(period_s=(1.4, 4.5)),  # slowing down
        SetScenario(amplitude=(28.0, 12.0)),  # getting tired
        SetScenario(pause_s=10.0),  # a break in the middle of the set
        SetScenario(noise_sd=1.5, spikes=4, wander=8.0, offset=20.0),  # noisy sensor, drift
    ],
    ids=["steady", "faster", "slower", "fading", "pause", "noisy"],
)
def test_every_squat_is_counted_once_at_its_time(scenario: SetScenario) -> None:
    for seed in range(3):
        sim = simulate_set(scenario, fs=FS, rng=np.random.default_rng(seed))
        _assert_matches(_count(SQUAT, sim.t, sim.x), sim.rep_times)


def test_weight_shifts_are_counted_on_the_cop() -> None:
    scenario = SetScenario(
        n_reps=8, shape="sine", period_s=(3.0, 2.0), amplitude=(6.0, 6.0), noise_sd=0.15
    )
    sim = simulate_set(scenario, fs=FS, rng=np.random.default_rng(7))
    _assert_matches(_count(DEFAULT_PROFILES["weight_shift"], sim.t, sim.x), sim.rep_times)


def test_chunk_size_does_not_change_the_result() -> None:
    sim = simulate_set(SetScenario(noise_sd=1.0), fs=FS, rng=np.random.default_rng(3))
    one = _count(SQUAT, sim.t, sim.x, chunk=sim.t.size)
    many = _count(SQUAT, sim.t, sim.x, chunk=7)
    assert one == many


def test_standing_still_or_small_wobble_counts_nothing() -> None:
    t = np.arange(0, 30, 1 / FS)
    rng = np.random.default_rng(0)
    wobble = 10 + 2.0 * np.sin(2 * np.pi * 0.5 * t) + 0.5 * rng.standard_normal(t.size)
    assert _count(SQUAT, t, wobble) == []


def test_double_bump_within_min_period_is_one_rep() -> None:
    t = np.arange(0, 12, 1 / FS)
    bump = lambda c: 20 * np.exp(-(((t - c) / 0.15) ** 2))  # noqa: E731
    x = bump(3.0) + bump(3.6) + bump(8.0)  # 0.6 s apart < 1.2 s minimum period
    reps = _count(SQUAT, t, x)
    assert len(reps) == 2
    assert reps[0].t == pytest.approx(3.0, abs=0.3)
    assert reps[1].t == pytest.approx(8.0, abs=0.3)


def test_polarity_selects_maxima_or_minima() -> None:
    sim = simulate_set(SetScenario(n_reps=6), fs=FS, rng=np.random.default_rng(1))
    down = RepProfile("pitch_deg", (0.04, 1.2), min_period_s=1.2, threshold=8.0, polarity=-1)
    _assert_matches(_count(down, sim.t, -sim.x), sim.rep_times)


def test_missing_samples_are_tolerated() -> None:
    sim = simulate_set(SetScenario(), fs=FS, rng=np.random.default_rng(2))
    x = sim.x.copy()
    x[::13] = np.nan
    x[:5] = np.nan
    _assert_matches(_count(SQUAT, sim.t, x), sim.rep_times)


def test_confidence_is_higher_for_clear_regular_reps() -> None:
    clean = simulate_set(
        SetScenario(amplitude=(30.0, 30.0), tempo_jitter=0.0, amplitude_jitter=0.0),
        fs=FS,
        rng=np.random.default_rng(0),
    )
    marginal = simulate_set(
        SetScenario(amplitude=(11.0, 11.0), tempo_jitter=0.35, noise_sd=1.0),
        fs=FS,
        rng=np.random.default_rng(0),
    )
    good = [r.confidence for r in _count(SQUAT, clean.t, clean.x)]
    poor = [r.confidence for r in _count(SQUAT, marginal.t, marginal.x)]
    assert all(0.0 <= c <= 1.0 for c in good + poor)
    assert np.mean(good) > np.mean(poor) + 0.2


def test_reset_starts_a_new_set() -> None:
    sim = simulate_set(SetScenario(n_reps=5), fs=FS, rng=np.random.default_rng(4))
    det = RepDetector(SQUAT, fs=FS)
    first = det.push(sim.t, sim.x)
    det.reset()
    assert det.count == 0
    assert det.push(sim.t, sim.x) == first


def test_default_profiles_cover_typical_exercises() -> None:
    assert {"squat", "weight_shift", "reach", "step"} <= set(DEFAULT_PROFILES)
    for profile in DEFAULT_PROFILES.values():
        RepDetector(profile, fs=50.0)  # every default works at a 50 Hz sensor rate


def test_bad_profiles_and_inputs_are_rejected() -> None:
    with pytest.raises(InvalidParameterError, match="signal must be one of"):
        RepProfile("knee_angle", (0.1, 1.0), min_period_s=1.0, threshold=1.0)
    with pytest.raises(InvalidParameterError, match="band_hz"):
        RepProfile("pitch_deg", (1.0, 0.5), min_period_s=1.0, threshold=1.0)
    with pytest.raises(InvalidParameterError, match="below fs/2"):
        RepDetector(DEFAULT_PROFILES["step"], fs=2.0)
    with pytest.raises(InvalidSignalError, match="lengths differ"):
        RepDetector(SQUAT, fs=FS).push(np.zeros(3), np.zeros(4))
