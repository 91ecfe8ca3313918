"""Sign-in throttling that no one can turn against someone else.

Failures are counted per (account, address) pair and, mildly, per address; never per
account alone. So a guesser at one address slows only their own guesses at that account
(5 free tries, then 1 s, 2 s, 4 s … up to 5 minutes between tries), and someone trying
many account names from one address slows that address by at most a few seconds; the
real user at another address signs in as usual. The counts live in the store, so every
dashboard process (gunicorn worker) sees the same ones.

Example::

    >>> Backoff(free=5, first_s=1, cap_s=300, forget_after_s=3600).delay(7)
    4.0
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """``free`` failures cost nothing; then each one makes the next try wait twice as long
    (``first_s``, 2×, 4× … at most ``cap_s``). Quiet for ``forget_after_s``: forgotten."""

    free: int
    first_s: float
    cap_s: float
    forget_after_s: float

    def __post_init__(self) -> None:
        if self.free < 1 or self.first_s <= 0 or self.cap_s < self.first_s:
            raise ValueError(f"{self}: need free ≥ 1 and 0 < first_s ≤ cap_s")
        if self.forget_after_s <= self.cap_s:
            raise ValueError(f"{self}: forget_after_s must be longer than cap_s")

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return float(min(self.cap_s, self.first_s * 2.0 ** min(failures - self.free, 60)))


PAIR = Backoff(free=5, first_s=1.0, cap_s=300.0, forget_after_s=3600.0)
ADDRESS = Backoff(free=20, first_s=1.0, cap_s=8.0, forget_after_s=900.0)


@dataclass(frozen=True)
class Failure:
    """What one failed sign-in changed: the failures of the pair and how long it (or the
    address) must now wait."""

    failures: int
    wait_s: float


class SignInThrottle:
    """The sign-in throttle of a dashboard, over the store's ``sign_in_throttle`` table."""

    def __init__(self, store: Store, *, pair: Backoff = PAIR, address: Backoff = ADDRESS,
                 clock: Callable[[], float] = time.time) -> None:
        self._store, self._pair, self._address, self._clock = store, pair, address, clock

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str]:
        return f"pair:{username.strip().lower()[:64]}|{address[:64]}", f"addr:{address[:64]}"

    def wait_s(self, username: str, address: str) -> float:
        """Seconds until ``username`` may be tried from ``address`` (0: now)."""
        now = self._clock()
        rows = self._store.throttle_rows(self._keys(username, address))
        return max([0.0, *(row.blocked_until - now for row in rows)])

    def failed(self, username: str, address: str) -> Failure:
        now = self._clock()
        pair_key, address_key = self._keys(username, address)
        pair = self._store.throttle_failed(pair_key, now=now, delay=self._pair.delay,
                                           forget_after=self._pair.forget_after_s)
        by_address = self._store.throttle_failed(address_key, now=now,
                                                 delay=self._address.delay,
                                                 forget_after=self._address.forget_after_s)
        self._store.throttle_forget(now - max(self._pair.forget_after_s,
                                              self._address.forget_after_s))
        wait = max(pair.blocked_until, by_address.blocked_until) - now
        return Failure(pair.failures, max(0.0, wait))

    def succeeded(self, username: str, address: str) -> None:
        """Forget the pair's failures (the address's fade by themselves)."""
        self._store.throttle_clear(self._keys(username, address)[0])
