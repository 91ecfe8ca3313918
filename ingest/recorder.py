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
- The network side is a :class:`ingest.mqtt_bulk.BulkClient` (``bulk=False``: paho's
  own): it reads the socket 64 KiB at a time and sends a committed group's PUBACKs in
  one write, not one packet (and two system calls) a message. In the benchmark that cut
  the recorder's CPU per sample from 2.2× the bare subscriber's to 1.9× (``bench/
  record_throughput.py --plain-client`` measures the other way).
- A payload that does not follow the schema, or that the store refuses (a reserved
  column name, more columns than it holds), is quarantined with its reason (and
  acknowledged, so it is not redelivered forever); the loop carries on.
- Gaps: a sequence jump inside a boot, or a new boot, becomes a gap record with the
  reason the device last gave (its offline status) or "samples missing".
- Scale-out: with ``group`` set, samples and events arrive through the shared
  subscription ``$share/<group>/…`` so several recorders split the load. A recorder in a
  group does not look for gaps (it sees only part of each device's stream).
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

from ingest.mqtt import BrokerAddress, connect, make_client, reason_failed, safe_callback
from ingest.mqtt_bulk import BulkClient
from ingest.schema import (
    DeviceStatus,
    Event,
    SampleBatch,
    SchemaError,
    Topic,
    decode_batch,
    decode_event,
    decode_status,
    parse_topic,
    subscription,
)
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


@dataclass
class _Track:
    boot: str
    next_seq: int
    last_t: float


@dataclass
class _GapTracker:
    """Finds holes in each device's sequence numbers."""

    tracks: dict[str, _Track] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    def offline(self, device: str, reason: str) -> None:
        self.reasons[device] = reason

    def check(self, batch: SampleBatch) -> tuple[float, float, str] | None:
        first, last = _first_last_host_time(batch)
        track = self.tracks.get(batch.device)
        gap = None
        if track is not None:
            if batch.boot != track.boot:
                reason = self.reasons.get(batch.device) or "device restarted"
                gap = (min(track.last_t, first), max(track.last_t, first), reason)
            elif batch.seq > track.next_seq:
                reason = self.reasons.get(batch.device) or (
                    f"{batch.seq - track.next_seq} samples missing")
                gap = (track.last_t, first, reason)
            elif batch.last_seq < track.next_seq:
                return None  # a redelivered duplicate: nothing new
        self.tracks[batch.device] = _Track(batch.boot, batch.last_seq + 1, last)
        if gap is not None:
            self.reasons.pop(batch.device, None)
        return gap


def _decode(item: _Incoming) -> None:
    """Parse the topic and payload of ``item``; a schema error becomes ``item.error``."""
    try:
        topic = item.topic = parse_topic(item.raw_topic)
        if topic.leaf == "samples":
            batch = decode_batch(item.payload)
            if batch.device != topic.device:
                raise SchemaError("device", f"{batch.device!r} does not match the topic")
            item.message = batch
        elif topic.leaf == "events":
            item.message = decode_event(item.payload)
        elif topic.leaf == "status" and item.payload:  # empty: a cleared retained status
            item.message = decode_status(item.payload)
    except SchemaError as exc:
        item.error = str(exc)
    except Exception as exc:  # a bug, but one message must not stop the writer
        log.exception("recorder: could not decode a message on %s", item.raw_topic)
        item.error = f"could not be decoded: {exc!r}"


def _first_last_host_time(batch: SampleBatch) -> tuple[float, float]:
    """``batch.host_times()[0]`` and ``[-1]``, without the list in between."""
    offset = batch.t_host - batch.t_dev
    if "t" in batch.columns:
        k = batch.columns.index("t")
        return batch.rows[0][k] + offset, batch.rows[-1][k] + offset
    return batch.t_dev + offset, batch.t_dev + (len(batch.rows) - 1) * batch.period + offset


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
        bulk: bool = True,
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
        self._gaps = _GapTracker()
        self.client = make_client(address, client_id=client_id, persistent=True,
                                  manual_ack=True, bulk=bulk)
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
            for item in items:
                _decode(item)
            if not items:
                if self._stop.is_set():
                    return
                continue
            # Every store write is idempotent (dedupe by sequence and event id), so a
            # failed commit is simply retried; nothing is acknowledged until it succeeds.
            while not self._commit(items):
                if self._stop.wait(1.0):
                    return

    def _commit(self, items: list[_Incoming]) -> bool:
        """Store one group of messages; False when the store failed and it must be retried.

        A message the store refuses as such (an event for an unknown session, say) is
        quarantined with the store's reason; only a failing store is retried.
        """
        batches: list[tuple[_Incoming, SampleBatch]] = []
        gaps: list[tuple[SampleBatch, tuple[float, float, str]]] = []
        try:
            for item in items:
                if item.error:
                    self._reject(item, item.error)
                    continue
                try:
                    self._apply(item, batches, gaps)
                except (InvalidData, NotFound) as exc:
                    self._reject(item, f"refused by the store: {exc}")
            if batches:
                self._insert(batches)
            for batch, (t_from, t_to, reason) in gaps:
                self.store.add_gap(batch.device, batch.boot, t_from, t_to, reason)
                self.stats.gaps += 1
                log.info("gap on %s: %.2f s (%s)", batch.device, t_to - t_from, reason)
            self.stats.messages += len(items)
            self.stats.commits += 1
        except Exception:
            log.exception("recorder: commit failed; retrying, nothing acknowledged yet")
            return False
        self._acknowledge(items)
        return True

    def _acknowledge(self, items: list[_Incoming]) -> None:
        """PUBACK every QoS 1 message of a committed group in one write (where the client
        can); anything else one by one."""
        if isinstance(self.client, BulkClient):
            self.client.ack_many(item.mid for item in items if item.qos == 1)
            rest = [item for item in items if item.qos > 1]
        else:
            rest = [item for item in items if item.qos > 0]
        for item in rest:
            self.client.ack(item.mid, item.qos)

    def _insert(self, batches: list[tuple[_Incoming, SampleBatch]]) -> None:
        """All batches in one transaction; if the store refuses one of them as such, each
        in its own, so that only the refused ones are quarantined."""
        try:
            results = [self.store.insert_batches([batch for _, batch in batches])]
            stored = len(batches)
        except InvalidData:
            results = []
            for item, batch in batches:
                try:
                    results.append(self.store.insert_batches([batch]))
                except InvalidData as exc:
                    self._reject(item, f"refused by the store: {exc}")
            stored = len(results)
        for result in results:
            self.stats.samples += result.inserted
            self.stats.duplicates += result.duplicates
        self.stats.batches += stored

    def _reject(self, item: _Incoming, reason: str) -> None:
        self.stats.rejected += 1
        log.warning("recorder: rejected message on %s: %s", item.raw_topic, reason)
        self.store.quarantine(item.raw_topic, item.payload, reason)

    def _apply(self, item: _Incoming, batches: list[tuple[_Incoming, SampleBatch]],
               gaps: list[tuple[SampleBatch, tuple[float, float, str]]]) -> None:
        msg, topic = item.message, item.topic
        if isinstance(msg, SampleBatch):
            batches.append((item, msg))
            # In a shared group each recorder sees only part of a device's batches, so
            # holes in what *it* sees are not gaps; only a lone recorder tracks them.
            gap = self._gaps.check(msg) if self.group is None else None
            if gap is not None:
                gaps.append((msg, gap))
        elif isinstance(msg, DeviceStatus) and topic is not None:
            self.store.upsert_device(topic.site, topic.room, msg.device, msg.kind,
                                     placement=msg.placement)
            if msg.state == "offline":
                self._gaps.offline(msg.device, msg.reason or "offline")
        elif (isinstance(msg, Event) and topic is not None
              and self.store.apply_event(topic.site, topic.room, msg)):
            self.stats.events += 1
            if self.on_event is not None:
                self.on_event(topic, msg)
