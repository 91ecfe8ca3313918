"""When a session ends, work out what opening its replay needs, so no one waits for it.

The recorder hands every event it has committed to :meth:`SessionFinisher.on_event`; on
a ``session_end`` the finisher waits :data:`GRACE_S` (the room's last batches are still
on their way: a batch leaves the ingest at most half a second after its samples) and
then, in its own thread, has :func:`review.replay_views.prepare` store the session's
tilt and IMU overviews (the costliest parts of a replay's cold open). Samples that
arrive later still make those stale, and the replay then works them out again: the
finisher saves time, it is never needed for a correct page. A failure is logged; the
recorder never waits on it.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from typing import Any

from contract import Event, Topic

log = logging.getLogger(__name__)

GRACE_S = 5.0
"""Seconds between a session's end and the work on it."""


class SessionFinisher:
    """A thread that prepares each ended session's replay (``store``: a :class:`Store`)."""

    def __init__(self, store: Any, *, grace_s: float = GRACE_S) -> None:
        self.store = store
        self.grace_s = grace_s
        self.prepared = 0  # sessions prepared so far
        self._due: list[tuple[float, str]] = []
        self._wake = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="session-finisher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._wake:
            self._stop = True
            self._wake.notify()
        self._thread.join(timeout)

    def on_event(self, topic: Topic, event: Event) -> None:
        """The recorder's hook (an event just committed): note a session that ended."""
        if event.type == "session_end" and event.session:
            with self._wake:
                heapq.heappush(self._due, (time.monotonic() + self.grace_s, event.session))
                self._wake.notify()

    def _next(self) -> str | None:
        """The next session due (waiting for it), or None when stopping."""
        with self._wake:
            while not self._stop:
                if self._due and self._due[0][0] <= time.monotonic():
                    return heapq.heappop(self._due)[1]
                self._wake.wait(self._due[0][0] - time.monotonic() if self._due else None)
            return None

    def _run(self) -> None:
        from review.replay_views import prepare

        while (session := self._next()) is not None:
            started = time.monotonic()
            try:
                if prepare(self.store, session):
                    self.prepared += 1
                    log.info("session %s: replay prepared in %.2f s", session,
                             time.monotonic() - started)
            except Exception:  # one session's trouble must not stop the next
                log.exception("session %s: could not prepare its replay", session)
