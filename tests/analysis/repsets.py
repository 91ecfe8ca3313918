"""Sets whose rep count the defaults cannot know, for the tests that calibrate on them."""

from __future__ import annotations

import numpy as np

from analysis.repsynth import imu_samples


def double_bump_set(n_reps: int, seed: int, fs: float = 50.0) -> tuple[np.ndarray, np.ndarray]:
    """Each rep: a lean, back up, a second smaller lean, back up, then rest: is it 1 rep
    or 2? The default counts the bumps; the therapist's count says. ``(t, samples)``."""
    rng = np.random.default_rng(seed)
    periods = 2.4 * (1 + 0.1 * rng.uniform(-1, 1, n_reps))
    t = np.arange(0, periods.sum() + 6, 1 / fs)
    x = np.zeros_like(t)
    start = 3.0
    for period in periods:
        u = (t - start) / period
        first, second = (u >= 0) & (u < 0.4), (u >= 0.4) & (u < 0.8)
        x[first] = 30 * np.sin(np.pi * u[first] / 0.4) ** 2
        x[second] = 18 * np.sin(np.pi * (u[second] - 0.4) / 0.4) ** 2
        start += period
    return t, imu_samples(x, fs=fs, rng=rng, noise=0.3)


def cut_squats(
    n_reps: int, done: float, seed: int, fs: float = 50.0
) -> tuple[np.ndarray, np.ndarray]:
    """Squats of 2.5 s (30° out and back), the recording stopped when the last rep is
    ``done`` of its way through (0.5: at its extreme). ``(t, samples)``."""
    rng = np.random.default_rng(seed)
    period = 2.5
    t = np.arange(0, 2 + n_reps * period, 1 / fs)
    x = np.zeros_like(t)
    for k in range(n_reps):
        u = (t - 2 - k * period) / period
        rep = (u >= 0) & (u < 1)
        x[rep] = 30 * np.sin(np.pi * u[rep]) ** 2
    keep = t <= 2 + (n_reps - 1 + done) * period
    return t[keep], imu_samples(x, fs=fs, rng=rng, noise=0.3)[keep]
