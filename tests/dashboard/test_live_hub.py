"""The live hub against the real Mosquitto: whatever a room's ingest account (or any other
account) publishes, every message is either drawn or counted as a reject with a reason,
the room keeps streaming, a flood of junk device names shows no more than a few lights,
and a flood of rejects gives a few log lines, not one per message."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from contract import (
    DeviceStatus,
    LiveFrame,
    RoomState,
    derived_topic,
    events_topic,
    live_topic,
    samples_topic,
    status_topic,
)
from dashboard.live import MAX_DEVICES_PER_ROOM, LiveHub
from dashboard.live_feeds import EVICT_SILENT_S, RoomFeed, RoomFull
from dashboard.live_frames import StreamView, room_frame
from ingest.mqtt import connect, make_client
from tests.conftest import RunningBroker, wait_until

pytestmark = pytest.mark.broker
ROOM = "room-1"


def board_frame(seq: int, *, device: str = "board-1") -> LiveFrame:
    """A board's live frame of 5 points at 50 Hz ending at sample ``seq``."""
    t_dev = 10.0 + seq * 0.01
    return LiveFrame(device=device, kind="board", boot="b1", seq=seq, t_dev=t_dev,
                     t_host=time.time(), columns=("t", "ml", "ap", "load"),
                     rows=tuple((t_dev - 0.02 * (4 - i), 0.5, -1.0, 18.0) for i in range(5)),
                     ellipse=(0.5, -1.0, 1.2, 0.6, 0.3))


def status(device: str, *, kind: str = "board", reason: str = "") -> DeviceStatus:
    return DeviceStatus(device=device, kind=kind, state="online", t=time.time(),  # type: ignore[arg-type]
                        reason=reason)


class Publisher:
    def __init__(self, broker: RunningBroker, service: str, name: str) -> None:
        self.client = make_client(broker.address(service), client_id=name)
        connect(self.client, broker.address(service))
        self.client.loop_start()

    def send(self, items: list[tuple[str, bytes]]) -> None:
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in items]
        for info in infos:
            info.wait_for_publish(10)
            assert info.rc == mqtt.MQTT_ERR_SUCCESS

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def hub(mosquitto: RunningBroker, site: str) -> Iterator[LiveHub]:
    started = LiveHub(mosquitto.address("dashboard"), site=site, client_id=f"hub-{site}")
    started.start()
    assert started.connected.wait(10)
    yield started
    started.stop()


@pytest.fixture
def ingest(mosquitto: RunningBroker, site: str, hub: LiveHub) -> Iterator[Publisher]:
    """Room-1's ingest account, publishing once the hub receives what it sends."""
    pub = Publisher(mosquitto, "ingest", f"ingest-{site}")
    seq = iter(range(0, 10**6, 10))

    def first_seen() -> bool:
        pub.send([(live_topic(site, ROOM, "board-1"), board_frame(next(seq)).encode())])
        return wait_until(lambda: ROOM in hub.rooms and "board-1" in hub.rooms[ROOM].devices,
                          timeout=0.5)

    assert wait_until(first_seen)
    yield pub
    pub.close()


def batch_dict(**changes: Any) -> dict[str, Any]:
    data = json.loads(board_frame(0).encode())
    data.update(changes)
    return data


def encoded(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()  # NaN and Infinity written as json does


def nested(depth: int) -> bytes:
    return b'{"v":1,"device":' + b"[" * depth + b"]" * depth + b"}"


def strict_json(text: str) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON a browser can read")
    return json.loads(text, parse_constant=refuse)


def first_frame(hub: LiveHub) -> dict[str, Any]:
    events = hub.stream(ROOM)
    try:
        assert next(events).startswith("retry:")
        return strict_json(next(events).removeprefix("data: "))  # type: ignore[no-any-return]
    finally:
        events.close()


# ----------------------------------------------------------------------------- finding 3


def test_malformed_messages_are_counted_as_rejects_and_the_room_keeps_streaming(
        mosquitto: RunningBroker, site: str, hub: LiveHub, ingest: Publisher) -> None:
    samples = live_topic(site, ROOM, "board-1")
    status_t = status_topic(site, ROOM, "board-1")
    no_rows = batch_dict()
    del no_rows["rows"]
    no_state = json.loads(status("board-1").encode())
    del no_state["state"]
    from_ingest = [
        (samples, nested(5000)),                                          # RecursionError
        (samples, encoded(batch_dict(t_dev=10**400))),                    # OverflowError
        (samples, encoded(batch_dict(rows=[[10**400, 1, 1, 1]]))),
        (samples, encoded(no_rows)),
        (samples, encoded(batch_dict(rows="abc"))),
        (samples, encoded(batch_dict(seq="fast"))),
        (samples, encoded(batch_dict(t_host=math.nan))),
        (samples, encoded(batch_dict(rows=[[math.inf, 1, 1, 1]]))),
        (samples, encoded(batch_dict(device="board-2"))),                 # not the topic's
        (samples, encoded(batch_dict(cols=["x", "y"], rows=[[1, 2]]))),   # not drawable
        (samples, encoded(batch_dict(kind="imu"))),                       # a board's columns
        (samples, encoded(batch_dict(rows=[[10.0, 1e6, 0, 18]]))),        # not drawable
        (samples, encoded(batch_dict(ellipse=[0, 0, 1e300, 1, 0]))),
        (samples, encoded(batch_dict(t_dev=-1e308, t_host=1e308))),       # infinite times
        (samples, b"\xff\xfe\x00"),
        (status_t, encoded(no_state)),
        (status_t, encoded({**json.loads(status("board-1").encode()), "kind": 5})),
        (status_t, status("board-9").encode()),                           # not the topic's
        (status_t, encoded({**json.loads(status("board-1").encode()), "t": 10**400})),
    ]
    from_dashboard = [
        (events_topic(site, ROOM), encoded({"v": 1, "type": "set_start", "t": 1.0, "id": "e1",
                                            "data": {}})),
        (events_topic(site, ROOM), nested(5000)),
    ]
    from_recorder = [
        (derived_topic(site, ROOM), RoomState(room="room-2", t=time.time(), reps=0).encode()),
        (derived_topic(site, ROOM), encoded({"v": 1, "room": ROOM, "t": 10**400, "reps": 0})),
    ]
    before = hub.rejected
    written = hub.rooms[ROOM].devices["board-1"].ring.written
    ingest.send(from_ingest)
    for service, items in (("dashboard", from_dashboard), ("recorder", from_recorder)):
        pub = Publisher(mosquitto, service, f"{service}-{site}")
        pub.send(items)
        pub.close()
    ingest.send([(samples, board_frame(1000).encode())])

    expected = len(from_ingest) + len(from_dashboard) + len(from_recorder)
    assert wait_until(lambda: hub.rejected - before >= expected)
    assert wait_until(lambda: hub.rooms[ROOM].devices["board-1"].ring.written > written)
    assert hub.rejected - before == expected
    reasons = hub.stats.as_dict()["reasons"]
    # the frame's and the status's device not the topic's, and a device nested 5,000 deep
    assert reasons["schema: device"] == 3
    assert reasons["schema: cols"] == 2
    assert sum(reasons.values()) == hub.rejected
    # the room still shows only its own board, with finite numbers a browser can read
    assert set(hub.rooms[ROOM].devices) == {"board-1"}
    assert hub.room_state(ROOM) is None  # room-2's snapshot was not taken for room-1's
    frame = first_frame(hub)
    assert set(frame["devices"]) == {"board-1"}
    assert all(math.isfinite(t) for t in frame["devices"]["board-1"]["t"])


# ----------------------------------------------------------------------------- findings 4, 6


def test_a_flood_of_junk_device_names_shows_a_few_lights_and_a_few_log_lines(
        site: str, hub: LiveHub, ingest: Publisher, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    ingest.send([(status_topic(site, ROOM, "imu-1"), status("imu-1", kind="imu").encode())])
    assert wait_until(lambda: "imu-1" in hub.rooms[ROOM].devices)
    junk = [(status_topic(site, ROOM, f"junk-{i}"), status(f"junk-{i}").encode())
            for i in range(1000)]
    junk += [(live_topic(site, ROOM, f"junk-b{i}"),
              board_frame(0, device=f"junk-b{i}").encode()) for i in range(100)]
    ingest.send(junk)
    # a status of a real device after the flood: once it shows, the flood is through
    ingest.send([(status_topic(site, ROOM, "board-1"), status("board-1", reason="after").encode())])

    def after_flood() -> bool:
        feed = hub.rooms[ROOM].devices.get("board-1")
        return feed is not None and feed.status is not None and feed.status.reason == "after"

    assert wait_until(after_flood)
    devices = hub.rooms[ROOM].devices
    assert len(devices) == MAX_DEVICES_PER_ROOM
    assert {"board-1", "imu-1"} <= set(devices)  # the streaming devices kept their lights
    assert hub.stats.as_dict()["reasons"]["room full"] == len(junk) - (len(devices) - 2)
    assert len(first_frame(hub)["devices"]) == MAX_DEVICES_PER_ROOM
    hub_lines = [r for r in caplog.records if r.name.startswith("dashboard")]
    assert 1 <= len(hub_lines) <= 5, [r.getMessage() for r in hub_lines]
    all_lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(all_lines) <= 10, [r.getMessage() for r in all_lines]


def test_a_full_room_drops_its_longest_silent_device_and_streams_say_it_is_gone() -> None:
    room = RoomFeed(ROOM)
    for i in range(MAX_DEVICES_PER_ROOM):
        room.device(f"dev-{i}", "board", 0.01, keep_s=12.0, now=100.0 + i)
    view = StreamView()
    assert room_frame(room, view) is not None
    with pytest.raises(RoomFull, match="already shows 8 devices"):
        room.device("new", "board", 0.01, keep_s=12.0, now=100.0 + EVICT_SILENT_S - 1)
    room.device("dev-0", "board", 0.01, keep_s=12.0, now=100.0 + EVICT_SILENT_S)  # heard
    room.device("new", "board", 0.01, keep_s=12.0, now=101.0 + EVICT_SILENT_S)
    assert "dev-1" not in room.devices  # the one silent longest
    assert {"dev-0", "new"} <= set(room.devices)
    frame = room_frame(room, view)
    assert frame is not None
    assert frame["gone"] == ["dev-1"]
    assert "status" in frame["devices"]["new"]


# ----------------------------------------------------------------------------- two streams


def test_the_hub_relays_the_ingests_frames_and_never_reads_the_stored_batches(
        site: str, hub: LiveHub, ingest: Publisher) -> None:
    from contract import SampleBatch

    frame = LiveFrame(device="imu-trunk", kind="imu", boot="b1", seq=99, t_dev=20.0,
                      t_host=time.time(), columns=("t", "pitch", "roll"),
                      rows=((19.96, 12.5, -3.25), (20.0, 12.75, -3.5)))
    batch = SampleBatch(device="imu-2", kind="imu", boot="b1", seq=0, t_dev=0.0, period=0.01,
                        t_host=time.time(), columns=("ax", "ay", "az", "gx", "gy", "gz"),
                        rows=((0.0, 0.0, 1.0, 0.0, 0.0, 0.0),) * 25)
    ingest.send([(samples_topic(site, ROOM, "imu-2"), batch.encode()),
                 (live_topic(site, ROOM, "imu-trunk"), frame.encode())])
    assert wait_until(lambda: "imu-trunk" in hub.rooms[ROOM].devices)
    sent = first_frame(hub)
    imu = sent["devices"]["imu-trunk"]
    assert (imu["pitch"], imu["roll"]) == ([12.5, 12.75], [-3.25, -3.5])  # as computed there
    assert imu["t"][-1] == pytest.approx(frame.t_host, abs=1e-3)
    assert sent["ellipse"] == [0.5, -1.0, 1.2, 0.6, 0.3]  # the board's, as its frame says
    assert "imu-2" not in hub.rooms[ROOM].devices  # stored samples are not the hub's
