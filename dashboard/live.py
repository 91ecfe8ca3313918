"""The live hub: one MQTT subscription per dashboard process, ring buffers per device,
and a push stream (server-sent events) per browser.

Samples are turned into what the screens draw as they arrive — centre of pressure in cm
for boards, trunk pitch/roll in degrees for IMUs — and kept for ``keep_s`` seconds per
device. Each browser stream keeps a cursor per device and receives everything since its
cursor (never "the latest sample"), so a slow browser skips nothing it has room for.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt

from analysis.cop import cop_from_loads
from analysis.errors import AnalysisError
from analysis.imu import TrunkTilt
from analysis.score import stability_score
from analysis.sway import prediction_ellipse
from ingest.derived import RoomState, decode_room_state
from ingest.mqtt import BrokerAddress, connect, make_client, reason_failed, safe_callback
from ingest.schema import (
    DeviceStatus,
    Event,
    SampleBatch,
    SchemaError,
    decode_batch,
    decode_event,
    decode_status,
    events_topic,
    parse_topic,
    subscription,
)

log = logging.getLogger(__name__)

CHANNELS = {"board": ("ml", "ap"), "imu": ("pitch", "roll")}
# What the screens draw, per kind (Hz). The SVG redraw is the limit of a live page, so
# the rings keep only what is drawn; the IMU orientation filter still sees every sample.
DISPLAY_HZ = {"board": 50.0, "imu": 25.0}
ELLIPSE_WINDOW_S = 10.0
# Steadiness on the wall: sway relative to a typical young child's 95 % ellipse over
# 10 s of play-standing (cm²). 100 = still, 50 = typical, 20 = twice as much sway.
# The family view uses the child's own reference instead.
DEFAULT_SWAY_REFERENCE_CM2 = 6.0


def steadiness(state: RoomState | None, *, reference_cm2: float = DEFAULT_SWAY_REFERENCE_CM2
               ) -> float | None:
    """0–100 steadiness from the engine's streaming sway metrics, or None without data."""
    if state is None or state.metrics is None or state.metrics.ellipse_area_cm2 is None:
        return None
    return round(stability_score(state.metrics.ellipse_area_cm2, reference_cm2), 1)


class Ring:
    """Fixed-capacity buffer of (time, channels…) with a running write index."""

    def __init__(self, channels: tuple[str, ...], capacity: int) -> None:
        self.channels = channels
        self.capacity = capacity
        self.data = np.full((capacity, 1 + len(channels)), np.nan)
        self.written = 0  # total rows ever written

    def extend(self, rows: np.ndarray) -> None:
        n = len(rows)
        if n >= self.capacity:
            rows, n = rows[-self.capacity:], self.capacity
        start = self.written % self.capacity
        first = min(n, self.capacity - start)
        self.data[start:start + first] = rows[:first]
        self.data[: n - first] = rows[first:]
        self.written += len(rows)

    def since(self, cursor: int) -> tuple[np.ndarray, int]:
        """Rows written after ``cursor`` (at most a full buffer) and the new cursor."""
        cursor = max(cursor, self.written - self.capacity)
        n = self.written - cursor
        if n <= 0:
            return self.data[:0], self.written
        idx = np.arange(cursor, self.written) % self.capacity
        return self.data[idx], self.written


@dataclass
class DeviceFeed:
    device: str
    kind: str
    ring: Ring
    tilt: TrunkTilt | None = None
    status: DeviceStatus | None = None
    last_data: float = 0.0


@dataclass
class RoomFeed:
    room: str
    devices: dict[str, DeviceFeed] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)
    version: int = 0
    state: RoomState | None = None
    state_json: dict[str, Any] | None = None
    last_set: dict[str, Any] | None = None
    ellipse: dict[str, list[float]] | None = None
    ellipse_at: int = -1

    def board(self) -> DeviceFeed | None:
        return next((d for d in self.devices.values() if d.kind == "board"), None)

    def ellipse_outline(self) -> dict[str, list[float]] | None:
        """The live 95 % ellipse of the board's last 10 s, computed once per new data."""
        board = self.board()
        if board is None or board.ring.written == self.ellipse_at:
            return self.ellipse
        self.ellipse_at = board.ring.written
        rows, _ = board.ring.since(0)
        recent = rows[rows[:, 0] >= rows[-1, 0] - ELLIPSE_WINDOW_S] if len(rows) else rows
        try:
            xs, ys = prediction_ellipse(recent[:, 1], recent[:, 2]).outline(48)
        except AnalysisError:
            self.ellipse = None
        else:
            self.ellipse = {"x": np.round(xs, 3).tolist(), "y": np.round(ys, 3).tolist()}
        return self.ellipse


class LiveHub:
    """Subscribes once to the site's samples and statuses and fans them out to browsers."""

    def __init__(self, address: BrokerAddress, *, site: str, client_id: str,
                 keep_s: float = 12.0) -> None:
        self.address = address
        self.site = site
        self.keep_s = keep_s
        self.rooms: dict[str, RoomFeed] = {}
        self.rejected = 0
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self._stopping = threading.Event()
        self.client = make_client(address, client_id=client_id)
        self.client.on_connect = safe_callback(self._on_connect)
        self.client.on_disconnect = safe_callback(self._on_disconnect)
        self.client.on_message = safe_callback(self._on_message)

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

    # ------------------------------------------------------------------ MQTT thread

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    props: Any) -> None:
        if reason_failed(reason):
            log.error("live hub: broker refused connection: %s", reason)
            return
        client.subscribe([(subscription(self.site, "+", "samples"), 0),
                          (subscription(self.site, "+", "status"), 1),
                          (subscription(self.site, "+", "events"), 1),
                          (subscription(self.site, "+", "derived"), 0)])
        self.connected.set()

    def _on_disconnect(self, *args: Any) -> None:
        self.connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            topic = parse_topic(msg.topic)
            if topic.leaf == "samples":
                self.add_batch(topic.room, decode_batch(msg.payload))
            elif topic.leaf == "status" and msg.payload:
                self.set_status(topic.room, decode_status(msg.payload))
            elif topic.leaf == "derived":
                self.set_state(topic.room, decode_room_state(msg.payload))
            elif topic.leaf == "events":
                self.note_event(topic.room, decode_event(msg.payload))
        except SchemaError as exc:
            self.rejected += 1
            log.warning("live hub: rejected message on %s: %s", msg.topic, exc)

    # ------------------------------------------------------------------ feeding

    def _room(self, room: str) -> RoomFeed:
        with self._lock:
            feed = self.rooms.get(room)
            if feed is None:
                feed = self.rooms[room] = RoomFeed(room)
            return feed

    def _device(self, room: RoomFeed, device: str, kind: str, period: float) -> DeviceFeed:
        feed = room.devices.get(device)
        if feed is None or feed.kind != kind:
            # rows are kept counting back from each batch's newest sample, so small batches
            # keep up to twice the nominal display rate: room for that
            hz = 2 * min(DISPLAY_HZ[kind], 1.0 / period)
            feed = DeviceFeed(device, kind, Ring(CHANNELS[kind], max(16, int(self.keep_s * hz))))
            room.devices[device] = feed
        return feed

    @staticmethod
    def _display_rows(batch: SampleBatch) -> np.ndarray:
        """Indices of the rows drawn: every k-th sample counted back from the batch's
        newest, so the newest sample is always on screen (not up to k-1 periods later)."""
        step = max(1, round(DISPLAY_HZ[batch.kind] ** -1 / batch.period))
        return np.arange(len(batch.rows) - 1, -1, -step)[::-1]

    def add_batch(self, room: str, batch: SampleBatch) -> None:
        rows = np.asarray(batch.rows, dtype=float)
        cols = {c: rows[:, i] for i, c in enumerate(batch.columns)}
        times = np.asarray(batch.host_times())
        feed_room = self._room(room)
        with feed_room.changed:
            feed = self._device(feed_room, batch.device, batch.kind, batch.period)
            if batch.kind == "board":
                ml, ap, _valid = cop_from_loads(cols["fl"], cols["fr"], cols["bl"], cols["br"])
                values = np.column_stack([times, ml, ap])
            else:
                if feed.tilt is None:
                    feed.tilt = TrunkTilt(fs=1.0 / batch.period)
                acc = np.column_stack([cols["ax"], cols["ay"], cols["az"]])
                gyr = np.column_stack([cols["gx"], cols["gy"], cols["gz"]])
                pitch, roll = feed.tilt.update(acc, gyr)
                values = np.column_stack([times, pitch, roll])
            feed.ring.extend(values[self._display_rows(batch)])
            feed.last_data = time.time()
            feed_room.version += 1
            feed_room.changed.notify_all()

    def set_status(self, room: str, status: DeviceStatus) -> None:
        feed_room = self._room(room)
        with feed_room.changed:
            period = 0.01
            feed = self._device(feed_room, status.device, status.kind, period)
            feed.status = status
            feed_room.version += 1
            feed_room.changed.notify_all()

    def set_state(self, room: str, state: RoomState) -> None:
        feed_room = self._room(room)
        with feed_room.changed:
            feed_room.state = state
            feed_room.state_json = json.loads(state.encode())
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

    def stream(self, room: str, *, max_rate_hz: float = 30.0,
               heartbeat_s: float = 10.0) -> Iterator[str]:
        """Server-sent events for one browser: a JSON frame whenever new data arrived."""
        feed_room = self._room(room)
        cursors: dict[str, int] = {}
        statuses: dict[str, DeviceStatus | None] = {}
        sent_state: list[Any] = [object()]
        seen_version = -1
        last_sent = 0.0
        yield "retry: 1000\n\n"
        while not self._stopping.is_set():
            with feed_room.changed:
                if feed_room.version == seen_version:
                    feed_room.changed.wait(heartbeat_s)
                seen_version = feed_room.version
                frame = self._frame(feed_room, cursors, statuses, sent_state)
            if frame is None:
                yield ": heartbeat\n\n"
                continue
            yield f"data: {json.dumps(frame, separators=(',', ':'))}\n\n"
            # pace the stream: several batches arriving together go out as one frame
            wait = 1.0 / max_rate_hz - (time.monotonic() - last_sent)
            last_sent = time.monotonic()
            if wait > 0:
                time.sleep(wait)

    def family_view(self, child: str) -> dict[str, Any]:
        """What a family may see of their child's live session: no device data, no room,
        no other child, only notes the therapist shared."""
        for feed in list(self.rooms.values()):
            state = feed.state
            if state is None or state.child != child or not state.session:
                continue
            note = state.last_note
            return {
                "state": {
                    "session": "live", "set": "live" if state.set else None,
                    "exercise": state.exercise, "surface": state.surface,
                    "reps": state.reps, "planned_reps": state.planned_reps,
                    "set_started_t": state.set_started_t,
                    "last_note": ({"text": note.text, "tag": note.tag}
                                  if note is not None and note.family_visible else None),
                },
                "score": steadiness(state),
            }
        return {"state": {"session": None, "set": None}, "score": None}

    def family_stream(self, child: str, *, poll_s: float = 0.25,
                      heartbeat_s: float = 10.0) -> Iterator[str]:
        """Server-sent events for a family page: the :meth:`family_view` whenever it changes."""
        yield "retry: 1000\n\n"
        last: dict[str, Any] | None = None
        quiet = 0.0
        while not self._stopping.is_set():
            view = self.family_view(child)
            if view != last:
                last, quiet = view, 0.0
                yield f"data: {json.dumps(view, separators=(',', ':'))}\n\n"
            elif quiet >= heartbeat_s:
                quiet = 0.0
                yield ": heartbeat\n\n"
            self._stopping.wait(poll_s)
            quiet += poll_s

    def _frame(self, room: RoomFeed, cursors: dict[str, int],
               statuses: dict[str, DeviceStatus | None],
               sent_state: list[Any]) -> dict[str, Any] | None:
        frame: dict[str, Any] = {}
        if room.state is not sent_state[0]:
            sent_state[0] = room.state
            frame["state"] = room.state_json
            frame["score"] = steadiness(room.state)
        board = room.board()
        if board is not None and board.ring.written > cursors.get(board.device, 0):
            frame["ellipse"] = room.ellipse_outline()
        devices: dict[str, Any] = {}
        for name, feed in room.devices.items():
            rows, cursors[name] = feed.ring.since(cursors.get(name, 0))
            entry: dict[str, Any] = {}
            if len(rows):
                entry["t"] = np.round(rows[:, 0], 3).tolist()
                for i, ch in enumerate(feed.ring.channels, start=1):
                    entry[ch] = [None if np.isnan(v) else round(float(v), 3) for v in rows[:, i]]
            if statuses.get(name) is not feed.status or name not in statuses:
                statuses[name] = feed.status
                entry["status"] = _status_json(feed)
            if entry:
                entry["kind"] = feed.kind
                devices[name] = entry
        if not devices and not frame:
            return None
        frame["now"] = round(time.time(), 3)
        frame["devices"] = devices
        return frame


def _status_json(feed: DeviceFeed) -> dict[str, Any]:
    status = feed.status
    if status is None:
        return {"state": "online", "reason": "", "placement": ""}
    return {"state": status.state, "reason": status.reason, "rejects": status.rejects,
            "placement": status.placement}
