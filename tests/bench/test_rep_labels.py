"""``bench/rep_labels.py`` counts the excursions a recording holds, offline: every full
one, and one cut by the start or the end only when it rose as far as a rep does — the
figure that says which SPAR labels no counter can match."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.rep_labels import excursions

FS = 50.0


def recording(reps: int, *, start_at_top: bool = False, end_in_rep: float = 0.0,
              seed: int = 0) -> np.ndarray:
    """A wrist raising and lowering ``reps`` times (2.5 s each, 1 s at rest between), a
    sensor mounted at a random angle; the recording starts at rest (or at the top of one
    more rep) and stops at rest (or ``end_in_rep`` of the way up one more rep)."""
    rng = np.random.default_rng(seed)
    one = np.r_[np.sin(np.linspace(0, math.pi, int(2.5 * FS))) ** 2, np.zeros(int(1 * FS))]
    angle = np.concatenate([np.zeros(int(2 * FS))] + [one] * (reps + 2) + [np.zeros(int(2 * FS))])
    rise = int(1.25 * FS)  # the raise: the first half of a rep
    whole = int(2 * FS) + len(one)  # the first whole rep
    begin = whole - len(one) + rise if start_at_top else whole - 10
    stop = int(2 * FS) + len(one) * (reps + 1) + round(rise * end_in_rep)
    a = np.radians(50) * angle[begin:stop]
    acc = 9.81 * np.column_stack([np.sin(a), 0 * a, np.cos(a)])
    gyr = np.column_stack([0 * a, np.degrees(np.gradient(a) * FS), 0 * a])
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    x = np.hstack([acc @ q.T, gyr @ q.T])
    return x + rng.normal(0, 0.05, x.shape)


def on_the_reps_side(x: np.ndarray) -> tuple[int, int]:
    """(full, with the cut ends) on the side of the raises: the side with more full
    excursions (the other side holds the rests between them: one fewer)."""
    return max(excursions(x, FS))


def test_whole_reps_are_counted_and_nothing_at_rest_ends() -> None:
    assert on_the_reps_side(recording(12)) == (12, 12)


@pytest.mark.parametrize("cut", [0.9, 0.6])
def test_a_rep_cut_by_the_end_is_seen_as_cut_not_as_whole(cut: float) -> None:
    full, with_cut = on_the_reps_side(recording(12, end_in_rep=cut))
    assert (full, with_cut) == (12, 13)


def test_a_barely_started_rep_at_the_end_is_not_one() -> None:
    assert on_the_reps_side(recording(12, end_in_rep=0.1)) == (12, 12)


def test_a_recording_that_starts_at_a_reps_top_holds_that_rep_cut() -> None:
    assert on_the_reps_side(recording(12, start_at_top=True)) == (12, 13)
