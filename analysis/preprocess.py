"""Preprocessing of sway signals: uniform resampling, zero-phase low-pass, detrending.

Every function takes the data first and everything else as keyword arguments; signals
are arrays of shape ``(n,)`` or ``(n, k)`` with time along axis 0.

References
----------
Audiffren J, Contal E. (2016) Preprocessing the Nintendo Wii Board signal to derive more
accurate descriptors of statokinesigrams. Sensors 16:1208 (SWARII).
Quijoux F. et al. (2021) Physiol Rep 9:e15067.
"""

from __future__ import annotations

import functools
import logging
import warnings
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal

from analysis._checks import FloatArray, as_1d, positive
from analysis.errors import (
    AnalysisWarning,
    InvalidParameterError,
    InvalidSignalError,
    SignalTooShortError,
)

log = logging.getLogger(__name__)

ResampleMethod = Literal["linear", "swarii"]


def _as_signal(name: str, x: ArrayLike, n: int | None = None) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim not in (1, 2):
        raise InvalidSignalError(f"{name}: expected shape (n,) or (n, k), got {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise InvalidSignalError(f"{name}: {arr.shape[0]} samples but t has {n}")
    if not np.isfinite(arr).all():
        idx = int(np.flatnonzero(~np.isfinite(arr).reshape(arr.shape[0], -1).all(axis=1))[0])
        raise InvalidSignalError(f"{name}: non-finite value at sample {idx}")
    return arr


def _swarii(t: FloatArray, x: FloatArray, grid: FloatArray, half: float) -> FloatArray:
    """Sliding-window weighted average: each sample weighted by the time it represents."""
    out = np.full((grid.size, x.shape[1]), np.nan)
    mids = 0.5 * (t[1:] + t[:-1])
    lo_idx = np.searchsorted(t, grid - half, side="right")
    hi_idx = np.searchsorted(t, grid + half, side="left")
    for k, (c, lo, hi) in enumerate(zip(grid, lo_idx, hi_idx, strict=True)):
        if hi <= lo:
            continue
        if hi - lo == 1:
            out[k] = x[lo]
            continue
        left = np.empty(hi - lo)
        right = np.empty(hi - lo)
        left[1:] = mids[lo : hi - 1]
        right[:-1] = mids[lo : hi - 1]
        left[0] = max(t[0], c - half)
        right[-1] = min(t[-1], c + half)
        w = right - left
        out[k] = (w @ x[lo:hi]) / w.sum()
    missing = np.isnan(out[:, 0])
    if missing.any():
        warnings.warn(
            f"swarii: {int(missing.sum())} of {grid.size} windows held no sample "
            "(gaps in the recording); filled by linear interpolation",
            AnalysisWarning,
            stacklevel=3,
        )
        ok = np.flatnonzero(~missing)
        for col in range(x.shape[1]):
            out[missing, col] = np.interp(grid[missing], grid[ok], out[ok, col])
    return out


def resample_uniform(
    t: ArrayLike,
    x: ArrayLike,
    *,
    fs: float,
    method: ResampleMethod = "linear",
    window_s: float = 0.08,
) -> tuple[FloatArray, FloatArray]:
    """Resample an irregularly sampled signal onto a uniform grid.

    Parameters
    ----------
    t : array_like, shape (n,)
        Sample times in seconds, strictly increasing.
    x : array_like, shape (n,) or (n, k)
        Finite samples.
    fs : float
        Output sampling rate in Hz. The grid starts at ``t[0]`` and ends at the last
        grid point not after ``t[-1]``.
    method : {"linear", "swarii"}
        ``"linear"`` interpolates; ``"swarii"`` (Audiffren & Contal 2016, used by
        Quijoux et al.) averages the samples within ``window_s`` of each grid point,
        each weighted by the time span it stands for; empty windows are interpolated.
    window_s : float
        SWARII window length in seconds.

    Returns
    -------
    t_uniform : ndarray, shape (m,)
    x_uniform : ndarray, shape (m,) or (m, k)

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([0.0, 0.1, 0.25, 0.3, 0.5])
    >>> tu, xu = resample_uniform(t, 2 * t, fs=10)
    >>> np.round(xu, 6).tolist()
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    fs = positive("fs", fs)
    tt = as_1d("t", t)
    if tt.size < 2:
        raise SignalTooShortError(f"t: {tt.size} samples, need at least 2 to resample")
    steps = np.diff(tt)
    if (steps <= 0).any():
        idx = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise InvalidSignalError(
            f"t: times must increase strictly; sample {idx} ({float(tt[idx]):g} s) "
            f"does not come after sample {idx - 1} ({float(tt[idx - 1]):g} s)"
        )
    arr = _as_signal("x", x, tt.size)
    squeeze = arr.ndim == 1
    data = arr[:, None] if squeeze else arr
    n_out = int(np.floor((tt[-1] - tt[0]) * fs + 1e-9)) + 1
    grid = tt[0] + np.arange(n_out) / fs
    if method == "linear":
        out = np.column_stack([np.interp(grid, tt, data[:, k]) for k in range(data.shape[1])])
    elif method == "swarii":
        half = 0.5 * (positive("window_s", window_s) - 1e-6)
        out = _swarii(tt, data, grid, half)
    else:
        raise InvalidParameterError(f"method must be 'linear' or 'swarii', got {method!r}")
    return grid, (out[:, 0] if squeeze else out)


@functools.lru_cache(maxsize=64)
def _lowpass_sos(order: int, cutoff_hz: float, fs: float) -> FloatArray:
    """The filter's second-order sections (designed once per order, cutoff and rate: the
    design costs about a millisecond, as much as filtering a one-minute set)."""
    sos = np.asarray(signal.butter(order, cutoff_hz, btype="lowpass", fs=fs, output="sos"))
    sos.flags.writeable = False
    return sos


def lowpass(x: ArrayLike, *, fs: float, cutoff_hz: float, order: int = 4) -> FloatArray:
    """Zero-phase Butterworth low-pass (second-order sections, forward-backward).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, k)
        Finite signal, filtered along axis 0.
    fs : float
        Sampling rate in Hz.
    cutoff_hz : float
        -3 dB frequency of each pass (the forward-backward response is -6 dB there);
        below ``fs / 2``.
    order : int
        Butterworth order of each pass.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(1000) / 100
    >>> y = lowpass(np.sin(2 * np.pi * t) + np.sin(2 * np.pi * 30 * t), fs=100, cutoff_hz=5)
    >>> bool(np.max(np.abs(y[100:-100] - np.sin(2 * np.pi * t[100:-100]))) < 0.01)
    True
    """
    fs = positive("fs", fs)
    cutoff_hz = positive("cutoff_hz", cutoff_hz)
    if cutoff_hz >= fs / 2:
        raise InvalidParameterError(
            f"cutoff_hz must be below the Nyquist frequency {fs / 2:g} Hz, got {cutoff_hz:g}"
        )
    if int(order) != order or order < 1:
        raise InvalidParameterError(f"order must be a positive integer, got {order!r}")
    arr = _as_signal("x", x)
    sos = _lowpass_sos(int(order), cutoff_hz, fs).copy()  # scipy wants it writable
    padlen = 3 * (2 * len(sos) + 1)
    if arr.shape[0] <= padlen:
        raise SignalTooShortError(
            f"x: {arr.shape[0]} samples, the order-{order} filter needs more than {padlen}"
        )
    return np.asarray(signal.sosfiltfilt(sos, arr, axis=0), dtype=np.float64)


def detrend(x: ArrayLike, *, kind: Literal["constant", "linear"] = "linear") -> FloatArray:
    """Remove the mean (``"constant"``) or the least-squares line (``"linear"``) along axis 0."""
    if kind not in ("constant", "linear"):
        raise InvalidParameterError(f"kind must be 'constant' or 'linear', got {kind!r}")
    arr = _as_signal("x", x)
    if arr.shape[0] < 2:
        raise SignalTooShortError(f"x: {arr.shape[0]} samples, need at least 2 to detrend")
    return np.asarray(signal.detrend(arr, axis=0, type=kind), dtype=np.float64)


def quijoux_preprocess(
    ml: ArrayLike,
    ap: ArrayLike,
    *,
    fs: float | None = None,
    t: ArrayLike | None = None,
    target_fs: float = 25.0,
    cutoff_hz: float = 10.0,
) -> tuple[FloatArray, FloatArray, tuple[float, float]]:
    """The preprocessing of Quijoux et al.: centre, SWARII-resample, 10 Hz low-pass.

    Parameters
    ----------
    ml, ap : array_like
        Raw COP in cm.
    fs : float, optional
        Sampling rate of a uniformly sampled input (give ``fs`` or ``t``).
    t : array_like, optional
        Sample times in seconds of an irregular input.
    target_fs : float
        Output rate in Hz (25 in the paper).
    cutoff_hz : float
        Low-pass cut-off (4th-order Butterworth, zero phase; 10 Hz in the paper).

    Returns
    -------
    ml, ap : ndarray
        Processed signals, ready for :func:`analysis.quijoux.quijoux_descriptors`.
    mean_value : (float, float)
        The raw means removed before resampling.
    """
    x = as_1d("ml", ml)
    y = as_1d("ap", ap)
    if x.size != y.size:
        raise InvalidSignalError(f"ml and ap lengths differ: {x.size} and {y.size}")
    if fs is not None and t is None:
        times = np.arange(x.size) / positive("fs", fs)
    elif t is not None and fs is None:
        times = as_1d("t", t)
    else:
        raise InvalidParameterError("give exactly one of fs (uniform input) or t (sample times)")
    mean = (float(x.mean()), float(y.mean()))
    _, xy = resample_uniform(
        times, np.column_stack([x - mean[0], y - mean[1]]), fs=target_fs, method="swarii"
    )
    xy = lowpass(xy, fs=target_fs, cutoff_hz=cutoff_hz, order=4)
    return xy[:, 0], xy[:, 1], mean
