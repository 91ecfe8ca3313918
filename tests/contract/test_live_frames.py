"""Live frames on the wire: what a screen draws comes back equal, nonsense is refused with
the field at fault, and only a caller that draws frames takes them (never a recorder)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contract import LiveFrame, SchemaError, decode, decode_live, live_topic, subscription

TOPIC = live_topic("site-a", "room-1", "board-1")


def frame_dict(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "v": 1, "device": "board-1", "kind": "board", "boot": "b1", "seq": 1203,
        "t_dev": 12.03, "t_host": 1_733_400_000.28, "cols": ["t", "ml", "ap", "load"],
        "rows": [[12.01, 0.42, -1.1, 18.2], [12.03, None, None, 1.2]],
        "ellipse": [0.4, -1.0, 1.9, 0.8, 0.3]}
    data.update(over)
    return data


def test_a_frame_comes_back_equal_with_its_host_times_and_empty_board_points() -> None:
    frame = decode_live(json.dumps(frame_dict()))
    assert decode_live(frame.encode()) == frame
    assert frame.rows[1][1] is None  # nobody on the board: no centre of pressure
    assert frame.host_times() == pytest.approx([1_733_400_000.26, 1_733_400_000.28])
    assert subscription("site-a", "+", "live") == "dmi/v1/site-a/+/dev/+/live"


def test_only_a_screen_takes_a_live_frame() -> None:
    payload = json.dumps(frame_dict()).encode()
    topic, frame = decode(TOPIC, payload, live=True)
    assert topic.leaf == "live"
    assert isinstance(frame, LiveFrame)
    with pytest.raises(SchemaError, match="topic: a live frame is drawn, never stored"):
        decode(TOPIC, payload)  # the recorder's and the engine's call
    with pytest.raises(SchemaError, match="device: 'board-2' does not match the topic"):
        decode(TOPIC, json.dumps(frame_dict(device="board-2")).encode(), live=True)


@pytest.mark.parametrize(("change", "field"), [
    ({"cols": ["t", "pitch", "roll"]}, "cols"),              # an IMU's columns on a board
    ({"kind": "imu"}, "cols"),
    ({"rows": []}, "rows"),
    ({"rows": [[12.0, 1.0, 1.0]]}, "rows[0]"),
    ({"rows": [[None, 1.0, 1.0, 18.0]]}, "rows[0][0]"),       # a point needs its time
    ({"rows": [[12.0, 1e6, 1.0, 18.0]]}, "rows[0][1]"),       # not a drawable value
    ({"rows": [[1.0, 1.0, 1.0, 18.0]]}, "rows[0][0]"),        # 11 s before the newest
    ({"rows": [[13.0, 1.0, 1.0, 18.0]]}, "rows[0][0]"),       # after the newest
    ({"rows": [[12.0, True, 1.0, 18.0]]}, "rows[0][1]"),
    ({"ellipse": [0, 0, 1e300, 1, 0]}, "ellipse[2]"),
    ({"rows": [[12.0, 1.0, 1.0, 18.0]] * 65}, "rows"),
    ({"t_host": -1}, "t_host"),
])
def test_nonsense_is_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(SchemaError) as caught:
        decode_live(json.dumps(frame_dict(**change)))
    assert caught.value.field == field, str(caught.value)
