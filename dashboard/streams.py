"""Live streams (server-sent events): who may keep one open, how many, and their audit.

A stream lives for hours, long after the request that opened it was authorised, and it
runs outside that request. So the route captures, at open time, what is needed to ask
again later, and the stream asks every :data:`RECHECK_S` seconds:

- :func:`still_allowed_check` builds that question for a principal (the one place to
  extend when kiosk links or sign-in sessions become revocable on the server);
- :class:`StreamGuard` asks it on schedule and says how to end the stream;
- :class:`StreamLimiter` caps open streams per principal and per process (the excess
  gets HTTP 429), and :class:`OpenAudit` writes one audit row per principal and room
  every few minutes, however often a page reconnects.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import flask

from access import Principal
from dashboard import kiosk_links, signins
from ingest.ratelog import RateLimitedLog
from store import Store

log = logging.getLogger(__name__)
_limited = RateLimitedLog(log, every_s=60.0, burst=3)

StillAllowed = Callable[[], bool]
RECHECK_S = 2.0
MAX_STREAMS = 64
MAX_STREAMS_PER_PRINCIPAL = 4
AUDIT_EVERY_S = 300.0
ENDED_MESSAGES = {
    "family": "This family link has ended.",
    "kiosk": "This wall-screen link has ended.",
    "user": "You are signed out. Sign in again to see live data.",
}


# ----------------------------------------------------------------------------- the route


def open_stream(store: Store, limiter: StreamLimiter, audit: OpenAudit, principal: Principal,
                *, subject: str, child: str | None,
                make: Callable[[StreamGuard], Iterator[str]]) -> flask.Response:
    """The response of a stream route, once the route has checked ``principal`` may open
    it: 429 over the limits; otherwise an audited (see :class:`OpenAudit`), guarded
    event stream from ``make(guard)`` whose slot is given back however it ends.

    ``subject`` is what is watched (a room, or ``family``), ``child`` whose data it is
    when known. Call inside the request: it captures the session for the guard.
    """
    session = dict(flask.session)
    try:
        slot = limiter.acquire(stream_key(principal, session))
    except TooManyStreams as exc:
        _limited.warning("too many streams", "live stream refused for %s: %s",
                         principal.name, exc)
        return flask.Response(f"{exc}\n", status=429, mimetype="text/plain",
                              headers={"Retry-After": str(exc.retry_after_s)})
    try:
        guard = StreamGuard(still_allowed_check(store, principal, session),
                            ended_message=ended_message(principal))
        if audit.due(principal.name, subject):
            store.audit(principal.name, "open live stream", child, detail=subject)
        response = flask.Response(_releasing(make(guard), slot), mimetype="text/event-stream")
    except BaseException:
        slot.release()
        raise
    response.call_on_close(slot.release)  # also when the stream never started
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _releasing(events: Iterator[str], slot: StreamSlot) -> Iterator[str]:
    try:
        yield from events
    finally:  # ended, or closed by the server when the browser went away
        slot.release()


# ----------------------------------------------------------------------------- who


def still_allowed_check(store: Store, principal: Principal, session: Mapping[str, Any],
                        *, clock: Callable[[], float] = time.time) -> StillAllowed:
    """A closure answering "may this principal still see live data?", built at open time.

    ``session`` is the request's session data (copied; the closure runs outside the
    request). Family: the link (by the hash in ``session["link"]``) exists, is neither
    revoked nor expired, and is still for the principal's child. User: the account exists,
    is not disabled, and its sign-in was not ended (sign-out, a new password). Kiosk: its
    stored wall link is neither revoked nor expired. Anything else: never.
    """
    if principal.kind == "family":
        return _family_link_valid(store, principal, str(session.get("link", "")), clock)
    if principal.kind == "user":
        return _user_signed_in(store, principal.name, dict(session), clock)
    if principal.kind == "kiosk":
        return _kiosk_link_valid(store, session.get("kiosk"), principal, clock)
    return lambda: False


def _family_link_valid(store: Store, principal: Principal, token_hash: str,
                       clock: Callable[[], float]) -> StillAllowed:
    def family_link_valid() -> bool:
        link = store.family_link_by_hash(token_hash) if token_hash else None
        return (link is not None and link.is_valid(clock())
                and principal.can_see_child(link.child))
    return family_link_valid


def _user_signed_in(store: Store, username: str, session: dict[str, Any],
                    clock: Callable[[], float]) -> StillAllowed:
    """The account is enabled and this browser's sign-in was not ended (sign-out, a new
    password). The idle timeout does not apply: a wall left open is not idle."""
    def user_signed_in() -> bool:
        user = store.get_user(username)
        if user is None or user.disabled:
            return False
        return signins.why_ended(store, username, session, clock(),
                                 idle_s=math.inf) is None
    return user_signed_in


def _kiosk_link_valid(store: Store, link_id: object, principal: Principal,
                      clock: Callable[[], float]) -> StillAllowed:
    rooms = sorted(principal.rooms or ())

    def kiosk_link_valid() -> bool:
        return len(rooms) == 1 and kiosk_links.still_valid(store, link_id, rooms[0], now=clock())
    return kiosk_link_valid


class StreamGuard:
    """Asks ``still_allowed`` at most every ``every_s`` seconds on behalf of a stream.

    The stream waits at most :meth:`wait_s` between looks at :meth:`allowed`; once that
    is False it sends :meth:`final_event` (if any) and ends. A failing check (the
    database away) ends the stream without the final event, so the page reconnects and
    the route decides afresh.
    """

    def __init__(self, still_allowed: StillAllowed, *, ended_message: str,
                 every_s: float = RECHECK_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._still_allowed = still_allowed
        self._clock = clock
        self.every_s = every_s
        self.ended_message = ended_message
        self._next = clock() + every_s
        self._failed = False
        self._ended = False

    def wait_s(self) -> float:
        return max(0.0, self._next - self._clock())

    def allowed(self) -> bool:
        if self._ended:
            return False
        if self._clock() < self._next:
            return True
        try:
            ok = bool(self._still_allowed())
        except Exception as exc:  # the store away: end, let the page reconnect and retry
            _limited.warning("recheck failed", "live stream: could not recheck access (%r)",
                             exc)
            ok, self._failed = False, True
        self._next = self._clock() + self.every_s
        self._ended = not ok
        return ok

    def final_event(self) -> str | None:
        """The server-sent event telling the page that it may no longer watch."""
        if self._failed:
            return None
        return f"event: ended\ndata: {self.ended_message}\n\n"


def ended_message(principal: Principal) -> str:
    return ENDED_MESSAGES.get(principal.kind, "This live view has ended.")


# ----------------------------------------------------------------------------- how many


class TooManyStreams(Exception):
    """Refused: too many open streams; ``retry_after_s`` is a fair wait."""

    def __init__(self, message: str, *, retry_after_s: int = 10) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class StreamSlot:
    """One open stream; :meth:`release` (idempotent) gives the slot back."""

    def __init__(self, limiter: StreamLimiter, who: str) -> None:
        self._limiter = limiter
        self.who = who
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._limiter._release(self.who)


class StreamLimiter:
    """Caps open streams: ``per_principal`` for one principal, ``per_process`` in all."""

    def __init__(self, *, per_process: int = MAX_STREAMS,
                 per_principal: int = MAX_STREAMS_PER_PRINCIPAL) -> None:
        if per_process < 1 or per_principal < 1:
            raise ValueError(f"stream limits must be ≥ 1, got {per_process}, {per_principal}")
        self.per_process = per_process
        self.per_principal = per_principal
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, who: str) -> StreamSlot:
        """A slot for ``who``, or :class:`TooManyStreams` naming the limit reached."""
        with self._lock:
            if self._open.get(who, 0) >= self.per_principal:
                raise TooManyStreams(
                    f"Too many live views are open for this sign-in ({self.per_principal} at "
                    "most). Close another tab or screen, then try again.")
            if sum(self._open.values()) >= self.per_process:
                raise TooManyStreams(
                    "This server has as many live views open as it can serve. "
                    "Try again in a little while.", retry_after_s=30)
            self._open[who] = self._open.get(who, 0) + 1
        return StreamSlot(self, who)

    def open_streams(self, who: str | None = None) -> int:
        with self._lock:
            return sum(self._open.values()) if who is None else self._open.get(who, 0)

    def _release(self, who: str) -> None:
        with self._lock:
            left = self._open.get(who, 0) - 1
            if left > 0:
                self._open[who] = left
            else:
                self._open.pop(who, None)


def stream_key(principal: Principal, session: Mapping[str, Any]) -> str:
    """Whose streams count together: one family link, one account, one kiosk link."""
    if principal.kind == "family":
        return f"family:{session.get('link', principal.name)}"
    return f"{principal.kind}:{principal.name}"


# ----------------------------------------------------------------------------- audit


class OpenAudit:
    """Says whether a stream open is worth an audit row: once per principal and subject
    per ``every_s`` (in this process), however often a page reconnects."""

    def __init__(self, *, every_s: float = AUDIT_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self._clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def due(self, who: str, subject: str) -> bool:
        now = self._clock()
        with self._lock:
            if len(self._last) > 10_000:  # forget what no longer holds anything back
                self._last = {k: t for k, t in self._last.items() if now - t < self.every_s}
            last = self._last.get((who, subject))
            if last is not None and now - last < self.every_s:
                return False
            self._last[(who, subject)] = now
            return True
