"""What a device or a broker account sends can cost that message alone: never the
recording, another room's devices, or the disk. Real Mosquitto, real store."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace

from contract import DeviceStatus, Event, events_topic, samples_topic, status_topic
from record.recorder import Recorder
from store import Store, open_store
from store.rows import GapRow
from tests.conftest import RunningBroker, wait_until
from tests.record.test_recorder import ROWS, make_batch, publish_all, publisher

pytestmark = pytest.mark.broker


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "db.sqlite") as opened:
        yield opened


def start(broker: RunningBroker, store: Any, site: str) -> Recorder:
    recorder = Recorder(broker.address("recorder"), store, client_id=f"rec-{site}", site=site)
    recorder.start()
    assert recorder.wait_connected(5)
    time.sleep(0.2)  # subscriptions acknowledged
    return recorder


def test_a_device_whose_host_clock_steps_back_over_a_hole_never_wedges_the_recorder(
    mosquitto: RunningBroker, site: str, store: Store
) -> None:
    """The four batches of issue 13: a restart, a restart back, then a hole of 75 samples
    whose next batch carries a host time 5 s *earlier*. That made a gap ending before it
    began, which failed the whole commit for ever: nothing more was stored for anyone."""
    recorder = start(mosquitto, store, site)
    pub = publisher(mosquitto, f"pub-{site}")
    topic = samples_topic(site, "room-1", "board-1")
    stepped_back = replace(make_batch(100), t_host=make_batch(0).t_host - 5.0)
    publish_all(pub, [
        (topic, make_batch(0).encode()),
        (topic, make_batch(0, boot="b2").encode()),
        (topic, make_batch(0).encode()),
        (topic, stepped_back.encode()),
    ])
    # ... and the recording goes on, for this device and the others
    publish_all(pub, [(topic, make_batch(125).encode())])
    publish_all(pub, [(samples_topic(site, "room-1", "imu-1"),
                       make_batch(0, device="imu-1").encode())])
    assert wait_until(lambda: recorder.stats.batches == 6)
    assert recorder.stats.rejected == 0
    recorder.stop()
    pub.disconnect()

    assert store.count_samples("board-1") == 4 * ROWS  # b1: 0-24, 100-149; b2: 0-24
    assert store.count_samples("imu-1") == ROWS
    gaps = store.gaps("board-1")
    # one restart (b2); b1 again is the old boot redelivered, and its hole is its own
    assert sorted(g.reason.split(";")[0] for g in gaps) == [
        "75 samples missing", "device restarted"]
    assert all(g.t_to >= g.t_from for g in gaps)
    hole = next(g for g in gaps if "missing" in g.reason)
    assert "host clock stepped back 5.240 s" in hole.reason
    assert store.quarantined() == []


class _FailsOnce(Store):
    """A store with a bug that only one message triggers (a stand-in for whatever the
    next unforeseen bug is): its gap raises an error no validation knows about."""

    def add_gap(self, device: str, boot: str, t_from: float, t_to: float, reason: str,
                place: Any = None) -> GapRow:
        if boot == "cursed":
            raise ZeroDivisionError("a bug in the store")
        return super().add_gap(device, boot, t_from, t_to, reason, place)


def test_a_message_that_fails_the_group_commit_is_found_and_quarantined_once(
    mosquitto: RunningBroker, site: str, tmp_path: Path
) -> None:
    opened = open_store(tmp_path / "db.sqlite")
    store = _FailsOnce(opened._db, opened.schema_version)
    recorder = start(mosquitto, store, site)
    pub = publisher(mosquitto, f"pub-{site}")
    topic = samples_topic(site, "room-1", "board-1")
    good = [make_batch(i * ROWS) for i in range(40)]
    cursed = make_batch(40 * ROWS, boot="cursed")  # a new boot: a gap, and the bug
    after = [make_batch(i * ROWS, boot="cursed") for i in range(41, 60)]
    publish_all(pub, [(topic, b.encode()) for b in (*good, cursed, *after)])
    event = Event("session_start", time.time(), session=f"s-{site}", author="ana",
                  data={"child": "c-1"}, id=f"s-{site}-start")
    store.add_child("c-1", "Amara")
    remote = publisher_as(mosquitto, "dashboard", f"remote-{site}")
    publish_all(remote, [(events_topic(site, "room-1"), event.encode())])

    assert wait_until(lambda: recorder.stats.messages == 61), recorder.stats
    time.sleep(1.5)  # a wedged recorder would retry (and quarantine again) every second
    recorder.stop()
    pub.disconnect()
    remote.disconnect()

    assert store.count_samples("board-1") == 59 * ROWS
    assert [q.reason for q in store.quarantined()] == [
        "could not be stored: ZeroDivisionError: a bug in the store"]
    assert store.session(f"s-{site}").child == "c-1"
    assert recorder.stats.rejected == 1


def test_another_rooms_ingest_cannot_touch_a_device_of_the_same_id(
    mosquitto: RunningBroker, site: str, store: Store
) -> None:
    """room-2's own ingest account sends samples, a restart and a retained status for
    its ``board-1``: room-1's ``board-1`` keeps its samples, gaps and place."""
    recorder = start(mosquitto, store, site)
    room1 = publisher(mosquitto, f"r1-{site}")
    status = DeviceStatus("board-1", "board", "online", time.time(), placement="under-feet")
    room1.publish(status_topic(site, "room-1", "board-1"), status.encode(), qos=1,
                  retain=True).wait_for_publish(5)
    publish_all(room1, [(samples_topic(site, "room-1", "board-1"), make_batch(i * ROWS).encode())
                        for i in range(4)])
    assert wait_until(lambda: recorder.stats.batches == 4)

    room2 = publisher_as(mosquitto, "ingest-room-2", f"r2-{site}")
    moved = DeviceStatus("board-1", "board", "online", time.time(), placement="moved")
    room2.publish(status_topic(site, "room-2", "board-1"), moved.encode(), qos=1,
                  retain=True).wait_for_publish(5)
    poison = [make_batch(0, boot="evil"), make_batch(10 * ROWS, boot="evil")]
    publish_all(room2, [(samples_topic(site, "room-2", "board-1"), b.encode()) for b in poison])
    # and what its account may not send at all: room-1's topics
    room2.publish(samples_topic(site, "room-1", "board-1"), make_batch(99 * ROWS).encode(),
                  qos=1).wait_for_publish(5)
    assert wait_until(lambda: recorder.stats.batches == 6)
    time.sleep(0.3)
    recorder.stop()
    for client in (room1, room2):
        client.publish(status_topic(site, "room-1" if client is room1 else "room-2", "board-1"),
                       b"", qos=1, retain=True).wait_for_publish(5)
        client.disconnect()

    assert store.count_samples("board-1", (site, "room-1")) == 4 * ROWS
    assert store.gaps(place=(site, "room-1")) == []
    assert store.count_samples("board-1", (site, "room-2")) == 2 * ROWS
    assert [g.reason for g in store.gaps(place=(site, "room-2"))] == ["225 samples missing"]
    places = sorted((d.room, d.placement) for d in store.devices() if d.site == site)
    assert places == [("room-1", "under-feet"), ("room-2", "moved")]


def publisher_as(broker: RunningBroker, service: str, name: str) -> Any:
    from ingest.mqtt import connect, make_client

    client = make_client(broker.address(service), client_id=name)
    connect(client, broker.address(service))
    client.loop_start()
    return client


def test_another_account_cannot_take_over_the_recorders_session(
    mosquitto: RunningBroker, site: str, store: Store
) -> None:
    """While the recorder is away, the broker keeps what arrives in its session. An
    ingest account that connects with the recorder's name as its client id (clean start)
    used to take that session over and wipe it: the batches were lost."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    recorder = start(mosquitto, store, site)
    recorder.stop()
    pub = publisher(mosquitto, f"pub-{site}")
    topic = samples_topic(site, "room-1", "board-1")
    publish_all(pub, [(topic, make_batch(i * ROWS).encode()) for i in range(10)])

    user, password = mosquitto.credentials.for_service("ingest-room-2")
    for name in (f"rec-{site}", "dmi-recorder", f"recorder-{site}"):
        attacker = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name,
                               protocol=mqtt.MQTTv5)
        attacker.username_pw_set(user, password)
        connected = threading.Event()
        attacker.on_connect = lambda c, u, f, reason, p, done=connected: done.set()
        attacker.connect("127.0.0.1", mosquitto.port, clean_start=True)
        attacker.loop_start()
        assert connected.wait(5)
        attacker.disconnect()
        attacker.loop_stop()

    again = start(mosquitto, store, site)
    assert wait_until(lambda: again.stats.batches == 10), again.stats
    again.stop()
    pub.disconnect()
    assert store.count_samples("board-1") == 10 * ROWS
