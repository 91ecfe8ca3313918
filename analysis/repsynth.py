"""Synthetic sensor samples of exercise sets, for the rep counter's tests and benchmark.

:func:`simulate_sensor_set` turns a :class:`~analysis.synth.SetScenario` into what a
sensor would record:

``"rotation"``
    an IMU mounted in a random orientation on a segment that rotates about a random
    horizontal axis by the scenario's signal, in degrees (a trunk leaning in a squat, an
    arm raised): accelerometer (m/s², gravity included) and gyroscope (deg/s);
``"translation"``
    an IMU in a random orientation carried up and down by the scenario's signal, in
    m/s² of vertical acceleration (a step-up);
``"cop"``
    a board's centre of pressure moving along a random direction by the signal, in cm.

Sensor noise follows the scenario's ``noise_sd`` (degrees, m/s² or cm); its ``spikes``
become impacts on the accelerometer (or COP jumps); ``wander`` and ``offset`` are a slow
posture drift and a tilt of the resting posture.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np

from analysis._checks import FloatArray, positive
from analysis.repsignal import GRAVITY
from analysis.synth import SetScenario, simulate_set

Motion = Literal["rotation", "translation", "cop"]


@dataclasses.dataclass(frozen=True, slots=True)
class SensorSet:
    """Simulated samples, the true time of each rep's extreme and the rep ends."""

    t: FloatArray
    samples: FloatArray
    rep_times: FloatArray
    rep_ends: FloatArray


def random_rotation(rng: np.random.Generator) -> FloatArray:
    """A uniformly random 3-D rotation matrix."""
    q = rng.standard_normal(4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _axis_rotations(axis: FloatArray, angle_rad: FloatArray) -> FloatArray:
    """Rotation matrices (n, 3, 3) about one unit axis (Rodrigues)."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    s, c = np.sin(angle_rad)[:, None, None], np.cos(angle_rad)[:, None, None]
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def simulate_sensor_set(
    scenario: SetScenario,
    *,
    fs: float,
    rng: np.random.Generator,
    motion: Motion = "rotation",
    mount: FloatArray | None = None,
) -> SensorSet:
    """Simulate one set as sensor samples, in a random (or the given) sensor orientation.

    Examples
    --------
    >>> import numpy as np
    >>> s = simulate_sensor_set(SetScenario(n_reps=4), fs=50, rng=np.random.default_rng(1))
    >>> s.samples.shape[1], len(s.rep_times)
    (6, 4)
    """
    fs = positive("fs", fs)
    clean = dataclasses.replace(scenario, noise_sd=0.0, spikes=0)
    sim = simulate_set(clean, fs=fs, rng=rng)
    x, n = sim.x, sim.t.size
    periods = np.diff(np.append(sim.rep_times, np.nan))
    phase = 0.25 if scenario.shape == "sine" else 0.5
    ends = sim.rep_times + (1 - phase) * np.where(
        np.isfinite(periods), periods, np.nanmedian(periods) if n and periods.size > 1 else 0.0
    )
    spikes = rng.integers(0, n, scenario.spikes) if scenario.spikes else np.zeros(0, int)
    if motion == "cop":
        angle = rng.uniform(0, 2 * math.pi)
        xy = np.outer(x, [math.cos(angle), math.sin(angle)])
        xy += scenario.noise_sd * rng.standard_normal((n, 2))
        xy[spikes] += rng.choice([-1.0, 1.0], (spikes.size, 1)) * 0.8 * max(scenario.amplitude)
        return SensorSet(sim.t, xy, sim.rep_times, ends)
    samples = imu_samples(x, fs=fs, rng=rng, motion=motion, noise=scenario.noise_sd, mount=mount)
    scale = math.radians(1.0) * GRAVITY if motion == "rotation" else 1.0
    amp = max(scenario.amplitude) * scale
    samples[spikes, :3] += rng.choice([-1.0, 1.0], (spikes.size, 1)) * 0.8 * amp * random_unit(rng)
    return SensorSet(sim.t, samples, sim.rep_times, ends)


def imu_samples(
    x: FloatArray,
    *,
    fs: float,
    rng: np.random.Generator,
    motion: Literal["rotation", "translation"] = "rotation",
    noise: float = 0.0,
    mount: FloatArray | None = None,
) -> FloatArray:
    """IMU samples (n, 6) of a movement: a rotation by ``x`` degrees about a random
    horizontal axis, or a vertical acceleration of ``x`` m/s²; the sensor is mounted in
    a random (or the given) orientation; ``noise`` in the signal's unit."""
    n = x.size
    mount = random_rotation(rng) if mount is None else mount
    if motion == "rotation":
        heading = rng.uniform(0, 2 * math.pi)
        axis = np.array([math.cos(heading), math.sin(heading), 0.0])
        world = _axis_rotations(axis, np.radians(x))  # segment orientation, (n, 3, 3)
        omega_world = np.outer(np.gradient(np.radians(x), 1 / fs), axis)
        lin = np.zeros((n, 3))
    else:
        world = np.broadcast_to(np.eye(3), (n, 3, 3))
        omega_world = np.zeros((n, 3))
        lin = np.outer(x, [0.0, 0.0, 1.0])
    sensor = world @ mount  # sensor -> world
    acc = np.einsum("nji,nj->ni", sensor, lin + np.array([0.0, 0.0, GRAVITY]))
    gyr = np.degrees(np.einsum("nji,nj->ni", sensor, omega_world))
    scale = math.radians(1.0) * GRAVITY if motion == "rotation" else 1.0
    acc += noise * scale * rng.standard_normal((n, 3))
    gyr += noise * (4.0 if motion == "rotation" else 2.0) * rng.standard_normal((n, 3))
    return np.hstack([acc, gyr])


def random_unit(rng: np.random.Generator) -> FloatArray:
    """A random unit vector in 3-D."""
    v = rng.standard_normal(3)
    return np.asarray(v / np.linalg.norm(v), dtype=np.float64)
