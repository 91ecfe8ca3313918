"""Trunk orientation and instrumented sway (ISway) from a wearable IMU.

Orientation comes from the Fusion AHRS (x-io Technologies, ``imufusion`` package), a
revised Madgwick filter with accelerometer rejection and gyroscope-range recovery,
run without magnetometer (heading is free; it only sets the horizontal frame).

Frames and signs (sensor worn on the trunk, x forward, y left, z up; Fusion NWU):

* ``pitch_deg`` > 0 when the trunk leans **forward** (rotation about +y);
* ``roll_deg`` > 0 when the trunk leans to the **right** (rotation about +x);
* horizontal acceleration is gravity-free, in m/s², expressed in the trunk's heading
  frame: ``ap`` along the forward direction, ``ml`` positive to the right — the same
  axes as the board COP.

ISway (Mancini et al. 2012) reuses the COP sway functions on horizontal acceleration:
JERK ``½∫(dAP/dt)² + (dML/dt)² dt`` (m²/s⁵), RMS (m/s²), PATH (m/s²), mean velocity of
the integrated acceleration (m/s), mean frequency ``PATH / (2π·DIST·T)`` (Hz) and the
95 % prediction-ellipse area (m²/s⁴), after a 3.5 Hz zero-phase low-pass.

References
----------
Madgwick SOH. et al. (2020) Fusion AHRS, https://github.com/xioTechnologies/Fusion
Mancini M. et al. (2012) ISway: a sensitive, valid and reliable measure of postural
control. J NeuroEng Rehabil 9:59. doi:10.1186/1743-0003-9-59
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import imufusion
import numpy as np
from numpy.typing import ArrayLike

from analysis._checks import FloatArray, as_1d, positive
from analysis.errors import InvalidSignalError, SignalTooShortError
from analysis.preprocess import detrend, lowpass
from analysis.sway import path_length, prediction_ellipse_area, rms_distance

log = logging.getLogger(__name__)

STANDARD_GRAVITY = 9.80665
"""m/s² per g."""


def _as_n3(name: str, values: ArrayLike) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1 and arr.size == 3:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InvalidSignalError(f"{name}: expected shape (n, 3), got {arr.shape}")
    if not np.isfinite(arr).all():
        idx = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        raise InvalidSignalError(f"{name}: non-finite value at sample {idx}")
    return np.ascontiguousarray(arr)


def earth_acceleration(quats: FloatArray, acc_g: FloatArray) -> FloatArray:
    """Gravity-free acceleration in the earth frame (g, NWU) of every sample at once.

    What Fusion's ``get_earth_acceleration`` returns after each update (the sensor's
    accelerometer rotated by the orientation quaternion, minus 1 g on +z), computed on
    the whole array instead of sample by sample; it differs from Fusion's single-precision
    result by float rounding only (about 1e-6 g).

    Parameters
    ----------
    quats : ndarray, shape (n, 4)
        Orientation quaternions ``w, x, y, z`` (sensor to earth).
    acc_g : ndarray, shape (n, 3)
        Accelerometer in g, sensor frame.

    Examples
    --------
    >>> level = np.array([[1.0, 0.0, 0.0, 0.0]])
    >>> earth_acceleration(level, np.array([[0.1, 0.0, 1.0]])).round(6).tolist()
    [[0.1, 0.0, 0.0]]
    """
    w, x, y, z = quats.T
    ax, ay, az = acc_g.T
    out = np.empty_like(acc_g, dtype=np.float64)
    out[:, 0] = ((1.0 - 2.0 * (y * y + z * z)) * ax + 2.0 * (x * y - w * z) * ay
                 + 2.0 * (x * z + w * y) * az)
    out[:, 1] = (2.0 * (x * y + w * z) * ax + (1.0 - 2.0 * (x * x + z * z)) * ay
                 + 2.0 * (y * z - w * x) * az)
    out[:, 2] = (2.0 * (x * z - w * y) * ax + 2.0 * (y * z + w * x) * ay
                 + (1.0 - 2.0 * (x * x + y * y)) * az - 1.0)
    return out


@dataclass(frozen=True, slots=True)
class ImuOrientation:
    """Per-sample output of :class:`TrunkTilt` (all arrays of length n).

    Attributes
    ----------
    pitch_deg, roll_deg, yaw_deg : trunk angles (forward, right lean positive).
    ap_ms2, ml_ms2 : gravity-free horizontal acceleration in the heading frame.
    vertical_ms2 : gravity-free vertical acceleration (+up).
    """

    pitch_deg: FloatArray
    roll_deg: FloatArray
    yaw_deg: FloatArray
    ap_ms2: FloatArray
    ml_ms2: FloatArray
    vertical_ms2: FloatArray


class TrunkTilt:
    """Streaming trunk orientation with the Fusion AHRS.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    gain : float
        Fusion gain (weight of the accelerometer correction; 0.5 is the library default).
    gyroscope_range_dps : float
        Full-scale range of the gyroscope; near it Fusion re-initialises.
    acceleration_rejection_deg : float
        Accelerometer samples deviating more than this from the estimate are ignored
        (rapid movements), for at most ``rejection_timeout_s``.
    rejection_timeout_s : float
        Longest accelerometer rejection before the filter recovers.

    Examples
    --------
    >>> import numpy as np
    >>> tilt = TrunkTilt(fs=100)
    >>> lean = np.radians(20)
    >>> acc = np.tile([-np.sin(lean), 0.0, np.cos(lean)], (300, 1))  # leaning forward
    >>> pitch, roll = tilt.update(acc, np.zeros((300, 3)))
    >>> round(float(pitch[-1]), 1), round(float(roll[-1]), 1)
    (20.0, 0.0)
    """

    def __init__(
        self,
        *,
        fs: float,
        gain: float = 0.5,
        gyroscope_range_dps: float = 2000.0,
        acceleration_rejection_deg: float = 10.0,
        rejection_timeout_s: float = 5.0,
    ) -> None:
        self.fs = positive("fs", fs)
        self._settings = imufusion.AhrsSettings(
            sample_rate=self.fs,
            convention=imufusion.CONVENTION_NWU,
            gain=positive("gain", gain),
            gyroscope_range=positive("gyroscope_range_dps", gyroscope_range_dps),
            acceleration_rejection=positive(
                "acceleration_rejection_deg", acceleration_rejection_deg
            ),
            magnetic_rejection=0.0,
            rejection_timeout=positive("rejection_timeout_s", rejection_timeout_s),
        )
        self._ahrs = imufusion.Ahrs()
        self._ahrs.set_settings(self._settings)

    def reset(self) -> None:
        """Restart the filter (new sensor boot or re-attachment)."""
        self._ahrs.restart()

    def process(self, acc_g: ArrayLike, gyr_dps: ArrayLike) -> ImuOrientation:
        """Feed samples and return orientation and gravity-free acceleration per sample.

        Parameters
        ----------
        acc_g : array_like, shape (n, 3)
            Accelerometer in g, sensor frame (x forward, y left, z up).
        gyr_dps : array_like, shape (n, 3)
            Gyroscope in deg/s, same frame.
        """
        acc = _as_n3("acc_g", acc_g)
        gyr = _as_n3("gyr_dps", gyr_dps)
        if acc.shape != gyr.shape:
            raise InvalidSignalError(
                f"acc_g and gyr_dps lengths differ: {acc.shape[0]} and {gyr.shape[0]}"
            )
        quats = self._quaternions(gyr, acc)
        w, x, y, z = quats.T
        roll = np.degrees(np.arctan2(2.0 * (w * x + y * z), 1.0 - 2.0 * (x * x + y * y)))
        pitch = np.degrees(np.arcsin(np.clip(2.0 * (w * y - z * x), -1.0, 1.0)))
        yaw = np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
        earth = earth_acceleration(quats, acc)
        north, west = earth[:, 0] * STANDARD_GRAVITY, earth[:, 1] * STANDARD_GRAVITY
        cos_y, sin_y = np.cos(yaw), np.sin(yaw)
        ap = cos_y * north + sin_y * west
        left = -sin_y * north + cos_y * west
        return ImuOrientation(
            pitch_deg=pitch,
            roll_deg=roll,
            yaw_deg=np.degrees(yaw),
            ap_ms2=ap,
            ml_ms2=-left,
            vertical_ms2=earth[:, 2] * STANDARD_GRAVITY,
        )

    def _quaternions(self, gyr: FloatArray, acc: FloatArray) -> FloatArray:
        """Fusion's quaternion after each sample, shape (n, 4).

        The filter is recursive, so it takes one sample per call. The calls are chained in
        C (``update`` returns the filter, whose quaternion ``map`` then reads), with no
        Python statement per sample; Fusion computes in single precision, and float32 rows
        give the same result without a conversion per call. The quaternions (small arrays)
        are gathered by one ``bytes.join`` of their buffers, a quarter of the cost of
        ``np.fromiter``.
        """
        n = acc.shape[0]
        dtype = self._ahrs.get_quaternion().dtype  # float32 in imufusion 1.x
        steps = itertools.starmap(self._ahrs.update_no_magnetometer,
                                  zip(gyr.astype(np.float32), acc.astype(np.float32), strict=True))
        quats: Iterator[Any] = map(imufusion.Ahrs.get_quaternion, steps)  # buffers
        packed = np.frombuffer(b"".join(quats), dtype=dtype)
        return cast(FloatArray, packed.reshape(n, 4).astype(np.float64))

    def update(self, acc_g: ArrayLike, gyr_dps: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Feed samples; return ``(pitch_deg, roll_deg)`` per sample."""
        out = self.process(acc_g, gyr_dps)
        return out.pitch_deg, out.roll_deg


def trunk_orientation(acc_g: ArrayLike, gyr_dps: ArrayLike, *, fs: float) -> ImuOrientation:
    """Orientation of a whole recording (a fresh :class:`TrunkTilt` over every sample)."""
    return TrunkTilt(fs=fs).process(acc_g, gyr_dps)


@dataclass(frozen=True, slots=True)
class ISwayMetrics:
    """Instrumented-sway measures (Mancini et al. 2012) of one trial."""

    jerk_m2_s5: float
    rms_m_s2: float
    path_m_s2: float
    mean_velocity_m_s: float
    mean_frequency_hz: float
    ellipse_area_m2_s4: float
    duration_s: float

    def as_dict(self) -> dict[str, float]:
        """Plain ``{name: value}`` mapping (JSON friendly)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def isway_metrics(
    ap_ms2: ArrayLike, ml_ms2: ArrayLike, *, fs: float, lowpass_hz: float = 3.5
) -> ISwayMetrics:
    """ISway measures of gravity-free horizontal trunk acceleration.

    Parameters
    ----------
    ap_ms2, ml_ms2 : array_like
        Horizontal acceleration (m/s²), e.g. :attr:`ImuOrientation.ap_ms2`, at least 1 s.
    fs : float
        Sampling rate in Hz.
    lowpass_hz : float
        Zero-phase 4th-order Butterworth cut-off applied first (3.5 Hz in the paper).

    Returns
    -------
    ISwayMetrics
    """
    fs = positive("fs", fs)
    ap = as_1d("ap_ms2", ap_ms2)
    ml = as_1d("ml_ms2", ml_ms2)
    if ap.size != ml.size:
        raise InvalidSignalError(f"ap_ms2 and ml_ms2 lengths differ: {ap.size} and {ml.size}")
    if ap.size < max(fs, 16):
        raise SignalTooShortError(f"ap_ms2: {ap.size} samples, ISway needs at least 1 s")
    acc = lowpass(np.column_stack([ap, ml]), fs=fs, cutoff_hz=lowpass_hz)
    acc = acc - acc.mean(axis=0)
    jerk = np.gradient(acc, 1.0 / fs, axis=0)
    duration = ap.size / fs
    vel = detrend(np.cumsum(acc, axis=0) / fs, kind="linear")
    path = path_length(acc[:, 1], acc[:, 0])
    dist = float(np.hypot(acc[:, 0], acc[:, 1]).mean())
    return ISwayMetrics(
        jerk_m2_s5=0.5 * float((jerk**2).sum()) / fs,
        rms_m_s2=rms_distance(acc[:, 1], acc[:, 0]),
        path_m_s2=path,
        mean_velocity_m_s=float(np.hypot(vel[:, 0], vel[:, 1]).mean()),
        mean_frequency_hz=path / (2.0 * math.pi * dist * duration) if dist > 0 else math.nan,
        ellipse_area_m2_s4=prediction_ellipse_area(acc[:, 1], acc[:, 0]),
        duration_s=duration,
    )
