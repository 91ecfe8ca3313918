"""BDS-convention sway metrics: known answers, the published BDS values, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal, stats

from analysis.errors import InvalidParameterError, InvalidSignalError, SignalTooShortError
from analysis.spectral import bds_mean_frequency, welch_psd
from analysis.sway import (
    mean_velocity,
    path_length,
    prediction_ellipse_area,
    rms_distance,
    sway_metrics,
)
from tests.analysis.conftest import DATA, assert_rel, bds_reference, load_bds

FS = 100.0


def _circle(radius: float, freq: float, seconds: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(int(seconds * FS)) / FS
    return radius * np.cos(2 * np.pi * freq * t), radius * np.sin(2 * np.pi * freq * t)


# ----------------------------------------------------------------------------- known answers


def test_circle_has_known_rms_velocity_area_and_frequency() -> None:
    r, f = 2.0, 0.5
    ml, ap = _circle(r, f)
    m = sway_metrics(ml, ap, fs=FS)
    n = ml.size
    assert m.rms_cm == pytest.approx(r, rel=1e-9)
    # chord length per sample: 2 r sin(π f / fs)
    assert m.mean_velocity_cm_s == pytest.approx(2 * r * math.sin(math.pi * f / FS) * FS, rel=2e-3)
    # covariance (r²/2)·n/(n−1) on each axis
    expected_area = math.pi * stats.f.ppf(0.95, 2, n - 2) * r**2 * (n + 1) / (n - 2)
    assert m.ellipse_area_cm2 == pytest.approx(expected_area, rel=1e-9)
    assert m.mean_frequency_hz == pytest.approx(f, rel=0.03)
    assert m.n == n
    assert m.duration_s == pytest.approx(20.0)


def test_straight_line_has_zero_area() -> None:
    t = np.arange(2000) / FS
    ml = 3.0 * np.sin(2 * np.pi * 0.3 * t)
    assert prediction_ellipse_area(ml, np.zeros_like(ml)) == pytest.approx(0.0, abs=1e-12)
    assert prediction_ellipse_area(ml, 0.5 * ml) == pytest.approx(0.0, abs=1e-9)


def test_white_noise_has_expected_area_and_mean_frequency() -> None:
    rng = np.random.default_rng(42)
    sigma = 0.5
    ml, ap = sigma * rng.standard_normal((2, 20000))
    m = sway_metrics(ml, ap, fs=FS)
    # ellipse of an isotropic normal: π · F(2, n−2) · 2σ² ≈ 2π σ² · 2.996
    assert m.ellipse_area_cm2 == pytest.approx(math.pi * 2.9957 * 2 * sigma**2, rel=0.05)
    assert m.rms_cm == pytest.approx(math.sqrt(2) * sigma, rel=0.02)
    # flat spectrum on 0..fs/2: mean frequency fs/4
    assert m.mean_frequency_hz == pytest.approx(FS / 4, rel=0.03)


def test_still_signal_has_zero_sway_and_undefined_frequency() -> None:
    m = sway_metrics(np.full(500, 1.5), np.full(500, -2.0), fs=FS)
    assert m.ellipse_area_cm2 == 0.0
    assert m.mean_velocity_cm_s == 0.0
    assert m.rms_cm == 0.0
    assert math.isnan(m.mean_frequency_hz)


def test_nan_samples_are_skipped_not_bridged() -> None:
    ml, ap = _circle(1.0, 0.5, seconds=10)
    gappy_ml, gappy_ap = ml.copy(), ap.copy()
    gappy_ml[300:400] = np.nan  # child stepped off for a second
    gappy_ap[300:400] = np.nan
    full = path_length(ml, ap)
    assert path_length(gappy_ml, gappy_ap) == pytest.approx(
        full - path_length(ml[299:401], ap[299:401]), rel=1e-9
    )
    m = sway_metrics(gappy_ml, gappy_ap, fs=FS)
    assert m.n == ml.size - 100
    assert m.rms_cm == pytest.approx(1.0, rel=0.01)
    assert m.mean_frequency_hz == pytest.approx(0.5, rel=0.05)


# ----------------------------------------------------------------------------- Welch


def test_welch_matches_scipy() -> None:
    x = np.random.default_rng(1).standard_normal((1001, 2)).cumsum(axis=0)
    for detrend in ("constant", "linear"):
        for nperseg, noverlap, nfft in ((500, 250, None), (250, 125, 1001), (333, 0, 400)):
            f, p = welch_psd(
                x, fs=25, nperseg=nperseg, noverlap=noverlap, nfft=nfft, detrend=detrend
            )
            f2, p2 = signal.welch(
                x,
                fs=25,
                window="hann",
                nperseg=nperseg,
                noverlap=noverlap,
                nfft=nfft,
                detrend=detrend,
                axis=0,
            )
            np.testing.assert_allclose(f, f2)
            np.testing.assert_allclose(p, p2, rtol=1e-10, atol=1e-12 * p2.max())


# ----------------------------------------------------------------------------- BDS reference


def _check_bds_trial(path, ref: dict[str, float]) -> None:
    ml, ap = load_bds(path)
    m = sway_metrics(ml, ap, fs=FS)
    assert_rel(m.ellipse_area_cm2, ref["COParea"], 1e-6, f"{path.name} area")
    assert_rel(m.mean_velocity_cm_s, ref["COPvelo"], 1e-6, f"{path.name} velocity")
    assert_rel(m.mean_frequency_hz, ref["COPmfreq"], 1e-6, f"{path.name} mean frequency")


@pytest.mark.parametrize("trial", ["BDS00001", "BDS00043", "BDS00163"])
def test_reproduces_published_bds_values(trial: str) -> None:
    ref = bds_reference(DATA / "bds" / "reference.tsv")
    _check_bds_trial(DATA / "bds" / f"{trial}.txt", ref[trial])


def test_reproduces_all_twenty_bds_trials() -> None:
    ref = bds_reference(DATA / "bds" / "reference.tsv")
    assert len(ref) == 20
    for trial, values in ref.items():
        _check_bds_trial(DATA / "bds" / "cop" / f"{trial}.tsv.xz", values)


# ----------------------------------------------------------------------------- errors


def test_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(InvalidSignalError, match="same length"):
        sway_metrics(np.zeros(100), np.zeros(99), fs=FS)


def test_too_few_valid_samples_are_rejected() -> None:
    ml = np.full(100, np.nan)
    ml[:5] = 1.0
    with pytest.raises(SignalTooShortError, match="5 valid samples"):
        sway_metrics(ml, np.zeros(100), fs=FS)


def test_bad_rate_is_rejected() -> None:
    with pytest.raises(InvalidParameterError, match="fs"):
        mean_velocity(np.zeros(100), np.zeros(100), fs=0)


# ----------------------------------------------------------------------------- properties

_coords = st.lists(
    st.tuples(
        st.floats(-20, 20, allow_nan=False, width=32), st.floats(-20, 20, allow_nan=False, width=32)
    ),
    min_size=64,
    max_size=200,
)


def _random_walk(points: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    xy = np.cumsum(np.asarray(points, dtype=np.float64), axis=0) / 10
    return xy[:, 0], xy[:, 1]


@settings(max_examples=40, deadline=None, database=None)
@given(_coords, st.floats(-500, 500), st.floats(-500, 500))
def test_metrics_do_not_depend_on_where_the_child_stands(
    points: list[tuple[float, float]], dx: float, dy: float
) -> None:
    ml, ap = _random_walk(points)
    a = sway_metrics(ml, ap, fs=FS)
    b = sway_metrics(ml + dx, ap + dy, fs=FS)
    scale = 1.0 + abs(dx) + abs(dy)
    assert b.ellipse_area_cm2 == pytest.approx(a.ellipse_area_cm2, rel=1e-6, abs=1e-9 * scale**2)
    assert b.mean_velocity_cm_s == pytest.approx(a.mean_velocity_cm_s, rel=1e-6, abs=1e-9 * scale)
    assert b.rms_cm == pytest.approx(a.rms_cm, rel=1e-6, abs=1e-9 * scale)
    if a.ellipse_area_cm2 > 1e-6:
        assert b.mean_frequency_hz == pytest.approx(a.mean_frequency_hz, rel=1e-5)


@settings(max_examples=40, deadline=None, database=None)
@given(_coords, st.floats(0.01, 100))
def test_metrics_scale_with_sway_size(points: list[tuple[float, float]], k: float) -> None:
    ml, ap = _random_walk(points)
    a = sway_metrics(ml, ap, fs=FS)
    b = sway_metrics(k * ml, -k * ap, fs=FS)  # scaled and mirrored
    assert b.ellipse_area_cm2 == pytest.approx(k**2 * a.ellipse_area_cm2, rel=1e-6, abs=1e-12)
    assert b.mean_velocity_cm_s == pytest.approx(k * a.mean_velocity_cm_s, rel=1e-9)
    assert b.rms_cm == pytest.approx(k * a.rms_cm, rel=1e-9)
    if a.ellipse_area_cm2 > 1e-6:
        assert b.mean_frequency_hz == pytest.approx(a.mean_frequency_hz, rel=1e-6)


@settings(max_examples=30, deadline=None, database=None)
@given(_coords, st.floats(0, 2 * math.pi))
def test_area_velocity_rms_do_not_depend_on_board_orientation(
    points: list[tuple[float, float]], angle: float
) -> None:
    ml, ap = _random_walk(points)
    c, s = math.cos(angle), math.sin(angle)
    a = sway_metrics(ml, ap, fs=FS)
    b = sway_metrics(c * ml - s * ap, s * ml + c * ap, fs=FS)
    assert b.ellipse_area_cm2 == pytest.approx(a.ellipse_area_cm2, rel=1e-6, abs=1e-9)
    assert b.mean_velocity_cm_s == pytest.approx(a.mean_velocity_cm_s, rel=1e-9)
    assert b.rms_cm == pytest.approx(a.rms_cm, rel=1e-9)


def test_mean_frequency_tracks_the_sway_rhythm() -> None:
    slow = bds_mean_frequency(*_circle(1.0, 0.3), fs=FS)
    fast = bds_mean_frequency(*_circle(1.0, 1.2), fs=FS)
    assert slow == pytest.approx(0.3, rel=0.05)
    assert fast == pytest.approx(1.2, rel=0.05)


def test_rms_of_single_axis_sine() -> None:
    ml, _ = _circle(2.0, 1.0)
    assert rms_distance(ml, np.zeros_like(ml)) == pytest.approx(2.0 / math.sqrt(2), rel=1e-9)


def test_prediction_ellipse_matches_the_area_and_the_data_orientation() -> None:
    from analysis.sway import prediction_ellipse

    rng = np.random.default_rng(3)
    along = rng.normal(0, 2.0, 3000)
    across = rng.normal(0, 0.5, 3000)
    angle = np.deg2rad(30)
    ml = 1.0 + along * np.cos(angle) - across * np.sin(angle)
    ap = -2.0 + along * np.sin(angle) + across * np.cos(angle)
    ellipse = prediction_ellipse(ml, ap)
    assert ellipse.area == pytest.approx(prediction_ellipse_area(ml, ap), rel=1e-12)
    assert (ellipse.cx, ellipse.cy) == pytest.approx((1.0, -2.0), abs=0.1)
    assert ellipse.semi_major / ellipse.semi_minor == pytest.approx(4.0, rel=0.1)
    # the major axis lies along 30° (either direction)
    assert np.rad2deg(ellipse.angle_rad) % 180 == pytest.approx(30, abs=3)
    xs, ys = ellipse.outline(32)
    inside = (((ml - ellipse.cx) * np.cos(ellipse.angle_rad) + (ap - ellipse.cy)
               * np.sin(ellipse.angle_rad)) / ellipse.semi_major) ** 2 + (
        (-(ml - ellipse.cx) * np.sin(ellipse.angle_rad) + (ap - ellipse.cy)
         * np.cos(ellipse.angle_rad)) / ellipse.semi_minor) ** 2 <= 1
    assert inside.mean() == pytest.approx(0.95, abs=0.015)
    assert (xs[0], ys[0]) == pytest.approx((xs[-1], ys[-1]))
