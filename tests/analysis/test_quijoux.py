"""Quijoux et al. (2021) descriptors: the authors' reference values and properties."""

from __future__ import annotations

import json
import lzma
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.diffusion import diffusion_descriptors, mean_squared_displacement
from analysis.errors import InvalidSignalError, SignalTooShortError
from analysis.quijoux import max_pairwise_distance, quijoux_descriptors, velocity_peaks
from tests.analysis.conftest import DATA, assert_rel

REFERENCE = json.loads((DATA / "quijoux" / "reference_features_rows4000_7000.json").read_text())
FROM_RAW = ("mean_value_ML", "mean_value_AP")  # need the raw trial, see test below


@pytest.fixture(scope="module")
def descriptors(quijoux_processed: np.ndarray) -> dict[str, float]:
    return quijoux_descriptors(quijoux_processed[:, 0], quijoux_processed[:, 1], fs=25)


def test_descriptor_names_are_the_authors_names(descriptors: dict[str, float]) -> None:
    assert sorted(descriptors) == sorted(REFERENCE)
    assert len(descriptors) == 72


@pytest.mark.parametrize("name", sorted(set(REFERENCE) - set(FROM_RAW)))
def test_descriptor_matches_the_authors_value(descriptors: dict[str, float], name: str) -> None:
    assert_rel(descriptors[name], REFERENCE[name], 1e-6, name)


def test_raw_recording_through_swarii_and_filter_reproduces_the_processed_file(
    quijoux_processed: np.ndarray,
) -> None:
    """The authors' pipeline from their raw AMTI export: centre, SWARII 25 Hz, 10 Hz low-pass."""
    from analysis.preprocess import lowpass, resample_uniform

    with lzma.open(DATA / "quijoux" / "test.csv.xz", "rt") as raw_file:
        lines = raw_file.read().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("MocapFrame"))
    raw = np.loadtxt(lines[header + 1 :], delimiter=",")
    fz, mx, my = raw[:, 5], raw[:, 6], raw[:, 7]
    with np.errstate(invalid="ignore", divide="ignore"):  # unloaded plate rows: Fz = 0
        ml_all, ap_all = 100 * my / fz, 100 * mx / fz
    ml = (ml_all - np.nanmean(ml_all))[4000:7000]
    ap = (ap_all - np.nanmean(ap_all))[4000:7000]
    assert_rel(float(ml.mean()), REFERENCE["mean_value_ML"], 1e-6, "mean_value_ML")
    assert_rel(float(ap.mean()), REFERENCE["mean_value_AP"], 1e-6, "mean_value_AP")
    xy = np.column_stack([ml - ml.mean(), ap - ap.mean()])
    t = np.arange(xy.shape[0]) / 100.0
    # the authors' artefact purge drops the first 0.1 s and the last sample
    _, resampled = resample_uniform(t[10:-1], xy[10:-1], fs=25, method="swarii")
    processed = lowpass(resampled, fs=25, cutoff_hz=10, order=4)
    assert processed.shape == quijoux_processed.shape
    np.testing.assert_allclose(processed, quijoux_processed, rtol=0, atol=1e-9)


def test_mean_value_can_be_supplied_from_the_raw_trial(quijoux_processed: np.ndarray) -> None:
    d = quijoux_descriptors(
        quijoux_processed[:, 0], quijoux_processed[:, 1], fs=25, mean_value=(0.37, -0.23)
    )
    assert (d["mean_value_ML"], d["mean_value_AP"]) == (0.37, -0.23)


# ----------------------------------------------------------------------------- building blocks


def test_pairwise_range_is_the_diameter_of_the_trajectory() -> None:
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(300, 2))
    brute = max(np.hypot(*(pts[i] - pts).T).max() for i in range(len(pts)))
    assert max_pairwise_distance(pts[:, 0], pts[:, 1]) == pytest.approx(brute)
    # collinear points (no convex hull) still work
    x = np.linspace(-1, 3, 50)
    assert max_pairwise_distance(x, 2 * x) == pytest.approx(4 * math.sqrt(5))


def test_velocity_peaks_of_a_sine() -> None:
    t = np.arange(0, 10, 0.01)
    speed = 2.0 * np.sin(2 * np.pi * 1.0 * t + 0.3)
    crossings, pos, neg, both = velocity_peaks(speed)
    assert crossings == 20
    assert pos == pytest.approx(2.0, rel=1e-3)
    assert neg == pytest.approx(2.0, rel=1e-3)
    assert both == pytest.approx(2.0, rel=1e-3)


def test_msd_of_a_line_grows_with_the_square_of_the_lag() -> None:
    msd = mean_squared_displacement(0.5 * np.arange(100.0), max_lag=10)
    np.testing.assert_allclose(msd, 0.25 * np.arange(11.0) ** 2)


def test_brownian_sway_has_diffusion_exponent_one_half() -> None:
    rng = np.random.default_rng(5)
    walk = np.cumsum(rng.standard_normal(6000)) * 0.05
    d = diffusion_descriptors(walk, fs=25, axis="ML")
    assert d["short_time_scaling_Diffusion_ML"] == pytest.approx(0.5, abs=0.08)


def test_diffusion_needs_a_long_enough_trial() -> None:
    with pytest.raises(SignalTooShortError, match="diffusion analysis needs more than"):
        diffusion_descriptors(np.random.default_rng(1).standard_normal(150), fs=25, axis="AP")


def test_constant_axis_is_rejected() -> None:
    with pytest.raises(InvalidSignalError, match="constant"):
        quijoux_descriptors(np.zeros(800), np.sin(np.arange(800) / 10), fs=25)


# ----------------------------------------------------------------------------- properties


@settings(max_examples=15, deadline=None, database=None)
@given(st.floats(0.05, 20.0))
def test_descriptors_scale_with_sway_size(quijoux_processed: np.ndarray, k: float) -> None:
    ml, ap = quijoux_processed[:, 0], quijoux_processed[:, 1]
    a = quijoux_descriptors(ml, ap, fs=25, sway_density_radius=0.3)
    b = quijoux_descriptors(k * ml, k * ap, fs=25, sway_density_radius=0.3 * k)
    for name in ("rms_ML", "range_ML_AND_AP", "mean_velocity_ML_AND_AP", "maximal_distance_Radius"):
        assert b[name] == pytest.approx(k * a[name], rel=1e-9), name
    for name in ("confidence_ellipse_area_ML_AND_AP", "total_power_Power_Spectrum_Density_AP"):
        assert b[name] == pytest.approx(k**2 * a[name], rel=1e-9), name
    for name in (
        "mean_frequency_ML_AND_AP",
        "centroid_frequency_Power_Spectrum_Density_ML",
        "principal_sway_direction_ML_AND_AP",
        "coefficient_sway_direction_ML_AND_AP",
        "short_time_scaling_Diffusion_AP",
        "critical_time_Diffusion_ML",
        "mean_peak_Sway_Density",
        "zero_crossing_SPD_AP",
    ):
        assert b[name] == pytest.approx(a[name], rel=1e-6), name
