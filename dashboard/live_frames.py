"""What one browser stream sends: frames built from a room's feeds since its last frame,
and the family view of a child's live session."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from contract import DeviceStatus
from dashboard.live_feeds import DeviceFeed, RoomFeed, steadiness

_NOTHING = object()


@dataclass
class StreamView:
    """What one stream has sent so far: a cursor into each device's ring (and the feed it
    belongs to, since a device can be dropped and come back), statuses, the last state."""

    cursors: dict[str, int] = field(default_factory=dict)
    feeds: dict[str, DeviceFeed] = field(default_factory=dict)
    statuses: dict[str, DeviceStatus | None] = field(default_factory=dict)
    sent_state: object = _NOTHING

    def cursor(self, feed: DeviceFeed) -> int:
        return self.cursors.get(feed.device, 0) if self.feeds.get(feed.device) is feed else 0


def room_frame(room: RoomFeed, view: StreamView) -> dict[str, Any] | None:
    """Everything new in ``room`` for the stream of ``view`` (updated), or None.

    Keys: ``state`` and ``score`` when the room state changed, ``ellipse`` (the board's
    ``[cx, cy, semi_major, semi_minor, angle]`` or None) with new board data, ``devices``
    (new rows per channel, a status when it changed), ``gone`` (devices the room no
    longer shows), ``now``. Call under ``room.changed``.
    """
    frame: dict[str, Any] = {}
    if room.state is not view.sent_state:
        view.sent_state = room.state
        frame["state"] = room.state_json
        frame["score"] = steadiness(room.state)
    board = room.board()
    if board is not None and board.ring.written > view.cursor(board):
        frame["ellipse"] = room.ellipse
    gone = [name for name in view.feeds if name not in room.devices]
    for name in gone:
        del view.feeds[name]
        view.cursors.pop(name, None)
        view.statuses.pop(name, None)
    devices: dict[str, Any] = {}
    for name, feed in room.devices.items():
        rows, view.cursors[name] = feed.ring.since(view.cursor(feed))
        fresh = view.feeds.get(name) is not feed
        view.feeds[name] = feed
        entry: dict[str, Any] = {}
        if len(rows):
            entry["t"] = [round(float(v), 3) for v in rows[:, 0]]
            for i, ch in enumerate(feed.ring.channels, start=1):
                entry[ch] = [round(float(v), 3) if np.isfinite(v) else None for v in rows[:, i]]
        if fresh or view.statuses.get(name) is not feed.status:
            view.statuses[name] = feed.status
            entry["status"] = _status_json(feed)
        if entry:
            entry["kind"] = feed.kind
            devices[name] = entry
    if not devices and not frame and not gone:
        return None
    if gone:
        frame["gone"] = gone
    frame["now"] = round(time.time(), 3)
    frame["devices"] = devices
    return frame


def family_view(rooms: Iterable[RoomFeed], child: str) -> dict[str, Any]:
    """What a family may see of their child's live session: no device data, no room,
    no other child, only notes the therapist shared."""
    for feed in rooms:
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
                "last_note": ({"t": note.t, "text": note.text, "tag": note.tag}
                              if note is not None and note.family_visible else None),
            },
            "score": steadiness(state),
        }
    return {"state": {"session": None, "set": None}, "score": None}


def _status_json(feed: DeviceFeed) -> dict[str, Any]:
    status = feed.status
    if status is None:
        return {"state": "online", "reason": "", "placement": ""}
    return {"state": status.state, "reason": status.reason, "rejects": status.rejects,
            "placement": status.placement}
