"""The recorder's paho client against a real Mosquitto: buffered reads deliver every
message whole and in order (small ones many to a read, large ones across reads), and
grouped PUBACKs acknowledge exactly the messages named: the broker redelivers the rest
to the persistent session, never the acknowledged ones."""

from __future__ import annotations

import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from ingest.mqtt import connect, make_client
from ingest.mqtt_bulk import SUPPORTED, BulkClient
from tests.conftest import RunningBroker, wait_until

pytestmark = pytest.mark.broker



class Sink:
    """A BulkClient subscriber that records (payload, mid, qos, dup) of each message."""

    def __init__(self, broker: RunningBroker, client_id: str, topic: str, *,
                 manual_ack: bool = False, persistent: bool = False) -> None:
        self.got: list[tuple[bytes, int, int, bool]] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        address = broker.address("recorder")
        self.client = make_client(address, client_id=client_id, persistent=persistent,
                                  manual_ack=manual_ack, bulk=True)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        connect(self.client, address, persistent=persistent)
        self.client.loop_start()
        assert self.subscribed.wait(5), "the subscription was not acknowledged"

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.got.append((bytes(msg.payload), msg.mid, msg.qos, bool(msg.dup)))

    def payloads(self) -> list[bytes]:
        with self.lock:
            return [p for p, *_ in self.got]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def burst(broker: RunningBroker, site: str, topic: str, payloads: list[bytes]) -> None:
    pub = make_client(broker.address("ingest"), client_id=f"bulk-pub-{site}")
    connect(pub, broker.address("ingest"))
    pub.loop_start()
    infos = [pub.publish(topic, p, qos=1) for p in payloads]
    for info in infos:
        info.wait_for_publish(10)
    pub.disconnect()
    pub.loop_stop()


def test_the_installed_paho_takes_the_bulk_client() -> None:
    assert SUPPORTED, "paho changed the internals BulkClient builds on"


def test_a_burst_of_small_and_large_messages_arrives_whole_and_in_order(
    mosquitto: RunningBroker, site: str
) -> None:
    topic = f"dmi/v1/{site}/room-1/dev/board-1/samples"
    sink = Sink(mosquitto, f"bulk-{site}", topic)
    assert isinstance(sink.client, BulkClient)
    # 2,000 small messages (dozens to a 64 KiB read, packets split across reads), and
    # among them a few larger than the read buffer itself
    payloads = [f"{i:06d}".encode() * (1 + i % 40) for i in range(2000)]
    for k in (7, 500, 1500):
        payloads[k] = bytes([k % 251]) * 200_000
    burst(mosquitto, site, topic, payloads)
    assert wait_until(lambda: len(sink.payloads()) >= len(payloads))
    time.sleep(0.2)
    assert sink.payloads() == payloads
    sink.close()


def test_grouped_acks_settle_those_named_and_the_rest_come_again(
    mosquitto: RunningBroker, site: str
) -> None:
    topic = f"dmi/v1/{site}/room-1/dev/board-1/samples"
    client_id = f"bulk-ack-{site}"
    first = Sink(mosquitto, client_id, topic, manual_ack=True, persistent=True)
    payloads = [f"m{i}".encode() for i in range(60)]
    burst(mosquitto, site, topic, payloads)
    assert wait_until(lambda: len(first.payloads()) == 60)
    with first.lock:
        acked = [(p, mid) for p, mid, *_ in first.got if int(p[1:]) % 3 != 0]
    assert isinstance(first.client, BulkClient)
    first.client.ack_many(mid for _, mid in acked)
    time.sleep(0.5)  # the PUBACKs reach the broker
    first.close()

    second = Sink(mosquitto, client_id, topic, manual_ack=True, persistent=True)
    assert wait_until(lambda: len(second.payloads()) == 20)
    time.sleep(0.5)  # nothing else comes
    assert sorted(second.payloads()) == sorted(f"m{i}".encode() for i in range(0, 60, 3))
    with second.lock:
        assert all(dup for *_, dup in second.got)  # redeliveries, flagged as such
        mids = [mid for _, mid, *_ in second.got]
    second.client.ack_many(mids)
    time.sleep(0.5)
    second.close()

    third = Sink(mosquitto, client_id, topic, manual_ack=True, persistent=True)
    time.sleep(0.5)
    assert third.payloads() == []  # every message acknowledged once is settled
    third.close()
