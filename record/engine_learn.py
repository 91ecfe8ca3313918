"""Learning from the therapist: calibrate the rep counter on a corrected set, keep it.

A set whose count the therapist corrected (+1 / −1 during the set) is a label: its
samples and its final count. :func:`learn` finds the counter settings under which the
streaming counter counts exactly that (:func:`analysis.repcalib.calibrate`), and
:class:`Learner` does it off the engine's thread (a one-minute set takes a second or
two) and stores the result for the child and exercise; :class:`StoreSetup` gives the
engine those settings, with the therapist's sensitivity step, when the next set starts.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from analysis.errors import AnalysisError
from analysis.repcalib import calibrate
from analysis.repsettings import Calibration, Sensitivity
from record.engine_parts import Labelled, RepSetup

log = logging.getLogger(__name__)

__all__ = ["Learner", "StoreSetup", "learn"]


def learn(label: Labelled) -> Calibration:
    """The settings under which the counter counts ``label.count`` reps in this set."""
    return calibrate(label.t, label.x, count=label.count, fs=label.fs, kind=label.kind,
                     sensitivity=label.sensitivity)


class StoreSetup:
    """(child, exercise) → the counter's settings from the store (defaults when none)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def __call__(self, child: str | None, exercise: str) -> RepSetup:
        if child is None:
            return RepSetup()
        row = self.store.rep_calibration(child, exercise)
        if row is None:
            return RepSetup()
        calibration = None
        if row.calibration is not None:
            try:
                calibration = Calibration.from_json(row.calibration)
            except AnalysisError as exc:
                log.warning("engine: stored rep calibration for %s/%s not usable (%s): "
                            "defaults", child, exercise, exc)
        try:
            sensitivity = Sensitivity(row.sensitivity)
        except ValueError:
            sensitivity = Sensitivity.NORMAL
        return RepSetup(calibration, sensitivity)


class Learner:
    """Calibrates on corrected sets in its own thread and stores what it learned.

    :meth:`__call__` (the engine's ``on_labelled``) only queues; at most ``backlog`` sets
    wait (more are dropped with a warning: the next correction teaches again).
    """

    def __init__(self, store: Any, *, backlog: int = 8) -> None:
        self.store = store
        self.learned = 0
        self.failed = 0
        self._queue: queue.Queue[Labelled | None] = queue.Queue(maxsize=backlog)
        self._thread = threading.Thread(target=self._run, name="engine-learn", daemon=True)
        self._thread.start()

    def __call__(self, label: Labelled) -> None:
        try:
            self._queue.put_nowait(label)
        except queue.Full:
            log.warning("engine: %d corrected sets wait for calibration: set of %s/%s "
                        "not learned from", self._queue.qsize(), label.child, label.exercise)

    def stop(self, timeout: float = 5.0) -> None:
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _run(self) -> None:
        while (label := self._queue.get()) is not None:
            try:
                cal = learn(label)
                self.store.save_rep_calibration(label.child, label.exercise, cal.to_json())
            except Exception:  # one set that cannot be learned from costs that set only
                self.failed += 1
                log.exception("engine: calibration on a set of %s/%s failed", label.child,
                              label.exercise)
                continue
            self.learned += 1
            log.info("engine: rep counter for %s/%s calibrated on a corrected set (%d counted, "
                     "%d by the therapist): %s", label.child, label.exercise, label.auto,
                     label.count, cal.changes() or "defaults")
