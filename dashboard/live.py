"""The live hub: one MQTT subscription per dashboard process, ring buffers per device,
and a push stream (server-sent events) per browser.

The hub relays: the ingest publishes what the screens draw as small live frames (centre
of pressure in cm and load for boards, trunk pitch/roll in degrees for IMUs, the board's
ellipse; :mod:`ingest.live`), computed there once with the session engine's functions.
The hub decodes them (:func:`contract.decode`), keeps ``keep_s`` seconds per device and
computes nothing of its own; it never reads the stored sample batches. Each browser
stream keeps a cursor per device and receives everything since its cursor (never "the
latest sample"), so a slow browser skips nothing it has room for.

Every message is either applied or counted as a reject with its reason
(:attr:`LiveHub.stats`); rejects are logged a few at a time, then summarised. A stream
given a :class:`dashboard.streams.StreamGuard` asks it every few seconds whether its
browser may still watch, and ends with an ``ended`` event when not.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import paho.mqtt.client as mqtt

from contract import DeviceStatus, Event, LiveFrame, RoomState, events_topic, subscription
from dashboard.live_decode import Rejected, decode
from dashboard.live_feeds import (
    CHANNELS,
    DEFAULT_SWAY_REFERENCE_CM2,
    DISPLAY_HZ,
    MAX_DEVICES_PER_ROOM,
    DeviceFeed,
    Ring,
    RoomFeed,
    RoomFull,
    steadiness,
)
from dashboard.live_frames import StreamView, family_view, room_frame
from dashboard.streams import MAX_STREAMS, MAX_STREAMS_PER_PRINCIPAL, StreamLimiter
from ingest.mqtt import BrokerAddress, connect, make_client, reason_failed, safe_callback
from ingest.ratelog import RateLimitedLog

if TYPE_CHECKING:
    from dashboard.streams import StreamGuard

__all__ = [
    "CHANNELS", "DEFAULT_SWAY_REFERENCE_CM2", "DISPLAY_HZ", "MAX_DEVICES_PER_ROOM",
    "DeviceFeed", "HubStats", "LiveHub", "Ring", "RoomFeed", "steadiness",
]

log = logging.getLogger(__name__)

_MAX_REASONS = 64


@dataclass
class HubStats:
    """Messages applied and rejected, with a count per reason and the latest reject."""

    applied: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    last_reject: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reject(self, reason: str, detail: str) -> None:
        with self._lock:
            self.rejected += 1
            if reason not in self.reasons and len(self.reasons) >= _MAX_REASONS:
                reason = "other"
            self.reasons[reason] = self.reasons.get(reason, 0) + 1
            self.last_reject = detail[:300]

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"applied": self.applied, "rejected": self.rejected,
                    "reasons": dict(sorted(self.reasons.items())),
                    "last_reject": self.last_reject}


class LiveHub:
    """Subscribes once to the site's live frames, statuses, events and room states and fans
    them out to browsers.

    ``max_streams`` and ``max_streams_per_principal`` cap the browser streams this
    process serves (:attr:`streams`); the routes answer the excess with HTTP 429.
    """

    def __init__(self, address: BrokerAddress, *, site: str, client_id: str,
                 keep_s: float = 12.0, max_streams: int = MAX_STREAMS,
                 max_streams_per_principal: int = MAX_STREAMS_PER_PRINCIPAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.address = address
        self.site = site
        self.keep_s = keep_s
        self.rooms: dict[str, RoomFeed] = {}
        self.stats = HubStats()
        self.streams = StreamLimiter(per_process=max_streams,
                                     per_principal=max_streams_per_principal)
        self._clock = clock
        self._log = RateLimitedLog(log, every_s=60.0, burst=5)
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self._stopping = threading.Event()
        self.client = make_client(address, client_id=client_id)
        self.client.on_connect = safe_callback(self._on_connect)
        self.client.on_disconnect = safe_callback(self._on_disconnect)
        self.client.on_message = safe_callback(self._on_message)

    @property
    def rejected(self) -> int:
        return self.stats.rejected

    def start(self) -> None:
        self.client.reconnect_delay_set(0.2, 3)
        try:
            connect(self.client, self.address)
        except OSError as exc:
            log.warning("live hub: broker not reachable yet (%s); retrying", exc)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and end every open browser stream."""
        self._stopping.set()
        for feed_room in list(self.rooms.values()):
            with feed_room.changed:
                feed_room.changed.notify_all()
        self.client.disconnect()
        self.client.loop_stop()
        self._log.flush()

    # ------------------------------------------------------------------ MQTT thread

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    props: Any) -> None:
        if reason_failed(reason):
            log.error("live hub: broker refused connection: %s", reason)
            return
        client.subscribe([(subscription(self.site, "+", "live"), 0),
                          (subscription(self.site, "+", "status"), 1),
                          (subscription(self.site, "+", "events"), 1),
                          (subscription(self.site, "+", "derived"), 0)])
        self.connected.set()

    def _on_disconnect(self, *args: Any) -> None:
        self.connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        """Apply one message, or count it as a reject with its reason: never raises."""
        try:
            topic, message = decode(msg.topic, msg.payload)
            room = topic.room
            if isinstance(message, LiveFrame):
                self.add_frame(room, message)
            elif isinstance(message, DeviceStatus):
                self.set_status(room, message)
            elif isinstance(message, RoomState):
                self.set_state(room, message)
            elif isinstance(message, Event):
                self.note_event(room, message)
        except Rejected as exc:
            self._reject(msg.topic, exc.reason, str(exc))
        except RoomFull as exc:
            self._reject(msg.topic, "room full", str(exc))
        except Exception as exc:  # a bug: one message must still cost only itself
            self._reject(msg.topic, f"error: {type(exc).__name__}", repr(exc), bug=True)
        else:
            self.stats.applied += 1

    def _reject(self, topic: str, reason: str, detail: str, *, bug: bool = False) -> None:
        self.stats.reject(reason, f"{topic}: {detail}")
        if bug:
            self._log.error("live hub: failed message", "live hub: could not apply a "
                            "message on %s", topic, exc_info=True)
        else:
            self._log.warning("live hub: rejected message", "live hub: rejected message "
                              "on %s (%s): %s", topic[:200], reason, detail[:300])

    # ------------------------------------------------------------------ feeding

    def _room(self, room: str) -> RoomFeed:
        with self._lock:
            feed = self.rooms.get(room)
            if feed is None:
                feed = self.rooms[room] = RoomFeed(room)
            return feed

    def add_frame(self, room: str, frame: LiveFrame) -> None:
        """Keep ``frame`` (checked by :func:`contract.decode`) for the browsers; raises
        :class:`RoomFull` for a device the room has no slot for."""
        values = np.array([row[1:] for row in frame.rows], dtype=float)  # None → NaN
        rows = np.column_stack([frame.host_times(), values])
        feed_room = self._room(room)
        with feed_room.changed:
            feed = feed_room.device(frame.device, frame.kind, 1.0 / DISPLAY_HZ[frame.kind],
                                    keep_s=self.keep_s, now=self._clock())
            feed.ring.extend(rows)
            feed.last_data = time.time()
            if frame.kind == "board" and feed is feed_room.board():
                feed_room.ellipse = None if frame.ellipse is None else list(frame.ellipse)
            feed_room.version += 1
            feed_room.changed.notify_all()

    def set_status(self, room: str, status: DeviceStatus) -> None:
        feed_room = self._room(room)
        with feed_room.changed:
            feed = feed_room.device(status.device, status.kind, 0.01, keep_s=self.keep_s,
                                    now=self._clock())
            feed.status = status
            feed_room.version += 1
            feed_room.changed.notify_all()

    def set_state(self, room: str, state: RoomState) -> None:
        state_json = json.loads(state.encode())
        feed_room = self._room(room)
        with feed_room.changed:
            feed_room.state = state
            feed_room.state_json = state_json
            feed_room.version += 1
            feed_room.changed.notify_all()

    def note_event(self, room: str, event: Event) -> None:
        """Remember the last set's settings, so the wall's ``s`` key can repeat it."""
        if event.type == "set_start":
            self._room(room).last_set = dict(event.data)

    # ------------------------------------------------------------------ actions

    def room_state(self, room: str) -> RoomState | None:
        feed = self.rooms.get(room)
        return None if feed is None else feed.state

    def last_set(self, room: str) -> dict[str, Any] | None:
        feed = self.rooms.get(room)
        return None if feed is None else feed.last_set

    def publish_event(self, room: str, event: Event) -> None:
        """Publish a session event (QoS 1); raises ConnectionError when the broker is away."""
        info = self.client.publish(events_topic(self.site, room), event.encode(), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise ConnectionError("the broker is not reachable right now; try again")

    # ------------------------------------------------------------------ browsers

    def stream(self, room: str, *, guard: StreamGuard | None = None,
               max_rate_hz: float = 60.0, heartbeat_s: float = 10.0
               ) -> Generator[str, None, None]:
        """Server-sent events for one browser: a JSON frame whenever new data arrived.

        With a ``guard``, ends (with its final event) once the browser may no longer watch.
        """
        feed_room = self._room(room)
        view = StreamView()
        seen_version = -1
        last_sent = last_out = time.monotonic()
        yield "retry: 1000\n\n"
        while not self._stopping.is_set():
            if guard is not None and not guard.allowed():
                yield from _final(guard)
                return
            wait = heartbeat_s - (time.monotonic() - last_out)
            if guard is not None:
                wait = min(wait, guard.wait_s())
            with feed_room.changed:
                if feed_room.version == seen_version and wait > 0:
                    feed_room.changed.wait(wait)
                seen_version = feed_room.version
                frame = room_frame(feed_room, view)
            if frame is None:
                if time.monotonic() - last_out >= heartbeat_s:
                    last_out = time.monotonic()
                    yield ": heartbeat\n\n"
                continue
            yield f"data: {json.dumps(frame, separators=(',', ':'))}\n\n"
            # pace the stream: several batches arriving together go out as one frame
            pause = 1.0 / max_rate_hz - (time.monotonic() - last_sent)
            last_sent = last_out = time.monotonic()
            if pause > 0:
                time.sleep(pause)

    def family_view(self, child: str) -> dict[str, Any]:
        """What a family may see of their child's live session (see :func:`family_view`)."""
        return family_view(list(self.rooms.values()), child)

    def family_stream(self, child: str, *, guard: StreamGuard | None = None,
                      poll_s: float = 0.25, heartbeat_s: float = 10.0
                      ) -> Generator[str, None, None]:
        """Server-sent events for a family page: the :meth:`family_view` whenever it changes."""
        yield "retry: 1000\n\n"
        last: dict[str, Any] | None = None
        last_out = time.monotonic()
        while not self._stopping.is_set():
            if guard is not None and not guard.allowed():
                yield from _final(guard)
                return
            view = self.family_view(child)
            if view != last:
                last, last_out = view, time.monotonic()
                yield f"data: {json.dumps(view, separators=(',', ':'))}\n\n"
            elif time.monotonic() - last_out >= heartbeat_s:
                last_out = time.monotonic()
                yield ": heartbeat\n\n"
            self._stopping.wait(poll_s)


def _final(guard: StreamGuard) -> Iterator[str]:
    event = guard.final_event()
    if event is not None:
        yield event
