"""MQTT → store: the recorder.

- A persistent MQTT session (stable client id, no clean start, one-hour session expiry)
  so that while the recorder restarts the broker queues what arrives.
- Manual acknowledgement: a message is acknowledged only after the rows it carried are
  committed. If the recorder dies first, the broker delivers it again; the store drops
  the duplicates by (device, boot, sequence), so every sample is stored exactly once.
- Inserts are batched: paho's network thread only hands raw messages over; the writer
  thread decodes them and commits whatever arrived in the last few milliseconds in one
  transaction. (Decoding there, in a tight loop, costs the process about 1 µs of CPU a
  sample less than decoding in the network thread: ``bench/record_throughput.py``.)
- The network side is paho's own client, through its public API only (``ack`` after
  the commit). The speed comes from the store (a batch is one packed row) and from
  committing a group of messages at a time (``bench/record_throughput.py``).
- A payload that does not follow the schema, or that the store refuses (a reserved
  column name, more columns than it holds), is quarantined with its reason (and
  acknowledged, so it is not redelivered forever); the loop carries on.
- One group of messages is one transaction. If it fails while the store works, some
  message is bad in a way nothing caught before: the group is split in halves, each
  committed alone, down to the message that fails by itself, which is quarantined once
  with the error. Only a store that is down (it cannot open a transaction) holds
  messages back, and then only those not yet stored. Repeated log lines are rate-limited.
- A device is (site, room, device id), the place taken from the topic (which the
  broker's ACL lets an ingest account write only for its own room).
- Gaps: a sequence jump inside a boot, or a new boot, becomes a gap record with the
  reason the device last gave (its offline status) or "samples missing"; when the host
  clock stepped back across it, the gap is placed before the next sample and says so.
- Scale-out: with ``group`` set, samples and events arrive through the shared
  subscription ``$share/<group>/…`` so several recorders split the load. A recorder in a
  group does not look for gaps (it sees only part of each device's stream).
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from contract import (
    DeviceStatus,
    Event,
    RoomState,
    SampleBatch,
    SchemaError,
    Topic,
    decode,
    subscription,
)
from ingest.mqtt import BrokerAddress, connect, make_client, reason_failed, safe_callback
from ingest.ratelog import RateLimitedLog
from record.gaps import GapTracker
from store.errors import InvalidData, NotFound

log = logging.getLogger(__name__)


@dataclass
class RecorderStats:
    messages: int = 0
    batches: int = 0
    samples: int = 0
    duplicates: int = 0
    events: int = 0
    rejected: int = 0
    gaps: int = 0
    commits: int = 0


@dataclass(slots=True)
class _Incoming:
    topic: Topic | None
    raw_topic: str
    payload: bytes
    mid: int
    qos: int
    message: SampleBatch | DeviceStatus | Event | None = None
    error: str = ""
    gap: tuple[float, float, str] | None = None  # the hole before this batch, if any
    done: bool = False  # stored (or quarantined) and acknowledged


def _decode(item: _Incoming) -> None:
    """Parse the topic and payload of ``item``; a schema error becomes ``item.error``."""
    try:
        item.topic, message = decode(item.raw_topic, item.payload)
        if isinstance(message, RoomState):
            raise SchemaError("topic", "a room snapshot is not recorded")
        item.message = message
    except SchemaError as exc:
        item.error = str(exc)
    except Exception as exc:  # a bug, but one message must not stop the writer
        log.exception("recorder: could not decode a message on %s", item.raw_topic[:200])
        item.error = f"could not be decoded: {exc!r}"


class _Inbox:
    """Network thread → writer thread. The writer takes messages in groups and wakes
    once per group (when the first message of one arrives, and when a group is full),
    not once per message as it would on a ``queue.Queue``."""

    def __init__(self, group: int) -> None:
        self._items: collections.deque[_Incoming] = collections.deque()
        self._ready = threading.Condition(threading.Lock())
        self._group = group

    def put(self, item: _Incoming) -> None:
        with self._ready:
            self._items.append(item)
            if len(self._items) in (1, self._group):
                self._ready.notify()

    def take(self, wait: float, linger: float) -> list[_Incoming]:
        """Up to a group of messages: waits ``wait`` s for a first one, then lingers up
        to ``linger`` s for a full group. Empty if nothing came."""
        with self._ready:
            if not self._items:
                self._ready.wait(wait)
                if not self._items:
                    return []
            if len(self._items) < self._group:
                self._ready.wait(linger)
            items = self._items
            return [items.popleft() for _ in range(min(len(items), self._group))]


class Recorder:
    """Subscribe, validate, store, acknowledge. ``store`` is a :class:`store.Store`."""

    def __init__(
        self,
        address: BrokerAddress,
        store: Any,
        *,
        client_id: str = "dmi-recorder",
        site: str = "+",
        group: str | None = None,
        max_batch: int = 1000,
        on_event: Callable[[Topic, Event], None] | None = None,
    ) -> None:
        self.address = address
        self.store = store
        self.site = site
        self.group = group
        self.max_batch = max_batch
        self.on_event = on_event
        self.stats = RecorderStats()
        self.connected = threading.Event()
        self._inbox = _Inbox(max_batch)
        self._stop = threading.Event()
        self._gaps = GapTracker()
        self._log = RateLimitedLog(log, every_s=60.0, burst=5)
        self.client = make_client(address, client_id=client_id, persistent=True,
                                  manual_ack=True)
        self.client.on_connect = safe_callback(self._on_connect)
        self.client.on_disconnect = safe_callback(self._on_disconnect)
        self.client.on_message = safe_callback(self._on_message)
        self._writer = threading.Thread(target=self._write_loop, name="recorder-writer",
                                        daemon=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._writer.start()
        self.client.reconnect_delay_set(1, 5)
        try:
            connect(self.client, self.address, persistent=True)
        except OSError as exc:
            log.warning("recorder: broker %s:%s not reachable yet (%s); retrying",
                        self.address.host, self.address.port, exc)
        self.client.loop_start()

    def stop(self, timeout: float = 5.0) -> None:
        """Commit and acknowledge what was received, then disconnect.

        The subscriptions stay in the broker's persistent session (never unsubscribe
        here): what arrives while the recorder is away is queued for its return, and
        anything received but not yet acknowledged is delivered again.
        """
        self._stop.set()
        self._writer.join(timeout)
        self.client.disconnect()
        self.client.loop_stop()

    def wait_connected(self, timeout: float) -> bool:
        return self.connected.wait(timeout)

    # ------------------------------------------------------------------ network thread

    def _filters(self) -> list[str]:
        prefix = f"$share/{self.group}/" if self.group else ""
        return [
            prefix + subscription(self.site, "+", "samples"),
            prefix + subscription(self.site, "+", "events"),
            subscription(self.site, "+", "status"),
        ]

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    props: Any) -> None:
        if reason_failed(reason):
            log.error("recorder: broker refused connection: %s", reason)
            return
        client.subscribe([(f, 1) for f in self._filters()])
        log.info("recorder connected to %s:%s (session present: %s)", self.address.host,
                 self.address.port, getattr(flags, "session_present", "?"))
        self.connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       props: Any) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("recorder disconnected (%s); paho reconnects", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        item = _Incoming(None, msg.topic, bytes(msg.payload), msg.mid, msg.qos)
        self._inbox.put(item)

    # ------------------------------------------------------------------ writer thread

    def _write_loop(self) -> None:
        while True:
            items = self._inbox.take(0.05, 0.01)
            if not items:
                if self._stop.is_set():
                    return
                continue
            for item in items:
                _decode(item)
                self._track(item)
            # A failed commit is retried for what it did not store; a message that fails
            # alone while the store works is quarantined (see _commit), so only a store
            # that is down keeps anything waiting.
            while not self._commit([item for item in items if not item.done]):
                if self._stop.wait(1.0):
                    return

    def _track(self, item: _Incoming) -> None:
        """Gap bookkeeping, once per message and in arrival order (a retried commit
        reuses ``item.gap``). In a shared group each recorder sees only part of a
        device's batches, so holes in what *it* sees are not gaps: only a lone recorder
        tracks them."""
        msg, topic = item.message, item.topic
        if self.group is not None or topic is None:
            return
        if isinstance(msg, SampleBatch):
            item.gap = self._gaps.check((topic.site, topic.room, msg.device), msg)
        elif isinstance(msg, DeviceStatus) and msg.state == "offline":
            self._gaps.offline((topic.site, topic.room, msg.device), msg.reason or "offline")

    def _commit(self, items: list[_Incoming]) -> bool:
        """Store ``items`` in one transaction and acknowledge them; False when the store
        is unavailable and they must wait.

        If the transaction fails while the store works, one of the messages is bad in a
        way nothing caught earlier: the group is split in halves, each committed on its
        own, down to the one message that fails alone, which is quarantined with the
        reason. One bad message costs that message, never the others.
        """
        if not items:
            return True
        delta = RecorderStats()
        applied: list[tuple[Topic, Event]] = []
        try:
            with self.store.transaction():
                self._store_group(items, delta, applied)
        except Exception as exc:
            if self._store_down(exc):
                self._log.warning("store down", "recorder: the store is unavailable (%s); "
                                  "nothing acknowledged, retrying", exc)
                return False
            if len(items) == 1:
                return self._quarantine_alone(items[0], exc)
            half = len(items) // 2
            return self._commit(items[:half]) and self._commit(items[half:])
        for name in delta.__dataclass_fields__:
            setattr(self.stats, name, getattr(self.stats, name) + getattr(delta, name))
        self.stats.messages += len(items)
        self.stats.commits += 1
        self._acknowledge(items)
        if self.on_event is not None:
            for topic, event in applied:
                self.on_event(topic, event)
        return True

    def _store_down(self, exc: Exception) -> bool:
        """Whether ``exc`` came from the store being unreachable (rather than from what
        was written): the store is asked for a transaction of its own."""
        if isinstance(exc, InvalidData | NotFound | SchemaError):
            return False
        try:
            self.store.ping()
        except Exception:
            return True
        return False

    def _quarantine_alone(self, item: _Incoming, exc: Exception) -> bool:
        reason = (f"refused by the store: {exc}" if isinstance(exc, InvalidData | NotFound)
                  else f"could not be stored: {type(exc).__name__}: {exc}")
        try:
            self._reject(item, reason)
        except Exception as again:
            self._log.warning("quarantine failed", "recorder: could not quarantine a "
                              "message on %s (%s); retrying", item.raw_topic, again)
            return False
        self.stats.rejected += 1
        self.stats.messages += 1
        self._acknowledge([item])
        return True

    def _store_group(self, items: list[_Incoming], delta: RecorderStats,
                     applied: list[tuple[Topic, Event]]) -> None:
        """Every write of one group (inside the caller's transaction)."""
        batches: list[SampleBatch] = []
        places: list[tuple[str, str]] = []
        for item in items:
            msg, topic = item.message, item.topic
            if item.error or topic is None:
                self._reject(item, item.error or "no topic")
                delta.rejected += 1
            elif isinstance(msg, SampleBatch):
                batches.append(msg)
                places.append((topic.site, topic.room))
            else:
                try:
                    if self._apply(topic, msg):
                        assert isinstance(msg, Event)
                        applied.append((topic, msg))
                        delta.events += 1
                except (InvalidData, NotFound) as exc:  # that message alone, as such
                    self._reject(item, f"refused by the store: {exc}")
                    delta.rejected += 1
        if batches:
            result = self.store.insert_batches(batches, places)
            delta.batches += len(batches)
            delta.samples += result.inserted
            delta.duplicates += result.duplicates
        for item in items:
            if item.gap is not None and item.topic is not None:
                batch = item.message
                assert isinstance(batch, SampleBatch)
                t_from, t_to, reason = item.gap
                place = (item.topic.site, item.topic.room)
                self.store.add_gap(batch.device, batch.boot, t_from, t_to, reason, place)
                delta.gaps += 1
                self._log.info(f"gap {place}", "gap on %s/%s/%s: %.2f s (%s)", *place,
                               batch.device, t_to - t_from, reason)

    def _apply(self, topic: Topic, msg: DeviceStatus | Event | None) -> bool:
        """A status or an event; True for an event applied now (not seen before)."""
        if isinstance(msg, DeviceStatus):
            self.store.upsert_device(topic.site, topic.room, msg.device, msg.kind,
                                     placement=msg.placement)
            return False
        if isinstance(msg, Event):
            return bool(self.store.apply_event(topic.site, topic.room, msg))
        return False  # an empty (cleared) retained status

    def _acknowledge(self, items: list[_Incoming]) -> None:
        """Acknowledge every message of a committed group (QoS 0 needs none)."""
        ack = self.client.ack
        for item in items:
            item.done = True
            if item.qos:
                ack(item.mid, item.qos)

    def _reject(self, item: _Incoming, reason: str) -> None:
        self._log.warning("rejected", "recorder: rejected message on %s: %s",
                          item.raw_topic[:200], reason)
        self.store.quarantine(item.raw_topic, item.payload, reason)
