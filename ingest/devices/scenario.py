"""The timeline of a simulated DMI session: exercises, reps, rests, stepping off the board.

Deterministic for a seed. The session starts with a short rest standing on the board,
then cycles through the exercises (each cycle in a new random order, never the same
exercise twice in a row):

- ``squat-to-stand``: squat down and stand up (trunk pitches forward, COM drops);
- ``lateral-shift``: shift the weight onto one foot and back, alternating sides;
- ``reach``: lean forward to reach a toy and come back upright;
- ``foam-stand``: quiet standing on a foam pad, no reps.

An exercise lasts 20–50 s (2–4 s lead-in and lead-out) with 3–8 reps at a tempo that
varies between sets (2.5–5 s a rep) and between reps (±20 %); squats, shifts and reaches
are on foam 40 % of the time. After each exercise the child rests 10–35 s; in about a
third of the rests it steps off the board for a while (``off``, surface ``none``).
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass

import numpy as np

EXERCISES = ("squat-to-stand", "lateral-shift", "reach", "foam-stand")
PHASES = (*EXERCISES, "rest", "off")
SURFACES = ("firm", "foam", "none")


@dataclass(frozen=True)
class Rep:
    """One repetition: it starts at ``center − duration/2`` and peaks at ``center``.

    ``amplitude`` scales the exercise's nominal excursion; ``side`` is +1 (right) or
    −1 (left) for lateral shifts, +1 otherwise.
    """

    center: float
    duration: float
    amplitude: float = 1.0
    side: int = 1

    def __post_init__(self) -> None:
        if not self.duration > 0:
            raise ValueError(f"rep duration must be > 0, got {self.duration!r}")
        if not 0 < self.amplitude <= 2:
            raise ValueError(f"rep amplitude must be in (0, 2], got {self.amplitude!r}")
        if self.side not in (1, -1):
            raise ValueError(f"rep side must be +1 or -1, got {self.side!r}")

    @property
    def start(self) -> float:
        return self.center - self.duration / 2

    @property
    def end(self) -> float:
        return self.center + self.duration / 2


@dataclass(frozen=True)
class Phase:
    """A stretch of the session, in device seconds ``[start, end)``."""

    name: str
    surface: str
    start: float
    end: float
    reps: tuple[Rep, ...] = ()
    index: int = 0

    def __post_init__(self) -> None:
        if self.name not in PHASES:
            raise ValueError(f"unknown phase {self.name!r}")
        if self.surface not in SURFACES:
            raise ValueError(f"unknown surface {self.surface!r}")
        if (self.name == "off") != (self.surface == "none"):
            raise ValueError("surface 'none' goes with the phase 'off' and only with it")
        if not 0 <= self.start < self.end:
            raise ValueError(
                f"phase times must satisfy 0 <= start < end, got {self.start}, {self.end}"
            )
        for rep in self.reps:
            if rep.start < self.start or rep.end > self.end:
                raise ValueError(f"rep at {rep.center:.2f} s lies outside its phase")

    @property
    def exercise(self) -> bool:
        return self.name in EXERCISES

    @property
    def on_board(self) -> bool:
        return self.surface != "none"

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def rep_times(self) -> tuple[float, ...]:
        """Device times (s) at which each rep peaks."""
        return tuple(rep.center for rep in self.reps)


class Timeline:
    """The endless, seeded sequence of phases; extended on demand, thread-safe."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng([seed, 0x5CE7])
        self._phases: list[Phase] = []
        self._starts: list[float] = []
        self._cycle: list[str] = []
        self._lock = threading.Lock()
        self._add("rest", "firm", self._uniform(6.0, 10.0))

    def phase_at(self, t: float) -> Phase:
        """The phase running at device time ``t`` (seconds, ≥ 0)."""
        if not t >= 0:
            raise ValueError(f"device time must be >= 0, got {t!r}")
        with self._lock:
            self._extend(t)
            return self._phases[bisect.bisect_right(self._starts, t) - 1]

    def phases(self, t0: float, t1: float) -> list[Phase]:
        """The phases overlapping ``[t0, t1)``, in order."""
        with self._lock:
            self._extend(t1)
            first = max(bisect.bisect_right(self._starts, max(t0, 0.0)) - 1, 0)
            last = bisect.bisect_left(self._starts, t1)
            return self._phases[first : max(last, first + 1)]

    # ------------------------------------------------------------------ generation

    @property
    def _end(self) -> float:
        return self._phases[-1].end if self._phases else 0.0

    def _uniform(self, low: float, high: float) -> float:
        return float(self._rng.uniform(low, high))

    def _add(self, name: str, surface: str, duration: float, reps: tuple[Rep, ...] = ()) -> None:
        start = self._end
        self._phases.append(Phase(name, surface, start, start + duration, reps, len(self._phases)))
        self._starts.append(start)

    def _extend(self, t: float) -> None:
        while self._end <= t:
            self._exercise()
            self._rest()

    def _next_exercise(self) -> str:
        if not self._cycle:
            order = list(EXERCISES)
            self._rng.shuffle(order)
            last = next((p.name for p in reversed(self._phases) if p.exercise), None)
            if order[0] == last:
                order.append(order.pop(0))
            self._cycle = order
        return self._cycle.pop(0)

    def _exercise(self) -> None:
        name = self._next_exercise()
        if name == "foam-stand":
            self._add(name, "foam", self._uniform(20.0, 45.0))
            return
        surface = "foam" if self._rng.random() < 0.4 else "firm"
        target = self._uniform(20.0, 50.0)
        lead_in, lead_out = self._uniform(2.0, 4.0), self._uniform(2.0, 4.0)
        tempo = self._uniform(2.5, 5.0)
        side = 1 if self._rng.random() < 0.5 else -1
        start = self._end
        t = start + lead_in
        reps: list[Rep] = []
        while len(reps) < 8:
            duration = tempo * self._uniform(0.8, 1.2)
            gap = self._uniform(0.4, 2.0)
            if len(reps) >= 3 and t + duration + lead_out > start + target:
                break
            amplitude = self._uniform(0.7, 1.2)
            reps.append(Rep(t + duration / 2, duration, amplitude, side))
            if name == "lateral-shift":
                side = -side
            t += duration + gap
        end = max(start + target, reps[-1].end + lead_out)
        self._add(name, surface, min(end - start, 50.0), tuple(reps))

    def _rest(self) -> None:
        total = self._uniform(10.0, 35.0)
        if self._rng.random() < 0.35 and total > 16:
            before, after = self._uniform(2.0, 4.0), self._uniform(2.0, 4.0)
            self._add("rest", "firm", before)
            self._add("off", "none", total - before - after)
            self._add("rest", "firm", after)
        else:
            self._add("rest", "firm", total)
