"""Resampling, zero-phase low-pass and detrending."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import (
    AnalysisWarning,
    InvalidParameterError,
    InvalidSignalError,
    SignalTooShortError,
)
from analysis.preprocess import detrend, lowpass, quijoux_preprocess, resample_uniform


def _jittered_times(n: int, fs: float, rng: np.random.Generator) -> np.ndarray:
    return np.cumsum(rng.uniform(0.5, 1.5, n)) / fs


@pytest.mark.parametrize("method", ["linear", "swarii"])
def test_resampling_irregular_data_recovers_a_slow_signal(method: str) -> None:
    rng = np.random.default_rng(2)
    t = _jittered_times(3000, 100.0, rng)
    x = np.column_stack([np.sin(2 * np.pi * 0.4 * t), np.cos(2 * np.pi * 0.7 * t)])
    tu, xu = resample_uniform(t, x, fs=25, method=method)
    np.testing.assert_allclose(np.diff(tu), 1 / 25)
    assert tu[0] == t[0]
    assert tu[-1] <= t[-1]
    truth = np.column_stack([np.sin(2 * np.pi * 0.4 * tu), np.cos(2 * np.pi * 0.7 * tu)])
    # SWARII is an 80 ms moving average: exact for a line, slightly smoothing a sine
    atol = 2e-3 if method == "linear" else 1e-2
    np.testing.assert_allclose(xu[1:-1], truth[1:-1], atol=atol)


def test_swarii_averages_the_samples_in_each_window() -> None:
    # constant signal: any weighted average is the constant
    t = np.array([0.0, 0.013, 0.03, 0.041, 0.06, 0.081, 0.1, 0.118, 0.13, 0.152])
    _, xu = resample_uniform(t, np.full(t.size, 3.25), fs=25, method="swarii")
    np.testing.assert_allclose(xu, 3.25)


def test_swarii_fills_gaps_and_warns() -> None:
    t = np.concatenate([np.arange(0, 2, 0.01), np.arange(3, 5, 0.01)])  # one second missing
    with pytest.warns(AnalysisWarning, match="windows held no sample"):
        tu, xu = resample_uniform(t, 2 * t, fs=25, method="swarii")
    assert tu[-1] == pytest.approx(4.99, abs=0.04)
    # inside each recorded stretch the average of a line is the line; across the gap the
    # interpolation joins the two stretches
    np.testing.assert_allclose(xu[1:-1], 2 * tu[1:-1], atol=0.05)


def test_times_that_go_backwards_are_rejected_with_their_position() -> None:
    with pytest.raises(InvalidSignalError, match=r"sample 2 \(0\.1 s\)"):
        resample_uniform([0.0, 0.2, 0.1, 0.3], [1.0, 2.0, 3.0, 4.0], fs=10)


def test_resample_rejects_unknown_method_and_length_mismatch() -> None:
    with pytest.raises(InvalidParameterError, match="method"):
        resample_uniform([0.0, 1.0], [1.0, 2.0], fs=10, method="cubic")  # type: ignore[arg-type]
    with pytest.raises(InvalidSignalError, match="3 samples but t has 2"):
        resample_uniform([0.0, 1.0], [1.0, 2.0, 3.0], fs=10)


def test_lowpass_keeps_the_band_removes_noise_and_does_not_shift_in_time() -> None:
    fs = 100.0
    t = np.arange(2000) / fs
    slow = np.sin(2 * np.pi * 1.0 * t)
    y = lowpass(slow + 0.5 * np.sin(2 * np.pi * 30 * t), fs=fs, cutoff_hz=5)
    inner = slice(200, -200)
    np.testing.assert_allclose(y[inner], slow[inner], atol=5e-3)
    # zero phase: the peak of the output is where the input peak is
    lag = np.argmax(np.correlate(y[inner], slow[inner], mode="full")) - (slow[inner].size - 1)
    assert lag == 0


def test_lowpass_filters_each_column() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 2))
    y = lowpass(x, fs=100, cutoff_hz=10)
    np.testing.assert_allclose(y[:, 1], lowpass(x[:, 1], fs=100, cutoff_hz=10))
    assert y.std(axis=0).max() < x.std(axis=0).min()


def test_lowpass_parameter_errors_name_the_parameter() -> None:
    with pytest.raises(InvalidParameterError, match="Nyquist"):
        lowpass(np.zeros(100), fs=20, cutoff_hz=10)
    with pytest.raises(InvalidParameterError, match="order"):
        lowpass(np.zeros(100), fs=20, cutoff_hz=5, order=0)
    with pytest.raises(SignalTooShortError, match="needs more than"):
        lowpass(np.zeros(10), fs=20, cutoff_hz=5)
    with pytest.raises(InvalidSignalError, match="sample 3"):
        lowpass(np.array([0.0, 1.0, 2.0, np.nan] * 10), fs=20, cutoff_hz=5)


def test_detrend_removes_lines_and_means() -> None:
    t = np.arange(100.0)
    wave = np.sin(t / 5)
    assert (
        np.abs(detrend(3 + 0.2 * t + wave, kind="linear") - detrend(wave, kind="linear")).max()
        < 1e-9
    )
    assert detrend(5 + wave, kind="constant").mean() == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(InvalidParameterError, match="kind"):
        detrend(wave, kind="quadratic")  # type: ignore[arg-type]


def test_quijoux_preprocess_centres_resamples_and_returns_the_mean() -> None:
    fs = 100.0
    t = np.arange(3000) / fs
    ml, ap = 2.0 + np.sin(2 * np.pi * 0.3 * t), -1.0 + 0.5 * np.cos(2 * np.pi * 0.2 * t)
    pml, pap, mean = quijoux_preprocess(ml, ap, fs=fs)
    assert mean == pytest.approx((2.0, -1.0), abs=0.01)
    assert pml.size == 750
    assert abs(pml.mean()) < 0.02
    with pytest.raises(InvalidParameterError, match="exactly one of fs"):
        quijoux_preprocess(ml, ap)
