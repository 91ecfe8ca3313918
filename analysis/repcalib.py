"""Learn a :class:`~analysis.repsettings.Calibration` from a set whose count is known.

When the therapist corrects the count of a finished set, :func:`calibrate` searches the
few settings of the counter for those under which the streaming counter, fed that set,
counts exactly what the therapist counted — preferring the least change from the
defaults, so that one set cannot teach more than it shows:

- ``threshold``: the rise thresholds × 0.8, 1.25, 0.64, 1.56, 0.5 or 2 (cost 1 per step);
- ``period_s``: the period searched between half and all of the set's mean rep period,
  its duration over the count (cost 1): no more doubled or halved tempo;
- ``min_interval``: 0.35 or 0.65 of the period instead of 0.5 (cost 1);
- ``component``: only the gyroscope or only the accelerometer (cost 1);
- ``side``: reps close on the other side (cost 1);
- ``finish``: a rep cut off by the end of the set counts from half a rep, or never
  (cost 1).

Candidates are tried in order of cost (at most :data:`MAX_COST`). Of those that count
exactly, the one with the lowest ``cost + IRREGULARITY × irregularity`` wins, where
*irregularity* is the mean ``|ln(interval / median interval)|`` of its reps: a setting
that hits the count by luck — counting half of the reps twice and missing others —
gives uneven intervals, the right one gives the child's tempo.

The winner then learns the **tempo** at no cost: the period searched becomes the range
of the intervals between the reps it counted, widened by :data:`TEMPO_SPAN` (if it still
counts exactly with it). A set whose count is known shows the child's tempo, and the
counter then knows it from the first rep of the next set on: before the signal shows
its own period, two bumps of one rep are closer than half the tempo and count once.

If none counts exactly, the one that comes closest (then the least change) — but only
if it comes :data:`ONE_REP_AMBIGUITY` reps closer than the defaults: a count one off
is what a rep cut at the start or the end of a recording gives, counted by the
therapist or not, and no setting learned from it would transfer. The front end
(filters, principal axis, period) runs once per component and period range; the
detection is replayed on its output, so a calibration takes a second or two for a
one-minute set.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import replace

import numpy as np
from numpy.typing import ArrayLike

from analysis._checks import FloatArray, as_1d, positive
from analysis.errors import InvalidParameterError, InvalidSignalError, SignalTooShortError
from analysis.repcount import Block, RepCounter
from analysis.repsettings import DEFAULT, Calibration, Sensitivity
from analysis.repsignal import CHANNELS, PERIOD_S, Kind

log = logging.getLogger(__name__)

MAX_COST = 3
IRREGULARITY = 10.0
"""Cost of an irregularity of 1 (intervals off by a factor e on average); a child's
uneven tempo (±20 %) weighs about 1, the same as one changed setting."""
TEMPO_SPAN = 1.7
"""The child's next sets are searched for periods from the fastest interval of the
calibration set / this to its slowest × this: another day's set may be much faster or
slower (the two arms of one adult differ by up to 40 % in the SPAR sets), but a half
period (a rep's two bumps) stays out of reach when the tempo is steady."""
ONE_REP_AMBIGUITY = 2
"""A calibration that does not count the set exactly must come at least this much
closer than the defaults: a rep cut at the start or the end of a set, counted by the
therapist or not, is within one rep and shows no setting to be wrong."""
THRESHOLDS = {1.0: 0, 0.8: 1, 1.25: 1, 0.64: 2, 1.5625: 2, 0.5: 3, 2.0: 3}
MIN_INTERVALS = {DEFAULT.min_interval: 0, 0.35: 1, 0.65: 1}
SIDES = {"first": 0, "second": 1}
FINISHES = {DEFAULT.finish: 0, 0.5: 1, None: 1}


def _period_range(duration: float, count: int) -> tuple[float, float]:
    """Periods compatible with ``count`` reps in ``duration`` s (some of it at rest)."""
    mean = duration / count
    return (round(max(0.25, 0.5 * mean), 3), round(min(30.0, max(1.05 * mean, 0.5)), 3))


def _fronts(
    t: FloatArray, x: FloatArray, *, fs: float, kind: Kind, count: int
) -> list[tuple[Calibration, int]]:
    """Each front-end setting (component, period range) with its cost."""
    components = ("auto", "gyr", "acc") if kind == "imu" else ("auto",)
    ranges = [PERIOD_S]
    if count >= 2:
        ranges.append(_period_range(float(t[-1] - t[0]) + 1 / fs, count))
    return [
        (Calibration(component=c, period_s=r), int(c != "auto") + int(r != PERIOD_S))  # type: ignore[arg-type]
        for c, r in itertools.product(components, ranges)
    ]


def settings(fronts: list[tuple[Calibration, int]]) -> list[tuple[int, int, Calibration]]:
    """Every setting searched: ``(cost, index of its front, calibration)`` for each front
    (with its cost) and detection setting within :data:`MAX_COST`, cheapest first (the
    defaults first within a cost)."""
    found = []
    for i, (front, front_cost) in enumerate(fronts):
        for (th, c1), (mi, c2), (side, c3), (fin, c4) in itertools.product(
            THRESHOLDS.items(), MIN_INTERVALS.items(), SIDES.items(), FINISHES.items()
        ):
            cost = front_cost + c1 + c2 + c3 + c4
            if cost <= MAX_COST:
                cal = replace(front, threshold=th, min_interval=mi, side=side, finish=fin)  # type: ignore[arg-type]
                found.append((cost, i, cal))
    found.sort(key=lambda c: c[0])  # stable
    return found


def _blocks(
    t: FloatArray, x: FloatArray, *, fs: float, kind: Kind, front: Calibration
) -> list[Block]:
    """The front end's output over the whole set, block by block as when streaming."""
    counter = RepCounter(fs=fs, kind=kind, calibration=front)
    b = counter._block
    return [counter._front(t[i : i + b], x[i : i + b]) for i in range(0, t.size, b)]


def replay(
    blocks: list[Block],
    *,
    fs: float,
    kind: Kind,
    calibration: Calibration,
    sensitivity: Sensitivity | str = Sensitivity.NORMAL,
) -> list[float]:
    """Rep times of a fresh counter with ``calibration`` over recorded front-end blocks."""
    counter = RepCounter(fs=fs, kind=kind, calibration=calibration, sensitivity=sensitivity)
    reps = [rep for block in blocks for rep in counter._detect(block)]
    return [rep.t for rep in reps + counter._end()]


def tempo_range(times: list[float]) -> tuple[float, float] | None:
    """Periods to search in the child's next sets, from the rep times of this one.

    The fastest and the slowest interval between reps (pauses, over twice the median,
    left out), widened by :data:`TEMPO_SPAN`; None under three reps.
    """
    if len(times) < 3:
        return None
    intervals = np.diff(np.asarray(times))
    kept = intervals[intervals <= 2 * float(np.median(intervals))]
    lo, hi = float(kept.min()) / TEMPO_SPAN, float(kept.max()) * TEMPO_SPAN
    lo, hi = round(max(0.25, lo), 3), round(min(30.0, hi), 3)
    return (lo, hi) if lo < hi else None


def _learn_tempo(
    t: FloatArray,
    x: FloatArray,
    *,
    fs: float,
    kind: Kind,
    count: int,
    calibration: Calibration,
    sensitivity: Sensitivity | str,
) -> Calibration:
    """``calibration`` with the period range of the tempo it counts, if it still counts
    ``count`` reps with it; else ``calibration`` unchanged."""
    blocks = _blocks(t, x, fs=fs, kind=kind, front=calibration)
    times = replay(blocks, fs=fs, kind=kind, calibration=calibration, sensitivity=sensitivity)
    period_s = tempo_range(times)
    if period_s is None:
        return calibration
    cal = replace(calibration, period_s=period_s)
    blocks = _blocks(t, x, fs=fs, kind=kind, front=cal)
    again = replay(blocks, fs=fs, kind=kind, calibration=cal, sensitivity=sensitivity)
    return cal if len(again) == count else calibration


def irregularity(times: list[float]) -> float:
    """Mean ``|ln(interval / median interval)|``, pauses (over twice the median) left out."""
    if len(times) < 3:
        return 0.0
    intervals = np.diff(np.asarray(times))
    typical = float(np.median(intervals))
    if typical <= 0:
        return 0.0
    kept = intervals[intervals <= 2 * typical]
    return float(np.mean(np.abs(np.log(np.maximum(kept, 1e-6) / typical))))


def calibrate(
    t: ArrayLike,
    samples: ArrayLike,
    *,
    count: int,
    fs: float,
    kind: Kind = "imu",
    sensitivity: Sensitivity | str = Sensitivity.NORMAL,
) -> Calibration:
    """Settings under which the streaming counter counts ``count`` reps in this set.

    Parameters
    ----------
    t, samples : the whole set, as for :meth:`RepCounter.push`.
    count : the true number of reps (the therapist's count), ``>= 0``.
    fs : sampling rate, Hz.
    kind : ``"imu"`` or ``"cop"``.
    sensitivity : the sensitivity step the counter will run with.

    Returns
    -------
    Calibration
        The least change from the defaults that counts exactly, with the tempo it
        counts; or, if none does within :data:`MAX_COST`, the one that comes closest
        (ties: the least change), if it comes :data:`ONE_REP_AMBIGUITY` reps closer than
        the defaults.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(0, 30, 0.02)
    >>> angle = np.radians(30) * np.sin(2 * np.pi * t / 2.5) * (t > 2.5) * (t < 27.5)
    >>> acc = 9.81 * np.column_stack([np.sin(angle), 0 * t, np.cos(angle)])
    >>> gyr = np.column_stack([0 * t, np.degrees(np.gradient(angle, t)), 0 * t])
    >>> calibrate(t, np.hstack([acc, gyr]), count=10, fs=50).changes()  # the tempo only
    {'period_s': (1.424, 4.352)}
    """
    fs = positive("fs", fs)
    if kind not in CHANNELS:
        raise InvalidParameterError(f"kind must be 'imu' or 'cop', got {kind!r}")
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
        raise InvalidParameterError(f"count must be an integer >= 0, got {count!r}")
    tt = as_1d("t", t)
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape != (tt.size, CHANNELS[kind]):
        raise InvalidSignalError(
            f"samples: expected shape ({tt.size}, {CHANNELS[kind]}), got {x.shape}"
        )
    if tt.size < 2 * fs:
        raise SignalTooShortError(f"a set of {tt.size / fs:.1f} s is too short to calibrate")
    x = RepCounter(fs=fs, kind=kind)._hold(x)
    fronts = _fronts(tt, x, fs=fs, kind=kind, count=int(count))
    candidates = settings(fronts)
    cache: dict[int, list[Block]] = {}
    best: tuple[int, float, Calibration] | None = None
    untuned = 0  # the defaults' error: the first candidate's
    for cost, i, cal in candidates:
        if best is not None and best[0] == 0 and cost >= best[1]:
            break  # no cheaper exact setting is left
        if i not in cache:
            cache[i] = _blocks(tt, x, fs=fs, kind=kind, front=fronts[i][0])
        times = replay(cache[i], fs=fs, kind=kind, calibration=cal, sensitivity=sensitivity)
        error = abs(len(times) - count)
        score = cost + IRREGULARITY * irregularity(times) if error == 0 else float(cost)
        if best is None:
            untuned = error
        if best is None or (error, score) < best[:2]:
            best = (error, score, cal)
    assert best is not None
    error, score, cal = best
    if error > 0 and untuned - error < ONE_REP_AMBIGUITY:
        # no setting explains the count and none comes much closer: nothing to learn
        error, score, cal = untuned, 0.0, DEFAULT
    if error == 0 and cal.period_s == PERIOD_S:
        cal = _learn_tempo(
            tt, x, fs=fs, kind=kind, count=int(count), calibration=cal, sensitivity=sensitivity
        )
    log.info("calibrated on %d reps: off by %d, score %.2f: %s", count, error, score, cal.changes())
    return cal
