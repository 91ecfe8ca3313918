"""The simulated child's body: scenario phases → board corner loads and trunk IMU readings.

Pure functions of the sample times, the phases and seeded noise, so any stretch of the
session can be computed on its own and the board and the IMU always agree:

- **COP** = stance offset + exercise movement + sway. Sway is unit "pink-ish" noise
  (three Ornstein–Uhlenbeck processes with corners 0.08, 0.25 and 0.8 Hz: flat below
  0.1 Hz, about 1/f up to 1 Hz, 1/f² above, smoothed above 2 Hz) scaled to a child's
  standard deviation (≈ 0.35 cm AP, 0.28 cm ML on firm ground, 1.2× while resting)
  and multiplied by ``foam_factor`` (≈ 2) on foam. Level changes cross-fade over 1.5 s.
- **Load** = mass · (1 + vertical COM acceleration / g) · on-board fraction, with a
  0.4 % body fluctuation; stepping off or on ramps over 0.8 s onto the last foot.
- **Trunk** pitch (+forward) and roll (+right) follow the movement (a squat pitches
  the trunk 30–45°, a reach 20–30°, a weight shift rolls it ~8°) and the sway
  (angle = COP sway / COM height); yaw turns while the child walks off the board. The
  accelerometer reads the specific force (gravity plus vertical COM acceleration) in
  the sensor frame; the gyroscope is the body rate derived from the orientation.
- Sensor noise: 0.02 kg per load cell, 0.004 g, 0.15 deg/s plus a constant gyro bias.

Each rep is a smooth bump ``sin⁴(π u)`` (zero slope and curvature at both ends), so the
COM acceleration (from the analytic second derivative) is continuous.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ingest.devices.board import BoardGeometry, corners_from_cop
from ingest.devices.scenario import Phase

G = 9.80665
Array = NDArray[np.float64]

_CORNERS_HZ = (0.08, 0.25, 0.8)
_NOISE_BLOCK = 4096
_RAMP_S = 0.8  # stepping off / on
_FADE_S = 1.5  # sway level cross-fade
_SMOOTH_HZ = 2.0


@dataclass(frozen=True)
class Child:
    """Body and movement parameters of the simulated child (3–6 years)."""

    mass_kg: float = 18.0
    com_height_m: float = 0.55
    sway_ap_cm: float = 0.35
    sway_ml_cm: float = 0.28
    foam_factor: float = 2.0
    stance_ap_cm: float = 0.5
    stance_ml_cm: float = 0.0
    squat_depth_m: float = 0.18
    squat_pitch_deg: float = 38.0
    reach_pitch_deg: float = 25.0
    reach_cop_cm: float = 4.0
    shift_cop_cm: float = 5.0
    shift_roll_deg: float = 8.0
    trunk_tilt_deg: float = 4.0
    gyro_bias_dps: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if not 8.0 <= self.mass_kg <= 40.0:
            raise ValueError(f"mass_kg {self.mass_kg} is not a small child's")
        if not 0.3 <= self.com_height_m <= 0.9:
            raise ValueError(f"com_height_m {self.com_height_m} is implausible")
        if not self.foam_factor >= 1.0:
            raise ValueError("foam_factor must be >= 1 (foam never steadies a child)")

    @classmethod
    def random(cls, rng: np.random.Generator) -> Child:
        def u(low: float, high: float) -> float:
            return float(rng.uniform(low, high))

        scale = u(0.8, 1.25)
        return cls(
            mass_kg=u(15.0, 21.0),
            com_height_m=u(0.5, 0.6),
            sway_ap_cm=0.35 * scale,
            sway_ml_cm=0.28 * scale,
            foam_factor=u(1.8, 2.4),
            stance_ap_cm=u(-0.5, 1.5),
            stance_ml_cm=u(-0.8, 0.8),
            squat_depth_m=u(0.14, 0.22),
            squat_pitch_deg=u(30.0, 45.0),
            reach_pitch_deg=u(20.0, 30.0),
            reach_cop_cm=u(3.0, 5.0),
            shift_cop_cm=u(4.0, 6.0),
            shift_roll_deg=u(5.0, 10.0),
            trunk_tilt_deg=u(0.0, 8.0),
            gyro_bias_dps=(u(-0.5, 0.5), u(-0.5, 0.5), u(-0.5, 0.5)),
        )


# ----------------------------------------------------------------------------- noise


def _white(key: tuple[int, ...], n0: int, n1: int) -> Array:
    """Standard normal samples ``n0 … n1-1`` of the stream ``key`` (random access)."""
    first, last = n0 // _NOISE_BLOCK, max(n1 - 1, n0) // _NOISE_BLOCK
    chunks = [
        np.random.default_rng([*key, b]).standard_normal(_NOISE_BLOCK)
        for b in range(first, last + 1)
    ]
    return np.concatenate(chunks)[n0 - first * _NOISE_BLOCK : n1 - first * _NOISE_BLOCK]


@functools.cache
def _smoother(fs: float) -> NDArray[np.float64]:
    from scipy import signal  # imported on first use: importing the registry stays cheap

    return np.asarray(signal.butter(2, _SMOOTH_HZ, fs=fs, output="sos"))


def pink(seed: int, channel: int, n0: int, n1: int, fs: float) -> Array:
    """Unit-variance 1/f-like noise, samples ``n0 … n1-1`` (``n0`` may be negative).

    Each sample depends only on the noise stream and the filter warm-up before it, so
    any range can be computed alone; results for overlapping ranges agree to ~1e-4.
    """
    from scipy import signal

    lo = max(n0, 0)
    warm = int(10 * fs / (2 * math.pi * min(_CORNERS_HZ))) + 1
    start = max(lo - warm, 0)
    out = np.zeros(n1 - start)
    for k, fc in enumerate(_CORNERS_HZ):
        a = math.exp(-2 * math.pi * fc / fs)
        b = math.sqrt(1 - a * a)
        white = _white((seed, channel, k), start, n1)
        # start in the stationary distribution when the process starts at sample 0
        y0 = float(_white((seed, channel, 100 + k), 0, 1)[0]) if start == 0 else 0.0
        y, _ = signal.lfilter([b], [1.0, -a], white, zi=[a * y0])
        out += y
    # a body is a mass: smooth above ~2 Hz so that derivatives (the gyroscope) stay sane
    sos = _smoother(fs)
    out, _ = signal.sosfilt(sos, out, zi=signal.sosfilt_zi(sos) * out[0])
    out = out[lo - start :] / math.sqrt(len(_CORNERS_HZ))
    if n0 < 0:
        out = np.concatenate([np.full(-n0, out[0]), out])
    return out


def white(seed: int, channel: int, n0: int, n1: int) -> Array:
    """Independent standard normal sensor noise for samples ``n0 … n1-1`` (``n0 >= 0``)."""
    return _white((seed, 1000 + channel), n0, n1)


# ----------------------------------------------------------------------------- movement


def _smoothstep(x: Array) -> Array:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _bump(t: Array, start: float, duration: float) -> tuple[Array, Array]:
    """``sin⁴(π u)`` over one rep and its second time derivative (zero outside)."""
    u = (t - start) / duration
    inside = (u > 0) & (u < 1)
    s, c = np.sin(np.pi * u), np.cos(np.pi * u)
    p = np.where(inside, s**4, 0.0)
    p2 = np.where(inside, 4 * (np.pi / duration) ** 2 * (3 * s * s * c * c - s**4), 0.0)
    return p, p2


def _level(phase: Phase, child: Child, trunk: bool) -> float:
    """Sway level of a phase relative to quiet standing on firm ground."""
    if phase.name == "off":
        return 1.5 if trunk else 0.0
    level = 1.2 if phase.name == "rest" else 1.0
    return level * (child.foam_factor if phase.surface == "foam" else 1.0)


@dataclass
class Motion:
    """Body state at sample times (cm, rad, m/s², fraction of weight on the board)."""

    on_board: Array
    cop_ap: Array
    cop_ml: Array
    acc_z: Array
    pitch: Array
    roll: Array
    yaw: Array
    board_level: Array
    trunk_level: Array


def motion(t: Array, phases: list[Phase], child: Child) -> Motion:
    """Deterministic movement (no sway yet) for sample times ``t`` covered by ``phases``."""
    n = t.size
    m = Motion(*(np.zeros(n) for _ in range(9)))
    m.on_board[:] = 1.0
    deg = math.pi / 180
    previous = phases[0]
    for phase in phases:
        mask = (t >= phase.start) & (t < phase.end)
        if phase is phases[-1]:
            mask |= t >= phase.end
        if phase is phases[0]:
            mask |= t < phase.start
        if not mask.any():
            previous = phase
            continue
        tt = t[mask]
        fade = _smoothstep((tt - phase.start) / _FADE_S)
        for out, trunk in ((m.board_level, False), (m.trunk_level, True)):
            before, now = _level(previous, child, trunk), _level(phase, child, trunk)
            out[mask] = before + (now - before) * fade
        previous = phase
        if phase.name == "off":
            _off(m, mask, tt, phase)
            continue
        for rep in phase.reps:
            p, p2 = _bump(tt, rep.start, rep.duration)
            a = rep.amplitude
            if phase.name == "squat-to-stand":
                m.pitch[mask] += a * child.squat_pitch_deg * deg * p
                m.cop_ap[mask] += a * 1.5 * p
                m.acc_z[mask] += -a * child.squat_depth_m * p2
            elif phase.name == "lateral-shift":
                m.cop_ml[mask] += rep.side * a * child.shift_cop_cm * p
                m.roll[mask] += rep.side * a * child.shift_roll_deg * deg * p
                m.acc_z[mask] += -0.01 * p2
            elif phase.name == "reach":
                m.pitch[mask] += a * child.reach_pitch_deg * deg * p
                m.cop_ap[mask] += a * child.reach_cop_cm * p
                m.acc_z[mask] += -a * 0.04 * p2
    return m


def _off(m: Motion, mask: NDArray[np.bool_], tt: Array, phase: Phase) -> None:
    """Step off onto one foot, walk about (turning), come back and step on."""
    off = _smoothstep((tt - phase.start) / _RAMP_S) * _smoothstep((phase.end - tt) / _RAMP_S)
    side = 1.0 if phase.index % 2 else -1.0
    m.on_board[mask] = 1.0 - off
    m.cop_ml[mask] += side * 5.0 * off
    walking = np.sin(2 * math.pi * 1.9 * (tt - phase.start))
    m.acc_z[mask] += 0.22 * G * walking * off
    m.pitch[mask] += math.radians(2.0) * walking * off
    u = (tt - phase.start) / phase.duration
    m.yaw[mask] += side * 0.8 * math.pi * np.sin(np.pi * u) ** 2


# ----------------------------------------------------------------------------- sensors


def board_loads(
    m: Motion, sway_ap: Array, sway_ml: Array, fluct: Array, child: Child, geometry: BoardGeometry
) -> tuple[Array, Array, Array]:
    """Noise-free corner loads (n, 4) plus the COP (AP, ML) they encode."""
    ap = child.stance_ap_cm + m.cop_ap + m.board_level * child.sway_ap_cm * sway_ap
    ml = child.stance_ml_cm + m.cop_ml + m.board_level * child.sway_ml_cm * sway_ml
    total = child.mass_kg * m.on_board * (1.0 + m.acc_z / G + 0.004 * fluct)
    return corners_from_cop(np.maximum(total, 0.0), ap, ml, geometry), ap, ml


def trunk_imu(
    m: Motion, sway_ap: Array, sway_ml: Array, own: tuple[Array, Array], child: Child, fs: float
) -> Array:
    """Noise-free accelerometer (g) and gyroscope (deg/s), shape (n − 2, 6).

    Samples 0 and n − 1 only serve the central-difference derivative of the angles.
    """
    h_cm = child.com_height_m * 100
    sway_pitch = np.arctan(m.trunk_level * child.sway_ap_cm * sway_ap / h_cm)
    sway_roll = np.arctan(m.trunk_level * child.sway_ml_cm * sway_ml / h_cm)
    theta = m.pitch + sway_pitch + math.radians(child.trunk_tilt_deg) + math.radians(0.5) * own[0]
    phi = m.roll + sway_roll + math.radians(0.5) * own[1]
    psi = m.yaw
    d_theta, d_phi, d_psi = (np.gradient(x, 1.0 / fs) for x in (theta, phi, psi))
    sl = slice(1, -1)
    th, ph = theta[sl], phi[sl]
    dth, dph, dps = d_theta[sl], d_phi[sl], d_psi[sl]
    fz = 1.0 + m.acc_z[sl] / G
    accel = np.stack([-np.sin(th) * fz, np.sin(ph) * np.cos(th) * fz, np.cos(ph) * np.cos(th) * fz])
    gyro = np.stack(
        [
            dph - dps * np.sin(th),
            dth * np.cos(ph) + dps * np.sin(ph) * np.cos(th),
            -dth * np.sin(ph) + dps * np.cos(ph) * np.cos(th),
        ]
    )
    return np.concatenate([accel, np.degrees(gyro)]).T
