"""Rate-limited logging: the first few lines of a kind, then one summary per period.

A flood of bad messages must not become a flood of log lines. Each *key* names a kind of
line (``"live hub: rejected message"``). Per key, the first ``burst`` lines are logged;
after that, one summary at most every ``every_s`` seconds says how many were left out.
Once a key has been quiet for a whole period it gets a fresh burst.

    >>> import logging
    >>> limited = RateLimitedLog(logging.getLogger("demo"), every_s=60.0, burst=5)
    >>> limited.warning("rejected message", "rejected message on %s: %s", "topic", "why")
    True

A summary is written when the next line of its key comes in after the period, or by
:meth:`RateLimitedLog.flush`; keep keys to a small fixed set (they are remembered).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimitedLog"]


@dataclass
class _Window:
    started: float
    last: float
    logged: int = 0
    left_out: int = 0


class RateLimitedLog:
    """Wraps ``logger``: per key, ``burst`` lines, then a summary at most every ``every_s``."""

    def __init__(self, logger: logging.Logger, *, every_s: float = 60.0, burst: int = 5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if every_s <= 0 or burst < 0:
            raise ValueError(f"every_s must be > 0 and burst >= 0, got {every_s!r}, {burst!r}")
        self.logger = logger
        self.every_s = every_s
        self.burst = burst
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._levels: dict[str, int] = {}
        self._lock = threading.Lock()

    def log(self, level: int, key: str, msg: str, *args: object,
            exc_info: bool = False) -> bool:
        """Log ``msg % args`` at ``level`` unless ``key`` is over its burst; True if logged."""
        now = self._clock()
        with self._lock:
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = _Window(now, now)
            elif now - window.started >= self.every_s or now - window.last >= self.every_s:
                self._summarise(key, window, now)
                # a flood that goes on gets summaries only; a key quiet for a period and
                # one that stayed within its burst get a fresh burst
                flooding = window.left_out and now - window.last < self.every_s
                window = self._windows[key] = _Window(now, now,
                                                      logged=self.burst if flooding else 0)
            window.last = now
            self._levels[key] = level
            if window.logged >= self.burst:
                window.left_out += 1
                return False
            window.logged += 1
        self.logger.log(level, msg, *args, exc_info=exc_info)
        return True

    def warning(self, key: str, msg: str, *args: object, exc_info: bool = False) -> bool:
        return self.log(logging.WARNING, key, msg, *args, exc_info=exc_info)

    def info(self, key: str, msg: str, *args: object, exc_info: bool = False) -> bool:
        return self.log(logging.INFO, key, msg, *args, exc_info=exc_info)

    def error(self, key: str, msg: str, *args: object, exc_info: bool = False) -> bool:
        return self.log(logging.ERROR, key, msg, *args, exc_info=exc_info)

    def flush(self) -> None:
        """Write the summary of every key with lines left out (at shutdown, say)."""
        now = self._clock()
        with self._lock:
            for key, window in list(self._windows.items()):
                self._summarise(key, window, now)
                self._windows[key] = _Window(now, window.last, logged=window.logged)

    def _summarise(self, key: str, window: _Window, now: float) -> None:
        if window.left_out:
            self.logger.log(self._levels.get(key, logging.WARNING),
                            "%s: %d more in the last %.0f s (not logged one by one)",
                            key, window.left_out, now - window.started)
