"""Synthetic exercise signals with known rep times, for demos, tests and benchmarks.

A *set* is quiet lead-in, ``n_reps`` repetitions whose period moves linearly from
``period_s[0]`` to ``period_s[1]`` (with random jitter), an optional pause in the middle,
and a quiet tail. Each rep is either a ``"pulse"`` (excursion and return, e.g. trunk pitch
in a squat, with a hold at the extreme) or a ``"sine"`` (one full swing, e.g. a COP
weight shift). Noise: white Gaussian, a slow baseline wander and optional spikes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from analysis._checks import FloatArray, positive
from analysis.errors import InvalidParameterError


@dataclass(frozen=True, slots=True)
class SetScenario:
    """Parameters of one simulated set (amplitudes are peak-to-peak, signal units)."""

    n_reps: int = 10
    period_s: tuple[float, float] = (2.5, 2.5)
    tempo_jitter: float = 0.1
    amplitude: tuple[float, float] = (15.0, 15.0)
    amplitude_jitter: float = 0.15
    hold: float = 0.2
    shape: Literal["pulse", "sine"] = "pulse"
    noise_sd: float = 0.3
    wander: float = 0.0
    spikes: int = 0
    pause_s: float = 0.0
    offset: float = 0.0
    lead_s: float = 3.0
    tail_s: float = 3.0

    def __post_init__(self) -> None:
        if self.n_reps < 0:
            raise InvalidParameterError(f"n_reps must be >= 0, got {self.n_reps}")
        if min(self.period_s) <= 0 or min(self.amplitude) < 0:
            raise InvalidParameterError("period_s must be > 0 and amplitude >= 0")
        if not 0.0 <= self.hold < 1.0:
            raise InvalidParameterError(f"hold must be in [0, 1), got {self.hold}")


@dataclass(frozen=True, slots=True)
class SimulatedSet:
    """A simulated signal and the true time of each rep's extreme."""

    t: FloatArray
    x: FloatArray
    rep_times: FloatArray


def _rep_wave(u: FloatArray, *, shape: str, hold: float) -> FloatArray:
    """Rep waveform over phase u in [0, 1): pulse peaks at 0.5, sine at 0.25."""
    if shape == "sine":
        return 0.5 * np.sin(2 * np.pi * u)
    ramp = (1.0 - hold) / 2.0
    v = np.clip(np.minimum(u, 1.0 - u) / ramp, 0.0, 1.0) if ramp > 0 else np.ones_like(u)
    return 0.5 * (1.0 - np.cos(np.pi * v))


def simulate_set(scenario: SetScenario, *, fs: float, rng: np.random.Generator) -> SimulatedSet:
    """Simulate one set; see :class:`SetScenario`.

    Examples
    --------
    >>> import numpy as np
    >>> s = simulate_set(SetScenario(n_reps=4), fs=50, rng=np.random.default_rng(1))
    >>> len(s.rep_times), s.t.size == s.x.size
    (4, True)
    """
    fs = positive("fs", fs)
    sc = scenario
    n = sc.n_reps
    frac = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(n)
    periods = (sc.period_s[0] + (sc.period_s[1] - sc.period_s[0]) * frac) * (
        1.0 + sc.tempo_jitter * rng.uniform(-1, 1, n)
    )
    amps = (sc.amplitude[0] + (sc.amplitude[1] - sc.amplitude[0]) * frac) * (
        1.0 + sc.amplitude_jitter * rng.uniform(-1, 1, n)
    )
    starts = sc.lead_s + np.concatenate([[0.0], np.cumsum(periods)[:-1]]) if n else np.zeros(0)
    if sc.pause_s > 0 and n > 1:
        starts[n // 2 :] += sc.pause_s
    end = (starts[-1] + periods[-1] if n else sc.lead_s) + sc.tail_s
    t = np.arange(int(end * fs)) / fs
    x = np.full(t.size, float(sc.offset))
    peak_phase = 0.25 if sc.shape == "sine" else 0.5
    for start, period, amp in zip(starts, periods, amps, strict=True):
        i0, i1 = int(np.ceil(start * fs)), int(np.ceil((start + period) * fs))
        u = (t[i0:i1] - start) / period
        x[i0:i1] += amp * _rep_wave(u, shape=sc.shape, hold=sc.hold)
    x += sc.noise_sd * rng.standard_normal(t.size)
    if sc.wander > 0:
        phase = rng.uniform(0, 2 * np.pi, 2)
        x += (
            sc.wander
            * (np.sin(2 * np.pi * 0.013 * t + phase[0]) + np.sin(2 * np.pi * 0.031 * t + phase[1]))
            / 2
        )
    if sc.spikes > 0:
        idx = rng.integers(0, t.size, sc.spikes)
        x[idx] += rng.choice([-1.0, 1.0], sc.spikes) * max(sc.amplitude) * 0.8
    return SimulatedSet(t=t, x=x, rep_times=starts + peak_phase * periods)
