"""What the live hub keeps per room and device: ring buffers of what the screens draw.

A room shows a bounded number of devices (:data:`MAX_DEVICES_PER_ROOM`). A room's ingest
account may publish for any device name, and nothing in the dashboard process lists the
devices a room declares (that is the ingest side's TOML), so the hub keeps the first
devices it hears and makes room for a new one only by dropping one that has been silent
for :data:`EVICT_SILENT_S`. A flood of junk names therefore costs a few slots at most,
never the devices that are streaming, and a real device that comes back later finds a
slot as soon as the junk has gone quiet.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.score import stability_score
from contract import LIVE_COLUMNS, DeviceStatus, RoomState
from ingest.live import DISPLAY_HZ

CHANNELS = {kind: columns[1:] for kind, columns in LIVE_COLUMNS.items()}
"""What a ring keeps per kind besides the host time: the live frames' columns."""
# Steadiness on the wall: sway relative to a typical young child's 95 % ellipse over
# 10 s of play-standing (cm²). 100 = still, 50 = typical, 20 = twice as much sway.
# The family view uses the child's own reference instead.
DEFAULT_SWAY_REFERENCE_CM2 = 6.0
# A DMI room has a board and one to three IMUs: 8 leaves room for spares and renames.
MAX_DEVICES_PER_ROOM = 8
EVICT_SILENT_S = 30.0


class RoomFull(Exception):
    """A new device would exceed the room's limit and no device is silent enough to drop."""


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
    status: DeviceStatus | None = None
    last_data: float = 0.0
    heard: float = 0.0  # monotonic time of its last sample or status


@dataclass
class RoomFeed:
    room: str
    devices: dict[str, DeviceFeed] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)
    version: int = 0
    state: RoomState | None = None
    state_json: dict[str, Any] | None = None
    last_set: dict[str, Any] | None = None
    ellipse: list[float] | None = None  # the board's latest, as its frames carry it
    max_devices: int = MAX_DEVICES_PER_ROOM

    def device(self, name: str, kind: str, period: float, *, keep_s: float,
               now: float) -> DeviceFeed:
        """The feed of ``name`` (new, or anew when its kind changed); raises
        :class:`RoomFull` when the room has no slot for a new device. Call under ``changed``."""
        feed = self.devices.get(name)
        if feed is None and len(self.devices) >= self.max_devices:
            self._evict_silent(now)
        if feed is None or feed.kind != kind:
            # a frame always carries its newest sample, so frames may hold a little more
            # than the display rate: room for twice that
            hz = 2 * min(DISPLAY_HZ[kind], 1.0 / period)
            feed = DeviceFeed(name, kind, Ring(CHANNELS[kind], max(16, int(keep_s * hz))))
            self.devices[name] = feed
        feed.heard = now
        return feed

    def _evict_silent(self, now: float) -> None:
        quietest = min(self.devices.values(), key=lambda d: d.heard)
        if now - quietest.heard < EVICT_SILENT_S:
            raise RoomFull(f"room {self.room!r} already shows {len(self.devices)} devices, "
                           f"all heard within {EVICT_SILENT_S:.0f} s")
        del self.devices[quietest.device]

    def board(self) -> DeviceFeed | None:
        return next((d for d in self.devices.values() if d.kind == "board"), None)
