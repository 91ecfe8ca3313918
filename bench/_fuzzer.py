"""Publishing the fuzz bench's junk with a room's ingest account: one paced client for
what the broker passes on, a connection each for what it refuses (it drops a client that
sends too much), and the tally of both."""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

from bench._junk import Junk
from bench._ledger import wait_until
from ingest.mqtt import BrokerAddress, connect, make_client, reason_failed

SITE, ROOM = "bench", "room-1"


@dataclass
class Sent:
    sent: int = 0
    acked: int = 0
    refused: collections.Counter[str] = field(default_factory=collections.Counter)
    by_category: collections.Counter[str] = field(default_factory=collections.Counter)
    disconnects: int = 0

    @property
    def total_refused(self) -> int:
        return sum(self.refused.values())

    def add(self, other: Sent) -> None:
        self.sent += other.sent
        self.acked += other.acked
        self.refused.update(other.refused)
        self.by_category.update(other.by_category)
        self.disconnects += other.disconnects


class Fuzzer:
    """One client of the room's ingest account publishing the junk, paced; its network
    thread is paho's (``loop_start``), this one only hands it messages."""

    def __init__(self, address: BrokerAddress, out: Sent) -> None:
        self.address, self.out = address, out
        self.awaited = 0  # QoS 1 publishes handed to paho: each gets a PUBACK or is lost
        self.answered = 0  # PUBACKs, success or refusal (counted on paho's thread only)
        self.stopping = False
        self.connected = threading.Event()
        self.client = make_client(address, client_id=f"bench-fuzz-{ROOM}")
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any,
                    props: Any) -> None:
        if not reason_failed(reason):
            self.connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any,
                       props: Any) -> None:
        self.connected.clear()
        if not self.stopping:
            self.out.disconnects += 1

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any,
                    props: Any) -> None:
        self.answered += 1
        if reason_failed(reason):
            self.out.refused[f"puback {reason}"] += 1
        else:
            self.out.acked += 1

    def start(self) -> None:
        self.client.reconnect_delay_set(0.1, 1)
        connect(self.client, self.address)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise RuntimeError("the fuzzer could not connect")

    def send(self, messages: list[Junk], seconds: float) -> None:
        start = time.monotonic()
        rate = len(messages) / seconds
        for i, junk in enumerate(messages):
            if i % 20 == 0:
                time.sleep(max(0.0, start + i / rate - time.monotonic()))
            self.out.sent += 1
            self.out.by_category[junk.category] += 1
            info = self.client.publish(junk.topic, junk.payload, qos=junk.qos,
                                       retain=junk.retain)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self.out.refused[f"publish failed ({mqtt.error_string(info.rc)})"] += 1
            elif junk.qos:
                self.awaited += 1

    def wait_acked(self, timeout: float) -> bool:
        return wait_until(lambda: self.answered >= self.awaited, timeout)

    def stop(self) -> None:
        self.stopping = True
        self.client.disconnect()
        self.client.loop_stop()


def send_refused(address: BrokerAddress, messages: list[Junk], out: Sent) -> None:
    """Each on its own connection: the broker drops a client that sends too much."""
    for i, junk in enumerate(messages):
        out.sent += 1
        out.by_category[junk.category] += 1
        verdict = _send_alone(address, junk, f"bench-big-{ROOM}-{i}")
        if verdict == "accepted":
            out.acked += 1  # the broker took it: the figures show it as not refused
        else:
            out.refused[verdict] += 1


def _send_alone(address: BrokerAddress, junk: Junk, client_id: str) -> str:
    """"accepted", or how the broker (or paho) refused ``junk``."""
    client = make_client(address, client_id=client_id)
    ready, gone = threading.Event(), threading.Event()
    answers: list[Any] = []
    client.on_connect = lambda *_: ready.set()
    client.on_disconnect = lambda *_: gone.set()
    client.on_publish = lambda _c, _u, _m, reason, _p: answers.append(reason)
    connect(client, address)
    client.loop_start()
    try:
        if not ready.wait(5):
            return "could not connect"
        try:
            info = client.publish(junk.topic, junk.payload, qos=1)
        except ValueError as exc:  # paho refuses wildcards before sending
            return f"publish failed ({exc})"[:60]
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return f"publish failed ({mqtt.error_string(info.rc)})"
        wait_until(lambda: gone.is_set() or bool(answers), 5)
        if answers:
            return f"puback {answers[0]}" if reason_failed(answers[0]) else "accepted"
        return "connection dropped"
    finally:
        client.disconnect()
        client.loop_stop()
