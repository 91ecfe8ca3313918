"""Power spectra of sway signals and the descriptors built on them.

One Welch estimator serves every convention in the package, so a live window, a
recorded trial and the reference data sets all go through the same arithmetic:

* BDS recipe (Santos & Duarte 2016): Hann window, ``nperseg = N // 2``,
  ``noverlap = N // 4``, ``nfft = N // 2``, constant detrend; mean power frequency
  ``∫ f P df / ∫ P df`` by the trapezoid rule; the two axes combined weighted by each
  axis's total power.
* Quijoux et al. 2021: Hann window, ``nperseg = 10 fs``, ``noverlap = 5 fs``,
  ``nfft = N``, linear detrend; descriptors use the bins within 0.15–5 Hz as plain sums.

References
----------
Welch P. (1967) IEEE Trans Audio Electroacoust 15:70-73.
Santos DA, Duarte M. (2016) PeerJ 4:e2648. doi:10.7717/peerj.2648
Quijoux F. et al. (2021) Physiol Rep 9:e15067. doi:10.14814/phy2.15067
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate

from analysis._checks import FloatArray, as_1d, positive
from analysis.errors import InvalidParameterError, SignalTooShortError

log = logging.getLogger(__name__)

Detrend = Literal["constant", "linear"]

QUIJOUX_BAND_HZ = (0.15, 5.0)
"""Frequency band (inclusive) of the Quijoux spectral descriptors."""


@lru_cache(maxsize=64)
def _hann(n: int) -> FloatArray:
    # periodic Hann, identical to scipy.signal.get_window("hann", n)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


@lru_cache(maxsize=64)
def _centred_ramp(n: int) -> tuple[FloatArray, float]:
    ramp = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    return ramp, float(ramp @ ramp)


def welch_psd(
    x: ArrayLike,
    *,
    fs: float,
    nperseg: int,
    noverlap: int,
    nfft: int | None = None,
    detrend: Detrend = "constant",
) -> tuple[FloatArray, FloatArray]:
    """One-sided Welch power spectral density with a periodic Hann window.

    Numerically the same as ``scipy.signal.welch(x, fs, "hann", nperseg, noverlap, nfft,
    detrend)`` with density scaling and mean averaging, but without its per-call
    overhead, so the live screens can afford it on every update.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, k)
        Signal(s) along axis 0, finite.
    fs : float
        Sampling rate in Hz.
    nperseg, noverlap : int
        Segment length and overlap in samples (``0 <= noverlap < nperseg <= n``).
    nfft : int, optional
        FFT length (zero padding), ``>= nperseg``; defaults to ``nperseg``.
    detrend : {"constant", "linear"}
        Trend removed from each segment before windowing.

    Returns
    -------
    freqs : ndarray, shape (nfft // 2 + 1,)
    psd : ndarray, shape (nfft // 2 + 1,) or (nfft // 2 + 1, k)
        Power spectral density in units² / Hz.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(1000) / 100
    >>> f, p = welch_psd(np.sin(2 * np.pi * 2 * t), fs=100, nperseg=500, noverlap=250)
    >>> float(f[np.argmax(p)])
    2.0
    """
    fs = positive("fs", fs)
    arr = np.asarray(x, dtype=np.float64)
    squeeze = arr.ndim == 1
    if squeeze:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InvalidParameterError(f"x: expected shape (n,) or (n, k), got {arr.shape}")
    n = arr.shape[0]
    nfft = nperseg if nfft is None else int(nfft)
    if not 0 < nperseg <= n:
        raise SignalTooShortError(f"x: {n} samples, Welch needs at least nperseg={nperseg}")
    if not 0 <= noverlap < nperseg:
        raise InvalidParameterError(f"noverlap must be in [0, {nperseg}), got {noverlap}")
    if nfft < nperseg:
        raise InvalidParameterError(f"nfft must be >= nperseg={nperseg}, got {nfft}")
    step = nperseg - noverlap
    starts = np.arange(0, n - nperseg + 1, step)
    segs = np.lib.stride_tricks.sliding_window_view(arr, nperseg, axis=0)[starts]
    # segs: (n_segments, k, nperseg)
    segs = segs - segs.mean(axis=-1, keepdims=True)
    if detrend == "linear":
        ramp, ramp_ss = _centred_ramp(nperseg)
        slope = (segs @ ramp) / ramp_ss
        segs = segs - slope[..., None] * ramp
    elif detrend != "constant":
        raise InvalidParameterError(f"detrend must be 'constant' or 'linear', got {detrend!r}")
    win = _hann(nperseg)
    spec = np.fft.rfft(segs * win, n=nfft, axis=-1)
    power = (spec.real**2 + spec.imag**2).mean(axis=0).T  # (nfreq, k)
    power *= 1.0 / (fs * float(win @ win))
    if nfft % 2:
        power[1:] *= 2.0
    else:
        power[1:-1] *= 2.0
    freqs = np.fft.rfftfreq(nfft, 1.0 / fs)
    psd: FloatArray = power[:, 0] if squeeze else power
    return np.asarray(freqs, dtype=np.float64), psd


def bds_psd(x: ArrayLike, *, fs: float) -> tuple[FloatArray, FloatArray]:
    """Welch PSD with the BDS recipe (``nperseg = nfft = N // 2``, ``noverlap = N // 4``)."""
    arr = np.asarray(x, dtype=np.float64)
    n = arr.shape[0]
    if n < 8:
        raise SignalTooShortError(f"x: {n} samples, the BDS spectrum needs at least 8")
    half = n // 2
    return welch_psd(arr, fs=fs, nperseg=half, noverlap=n // 4, nfft=half, detrend="constant")


def mean_power_frequency(freqs: FloatArray, psd: FloatArray) -> float:
    """Mean power frequency ``∫ f P df / ∫ P df`` (trapezoid rule), in Hz; NaN if P = 0."""
    total = float(integrate.trapezoid(psd, freqs))
    if total <= 0.0:
        return float("nan")
    return float(integrate.trapezoid(freqs * psd, freqs)) / total


def bds_mean_frequency(ml: ArrayLike, ap: ArrayLike, *, fs: float) -> float:
    """Mean frequency of planar sway, BDS convention (Santos & Duarte 2016).

    Each axis gets the mean power frequency of its Welch PSD; the two are combined
    weighted by each axis's total power ``ΣP``.

    Parameters
    ----------
    ml, ap : array_like
        Finite COP coordinates (any unit), equally long, at least 8 samples.
    fs : float
        Sampling rate in Hz.

    Returns
    -------
    float
        Mean frequency in Hz (NaN for a perfectly still signal).
    """
    x = as_1d("ml", ml)
    y = as_1d("ap", ap)
    freqs, psd = bds_psd(np.column_stack([x, y]), fs=fs)
    weights = psd.sum(axis=0)
    if weights.sum() <= 0.0:
        return float("nan")
    mf = np.array([mean_power_frequency(freqs, psd[:, k]) for k in range(2)])
    return float(np.nansum(mf * weights) / weights.sum())


def quijoux_psd(x: ArrayLike, *, fs: float) -> tuple[FloatArray, FloatArray]:
    """Welch PSD of Quijoux et al.: 10 s Hann segments, 50 % overlap, nfft = N, linear detrend."""
    arr = np.asarray(x, dtype=np.float64)
    nperseg = int(round(10 * fs))
    return welch_psd(
        arr,
        fs=fs,
        nperseg=nperseg,
        noverlap=nperseg // 2,
        nfft=max(arr.shape[0], nperseg),
        detrend="linear",
    )


def spectral_descriptors(x: ArrayLike, *, fs: float, axis: str) -> dict[str, float]:
    """Quijoux et al. frequency-domain descriptors of one COP axis.

    Uses the bins within 0.15–5 Hz (inclusive) of :func:`quijoux_psd`; powers are plain
    sums of PSD bins, as in the authors' code. Keys end in
    ``_Power_Spectrum_Density_{axis}``.
    """
    sig = as_1d(axis, x)
    freqs, psd = quijoux_psd(sig, fs=fs)
    lo, hi = QUIJOUX_BAND_HZ
    keep = (freqs >= lo) & (freqs <= hi)
    f, p = freqs[keep], psd[keep]
    if f.size == 0:
        raise SignalTooShortError(f"{axis}: no spectral bin within {lo}-{hi} Hz")
    m0, m1, m2 = float(p.sum()), float((f * p).sum()), float((f**2 * p).sum())
    cum = np.cumsum(p)
    suffix = f"_Power_Spectrum_Density_{axis}"
    out = {
        "total_power": m0,
        "power_frequency_50": float(f[np.argmax(cum >= 0.5 * cum[-1])]),
        "power_frequency_95": float(f[np.argmax(cum >= 0.95 * cum[-1])]),
        "frequency_mode": float(f[np.argmax(p)]),
        "centroid_frequency": float(np.sqrt(m2 / m0)),
        "frequency_dispersion": float(np.sqrt(1.0 - m1**2 / (m0 * m2))),
        "energy_content_below_05": float(p[f <= 0.5].sum()),
        "energy_content_05_2": float(p[(f > 0.5) & (f <= 2.0)].sum()),
        "energy_content_above_2": float(p[f > 2.0].sum()),
        "frequency_quotient": float(p[f > 2.0].sum() / p[f <= 2.0].sum()),
    }
    return {name + suffix: value for name, value in out.items()}
