"""Sliding-window sway metrics for the live screens."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import InvalidParameterError, InvalidSignalError
from analysis.stream import SlidingSway
from analysis.sway import sway_metrics

FS = 100.0


def _sway(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.standard_normal((2, n)), axis=1) * 0.02


def test_no_metrics_until_enough_data() -> None:
    sway = SlidingSway(fs=FS, window_s=10)
    assert sway.metrics() is None
    ml, ap = _sway(150)
    sway.push(ml, ap)
    assert sway.metrics() is None  # 1.5 s < 2 s minimum
    sway.push(*_sway(60, seed=1))
    m = sway.metrics()
    assert m is not None
    assert m.n == 210


@settings(max_examples=25, deadline=None, database=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=30))
def test_window_metrics_equal_batch_metrics_of_the_last_ten_seconds(chunks: list[int]) -> None:
    total = sum(chunks)
    ml, ap = _sway(total, seed=total)
    sway = SlidingSway(fs=FS, window_s=10)
    start = 0
    for size in chunks:
        sway.push(ml[start : start + size], ap[start : start + size])
        start += size
    m = sway.metrics()
    tail = slice(max(0, total - 1000), total)
    if total - tail.start < 200:
        assert m is None
        return
    expected = sway_metrics(ml[tail], ap[tail], fs=FS)
    assert m is not None
    assert m.n == expected.n
    for name in ("ellipse_area_cm2", "mean_velocity_cm_s", "rms_cm", "mean_frequency_hz"):
        assert getattr(m, name) == pytest.approx(getattr(expected, name), rel=1e-9), name


def test_invalid_samples_are_skipped() -> None:
    ml, ap = _sway(1000)
    ml[400:600] = np.nan  # stepped off for 2 s
    ap[400:600] = np.nan
    sway = SlidingSway(fs=FS, window_s=10)
    sway.push(ml, ap)
    m = sway.metrics()
    assert m is not None
    assert m.n == 800
    assert np.isfinite(m.ellipse_area_cm2)
    assert np.isfinite(m.mean_frequency_hz)


def test_off_the_board_for_the_whole_window_gives_no_metrics() -> None:
    sway = SlidingSway(fs=FS, window_s=10)
    sway.push(*_sway(1000))
    assert sway.metrics() is not None
    sway.push(np.full(900, np.nan), np.full(900, np.nan))
    assert sway.metrics() is None  # only 1 s of valid data left in the window


def test_more_sway_gives_bigger_numbers() -> None:
    calm, wobbly = SlidingSway(fs=FS), SlidingSway(fs=FS)
    ml, ap = _sway(1000)
    calm.push(ml, ap)
    wobbly.push(3 * ml, 3 * ap)
    a, b = calm.metrics(), wobbly.metrics()
    assert a is not None
    assert b is not None
    assert b.ellipse_area_cm2 > a.ellipse_area_cm2
    assert b.mean_velocity_cm_s > a.mean_velocity_cm_s
    assert b.rms_cm > a.rms_cm


def test_reset_forgets_everything() -> None:
    sway = SlidingSway(fs=FS)
    sway.push(*_sway(1000))
    sway.reset()
    assert sway.metrics() is None
    assert sway.window()[0].size == 0


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(InvalidParameterError, match="fs"):
        SlidingSway(fs=-1)
    with pytest.raises(InvalidParameterError, match="window_s"):
        SlidingSway(fs=100, window_s=0.01)
    with pytest.raises(InvalidSignalError, match="lengths differ"):
        SlidingSway(fs=100).push(np.zeros(3), np.zeros(4))
