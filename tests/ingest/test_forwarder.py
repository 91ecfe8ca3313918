"""Ingest → Mosquitto: batches reach the broker, survive a broker outage in the spool,
and each device's retained status turns offline when the ingest dies."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from contract import (
    DeviceStatus,
    SampleBatch,
    decode_batch,
    decode_status,
    subscription,
)
from ingest.forwarder import Forwarder
from ingest.mqtt import connect, make_client
from ingest.spool import Spool
from tests.conftest import RunningBroker
from tests.record.test_recorder import make_batch, wait_until

pytestmark = pytest.mark.broker


class Listener:
    """A dashboard-like subscriber collecting everything under one site."""

    def __init__(self, broker: RunningBroker, site: str) -> None:
        self.batches: list[SampleBatch] = []
        self.statuses: list[DeviceStatus] = []
        self.lock = threading.Lock()
        subscribed = threading.Event()
        self.client = make_client(broker.address("dashboard"), client_id=f"listen-{site}")
        self.client.on_message = self.on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_connect = lambda c, *a: c.subscribe(
            [(subscription(site, "+", "samples"), 1), (subscription(site, "+", "status"), 1)]
        )
        connect(self.client, broker.address("dashboard"))
        self.client.loop_start()
        # samples are not retained: what is published before the SUBACK never comes
        assert subscribed.wait(10), "the listener's subscription was not acknowledged"

    def on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            if msg.topic.endswith("/samples"):
                self.batches.append(decode_batch(msg.payload))
            elif msg.payload:
                self.statuses.append(decode_status(msg.payload))

    def seqs(self) -> set[int]:
        with self.lock:
            return {b.seq for b in self.batches}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def status(state: str, reason: str = "") -> DeviceStatus:
    return DeviceStatus(
        device="board-1",
        kind="board",
        state=state,  # type: ignore[arg-type]
        t=time.time(),
        reason=reason,
        placement="under-feet",
    )


def test_batches_and_status_reach_the_broker(
    mosquitto: RunningBroker, site: str, tmp_path: Path
) -> None:
    listener = Listener(mosquitto, site)
    spool = Spool(tmp_path / "spool.sqlite")
    fwd = Forwarder(
        mosquitto.address("ingest"), spool, site=site, room="room-1", client_id=f"ing-{site}"
    )
    fwd.start()
    fwd.submit(status("online"))
    for i in range(50):
        fwd.submit(make_batch(i * 25))
    assert wait_until(lambda: len(listener.seqs()) == 50)
    assert wait_until(lambda: len(spool) == 0), "acknowledged batches leave the spool"
    assert any(s.state == "online" for s in listener.statuses)
    fwd.stop()
    assert wait_until(lambda: listener.statuses[-1].state == "offline")
    assert listener.statuses[-1].reason == "ingest stopped"
    listener.close()


def test_broker_outage_loses_nothing(
    mosquitto_factory,
    site: str,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    broker: RunningBroker = mosquitto_factory()
    listener = Listener(broker, site)
    spool = Spool(tmp_path / "spool.sqlite")
    fwd = Forwarder(
        broker.address("ingest"), spool, site=site, room="room-1", client_id=f"ing-{site}"
    )
    fwd.start()
    for i in range(20):
        fwd.submit(make_batch(i * 25))
    assert wait_until(lambda: len(listener.seqs()) == 20)
    broker.broker.stop()
    for i in range(20, 60):
        fwd.submit(make_batch(i * 25))
    assert wait_until(lambda: len(spool) == 40), (
        "batches wait in the spool while the broker is down"
    )
    broker.broker.start()
    listener.close()
    listener = Listener(broker, site)
    assert wait_until(lambda: len(spool) == 0, timeout=20)
    fwd.stop()
    listener.close()
    assert fwd.stats.connects >= 2


def test_spool_survives_an_ingest_restart(
    mosquitto: RunningBroker, site: str, tmp_path: Path
) -> None:
    path = tmp_path / "spool.sqlite"
    spool = Spool(path)
    spool.put_many(
        [
            ("dmi/v1/x/room-1/dev/board-1/samples", make_batch(i * 25).encode(), 1, False)
            for i in range(10)
        ]
    )
    spool.close()  # the ingest died before it could publish these
    listener = Listener(mosquitto, site)
    reopened = Spool(path)
    assert len(reopened) == 10
    topic_site = site
    rows = reopened.pending(after=0, limit=100)
    reopened.ack([r.id for r in rows[:4]])
    assert len(reopened) == 6
    fwd = Forwarder(
        mosquitto.address("ingest"),
        reopened,
        site=topic_site,
        room="room-1",
        client_id=f"ing-{site}",
    )
    fwd.start()
    assert wait_until(lambda: len(reopened) == 0)
    fwd.stop()
    listener.close()


def test_spool_alarm_before_it_refuses(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite", max_messages=10, warn_fraction=0.5)
    item = ("t", b"x", 1, False)
    assert spool.put_many([item] * 4) == 4
    assert not spool.alarm
    assert spool.put_many([item]) == 1
    assert spool.alarm, "the alarm is raised at half full, before anything is refused"
    assert spool.refused == 0
    assert spool.put_many([item] * 8) == 5
    assert spool.refused == 3


def test_acknowledged_batches_are_kept_a_while_and_rearmed_after_reconnect(
        tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite", keep_acked_s=30)
    spool.put_many([("t", b"x", 1, False)] * 5)
    ids = [row.id for row in spool.pending(after=0, limit=10)]
    spool.ack(ids[:3])
    assert len(spool) == 2
    assert [r.id for r in spool.pending(after=0, limit=10)] == ids[3:]
    assert spool.rearm_recent() == 3, "a crashed broker may have lost what it acknowledged"
    assert [r.id for r in spool.pending(after=0, limit=10)] == ids
    spool.close()
    old = Spool(tmp_path / "old.sqlite", keep_acked_s=0)
    old.put_many([("t", b"x", 1, False)])
    old.ack([r.id for r in old.pending(after=0, limit=1)])
    assert old.rearm_recent() == 0


def test_a_refused_batch_is_retried_calmly_and_shown_in_the_status(
        mosquitto: RunningBroker, site: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    listener = Listener(mosquitto, site)
    spool = Spool(tmp_path / "spool.sqlite")
    # room-2's samples with room-1's account: the broker's ACL refuses every batch
    fwd = Forwarder(mosquitto.address("ingest-room-1"), spool, site=site, room="room-2",
                    client_id=f"ing-{site}")
    fwd.submit(status("online"))
    fwd.start()
    for i in range(5):
        fwd.submit(make_batch(i * 25))
    with caplog.at_level("ERROR", logger="ingest.forwarder"):
        time.sleep(3)
    fwd.stop(timeout=0.5)
    listener.close()
    assert len(spool) == 5, "refused batches stay in the spool"
    refusals = [r for r in caplog.records if "broker refused" in r.getMessage()]
    assert 1 <= len(refusals) <= 2, "said once, not in a tight loop"
    assert fwd.stats.published <= 10, "retried every few seconds, not at once"
