"""The recorder against a real Mosquitto: every batch stored once, duplicates dropped,
bad payloads quarantined, and nothing lost across a recorder restart."""

from __future__ import annotations

import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from contract import SampleBatch, samples_topic
from ingest.mqtt import connect, make_client
from record.recorder import Recorder
from store import open_store
from tests.conftest import RunningBroker, wait_until

pytestmark = pytest.mark.broker

ROWS = 25


def make_batch(seq: int, *, device: str = "board-1", boot: str = "b1") -> SampleBatch:
    """Rows of ``seq`` … at 100 Hz; host time follows ``seq`` (a new boot restarts device
    time but never host time)."""
    rows = tuple((float(seq + i), 2.0, 3.0, 4.0) for i in range(ROWS))
    return SampleBatch(
        device=device,
        kind="board",
        boot=boot,
        seq=seq,
        t_dev=seq * 0.01,
        period=0.01,
        t_host=1_700_000_000 + seq * 0.01,
        columns=("fl", "fr", "bl", "br"),
        rows=rows,
    )


def publisher(broker: RunningBroker, name: str) -> mqtt.Client:
    client = make_client(broker.address("ingest"), client_id=name)
    connect(client, broker.address("ingest"))
    client.loop_start()
    return client


def publish_all(client: mqtt.Client, items: list[tuple[str, bytes]]) -> None:
    infos = [client.publish(topic, payload, qos=1) for topic, payload in items]
    for info in infos:
        info.wait_for_publish(5)



def test_batches_stored_once_and_duplicates_dropped(
    mosquitto: RunningBroker, site: str, tmp_path: Path
) -> None:
    store = open_store(tmp_path / "db.sqlite")
    recorder = Recorder(mosquitto.address("recorder"), store, client_id=f"rec-{site}", site=site)
    recorder.start()
    assert recorder.wait_connected(5)
    time.sleep(0.2)  # subscription acknowledged
    pub = publisher(mosquitto, f"pub-{site}")
    n = 60
    batches = [make_batch(i * ROWS) for i in range(n)]
    topic = samples_topic(site, "room-1", "board-1")
    publish_all(pub, [(topic, b.encode()) for b in batches])
    # every second batch again, as a restarted ingest would re-send them
    publish_all(pub, [(topic, b.encode()) for b in batches[::2]])
    assert wait_until(lambda: recorder.stats.batches == n + n // 2)
    recorder.stop()
    pub.disconnect()
    assert store.count_samples("board-1") == n * ROWS
    assert recorder.stats.duplicates == (n // 2) * ROWS
    frame = store.read_samples("board-1")
    assert list(frame["seq"]) == list(range(n * ROWS))
    assert list(frame["fl"][:3]) == [0.0, 1.0, 2.0]
    assert store.gaps() == []
    store.close()


def test_bad_payloads_are_quarantined_and_good_ones_kept(
    mosquitto: RunningBroker, site: str, tmp_path: Path
) -> None:
    store = open_store(tmp_path / "db.sqlite")
    recorder = Recorder(mosquitto.address("recorder"), store, client_id=f"rec-{site}", site=site)
    recorder.start()
    assert recorder.wait_connected(5)
    time.sleep(0.2)
    pub = publisher(mosquitto, f"pub-{site}")
    topic = samples_topic(site, "room-1", "board-1")
    good = make_batch(0)
    publish_all(
        pub,
        [
            (topic, b"not json"),
            (topic, good.encode()),
            (topic, good.encode().replace(b'"kind":"board"', b'"kind":"scale"')),
            (samples_topic(site, "room-1", "board-2"), make_batch(ROWS).encode()),
        ],
    )
    assert wait_until(lambda: recorder.stats.messages == 4)
    recorder.stop()
    pub.disconnect()
    assert store.count_samples() == ROWS
    reasons = sorted(q.reason for q in store.quarantined())
    assert len(reasons) == 3
    assert any(r.startswith("payload: not valid JSON") for r in reasons)
    assert any(r.startswith("kind:") for r in reasons)
    assert any("does not match the topic" in r for r in reasons)
    store.close()


def test_gap_recorded_when_sequence_jumps_or_device_restarts(
    mosquitto: RunningBroker, site: str, tmp_path: Path
) -> None:
    store = open_store(tmp_path / "db.sqlite")
    recorder = Recorder(mosquitto.address("recorder"), store, client_id=f"rec-{site}", site=site)
    recorder.start()
    assert recorder.wait_connected(5)
    time.sleep(0.2)
    pub = publisher(mosquitto, f"pub-{site}")
    topic = samples_topic(site, "room-1", "board-1")
    publish_all(
        pub,
        [
            (topic, make_batch(0).encode()),
            (topic, make_batch(ROWS * 3).encode()),
            (topic, make_batch(ROWS * 8, boot="b2").encode()),
        ],
    )
    assert wait_until(lambda: recorder.stats.batches == 3)
    recorder.stop()
    pub.disconnect()
    gaps = store.gaps("board-1")
    assert len(gaps) == 2
    assert "50 samples missing" in gaps[0].reason
    assert gaps[1].reason == "device restarted"
    store.close()


def test_messages_sent_while_recorder_is_down_arrive_after_restart(
    mosquitto: RunningBroker, site: str, tmp_path: Path
) -> None:
    store = open_store(tmp_path / "db.sqlite")
    client_id = f"rec-{site}"
    first = Recorder(mosquitto.address("recorder"), store, client_id=client_id, site=site)
    first.start()
    assert first.wait_connected(5)
    time.sleep(0.2)
    first.stop()  # the broker keeps the persistent session and queues for it
    pub = publisher(mosquitto, f"pub-{site}")
    topic = samples_topic(site, "room-1", "board-1")
    publish_all(pub, [(topic, make_batch(i * ROWS).encode()) for i in range(20)])
    second = Recorder(mosquitto.address("recorder"), store, client_id=client_id, site=site)
    second.start()
    assert wait_until(lambda: store.count_samples() == 20 * ROWS)
    second.stop()
    pub.disconnect()
    store.close()


def test_event_the_store_refuses_is_quarantined_and_does_not_block(
    mosquitto: RunningBroker, site: str, tmp_path: Path
) -> None:
    from contract import Event, events_topic

    store = open_store(tmp_path / "db.sqlite")
    store.add_child("c-17", "")  # an admin registered the child
    recorder = Recorder(mosquitto.address("recorder"), store, client_id=f"rec-{site}", site=site)
    recorder.start()
    assert recorder.wait_connected(5)
    time.sleep(0.2)
    pub = make_client(mosquitto.address("dashboard"), client_id=f"pub-{site}")
    connect(pub, mosquitto.address("dashboard"))
    pub.loop_start()
    orphan = Event(
        type="set_start",
        t=1_700_000_000.0,
        session="no-such-session",
        set="x1",
        data={
            "exercise": "sit-to-stand-foam",
            "surface": "foam-pad",
            "support": "pelvis",
            "planned_reps": 5,
        },
    )
    start = Event(type="session_start", t=1_700_000_001.0, session="s1", data={"child": "c-17"})
    publish_all(
        pub,
        [
            (events_topic(site, "room-1"), orphan.encode()),
            (events_topic(site, "room-1"), start.encode()),
        ],
    )
    assert wait_until(lambda: recorder.stats.messages == 2)
    recorder.stop()
    pub.disconnect()
    assert store.session("s1").child == "c-17"
    [refused] = store.quarantined()
    assert refused.reason.startswith("refused by the store:")
    store.close()


def test_batch_the_store_refuses_is_quarantined_and_the_others_stored(
    mosquitto: RunningBroker, site: str, tmp_path: Path
) -> None:
    store = open_store(tmp_path / "db.sqlite")
    recorder = Recorder(mosquitto.address("recorder"), store, client_id=f"rec-{site}", site=site)
    recorder.start()
    assert recorder.wait_connected(5)
    time.sleep(0.2)
    pub = publisher(mosquitto, f"pub-{site}")
    topic = samples_topic(site, "room-1", "board-1")
    # valid on the wire, but "seq" is a column name the store keeps for itself
    reserved = SampleBatch("board-1", "board", "b1", 0, 0.0, 0.01, 1_700_000_000.0,
                           ("seq", "fl"), ((1.0, 2.0),))
    publish_all(pub, [(topic, reserved.encode()), (topic, make_batch(ROWS).encode())])
    assert wait_until(lambda: recorder.stats.messages == 2)
    recorder.stop()
    pub.disconnect()
    assert store.count_samples("board-1") == ROWS
    [refused] = store.quarantined()
    assert refused.reason.startswith("refused by the store:")
    assert "reserved" in refused.reason
    store.close()


def test_committed_messages_are_acknowledged_and_never_come_again(
    mosquitto: RunningBroker, site: str, tmp_path: Path
) -> None:
    store = open_store(tmp_path / "db.sqlite")
    client_id = f"rec-{site}"
    first = Recorder(mosquitto.address("recorder"), store, client_id=client_id, site=site)
    first.start()
    assert first.wait_connected(5)
    time.sleep(0.2)
    pub = publisher(mosquitto, f"pub-{site}")
    topic = samples_topic(site, "room-1", "board-1")
    publish_all(pub, [(topic, make_batch(i * ROWS).encode()) for i in range(300)])
    assert wait_until(lambda: first.stats.batches == 300)
    first.stop()
    # the same persistent session again: the broker has nothing left to deliver
    second = Recorder(mosquitto.address("recorder"), store, client_id=client_id, site=site)
    second.start()
    assert second.wait_connected(5)
    publish_all(pub, [(topic, make_batch(300 * ROWS).encode())])  # one new batch, as a marker
    assert wait_until(lambda: second.stats.batches >= 1)
    time.sleep(0.3)
    second.stop()
    pub.disconnect()
    assert (second.stats.batches, second.stats.duplicates) == (1, 0)
    assert store.count_samples("board-1") == 301 * ROWS
    store.close()
