"""The session engine on MQTT: one thread owns the client, runs the engine, publishes.

Every message it receives is either applied or counted as a reject with its reason
(:attr:`ServiceStats.rejected`): a payload the schema refuses, an event or batch the
engine cannot apply, or one that raised anyway — that message only; the loop and the
client go on. Rejects are logged rate-limited (:class:`ingest.ratelog.RateLimitedLog`: the
first few, then a summary at most once a minute).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from contract import DeviceStatus, Event, SampleBatch, SchemaError, decode, subscription
from ingest.mqtt import BrokerAddress, connect, make_client, reason_failed, safe_callback
from ingest.ratelog import RateLimitedLog
from record.engine import SessionEngine
from record.engine_learn import Learner, StoreSetup
from record.engine_parts import Outgoing

log = logging.getLogger(__name__)


class CatalogLookup:
    """Exercise key → ``signal_profile`` from the store's catalog, re-read on a miss.

    A clinic may add an exercise while the engine runs; a key still unknown is looked up
    again at most every ``retry_s`` seconds.
    """

    def __init__(self, store: Any, *, retry_s: float = 30.0) -> None:
        self.store = store
        self.retry_s = retry_s
        self._profiles: dict[str, str] = {}
        self._loaded = -math.inf

    def __call__(self, exercise: str) -> str | None:
        if exercise not in self._profiles and time.monotonic() - self._loaded >= self.retry_s:
            self._profiles = {e.key: e.signal_profile for e in self.store.exercises()}
            self._loaded = time.monotonic()
        return self._profiles.get(exercise)


@dataclass
class ServiceStats:
    messages: int = 0
    rejected: int = 0  # messages not applied, whatever the reason (each counted once)
    failed: int = 0  # ... of which raised an error nothing foresaw (a bug: logged in full)
    published: int = 0
    restores: int = 0
    connects: int = 0


class EngineService:
    """The session engine on MQTT: one thread owns the client, runs the engine, publishes.

    Subscribes (its own, non-shared, non-persistent subscription) to the samples, events
    and device statuses of ``site``; publishes auto reps on the events topics and
    snapshots (retained) on the derived topics. Rep counters take their settings from the
    store; corrected sets are calibrated on by a :class:`~record.engine_learn.Learner`.
    After every (re)connect it reloads the rooms from ``store``
    (:meth:`SessionEngine.restore`) before handling messages.

    ``address`` needs an account that may read ``dmi/v1/#`` and write events and derived
    (the recorder's, in the generated ACL).
    """

    def __init__(self, address: BrokerAddress, store: Any, *, site: str,
                 client_id: str | None = None, engine: SessionEngine | None = None) -> None:
        self.address = address
        self.store = store
        self.site = site
        self.learner = Learner(store)
        self.engine = engine or SessionEngine(site, exercise_profile=CatalogLookup(store),
                                              rep_setup=StoreSetup(store))
        self.engine.on_labelled = self.learner
        self.engine.on_reject = self._refused
        self.stats = ServiceStats()
        self._log = RateLimitedLog(log, every_s=60.0, burst=5)
        self._refusal: str | None = None  # why the engine did not apply the current message
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._sub_mid: int | None = None
        self._restore_due = -1.0  # monotonic time of the next restore attempt; <0: none
        self._backoff = 0.2
        self.client = make_client(address, client_id=client_id or f"dmi-engine-{site}")
        self.client.on_connect = safe_callback(self._on_connect)
        self.client.on_disconnect = safe_callback(self._on_disconnect)
        self.client.on_subscribe = safe_callback(self._on_subscribe)
        self.client.on_message = safe_callback(self._on_message)
        self._thread = threading.Thread(target=self._run, name="engine-mqtt", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.learner.stop(timeout)

    def wait_ready(self, timeout: float) -> bool:
        """True once subscribed and restored from the store."""
        return self.ready.wait(timeout)

    # ------------------------------------------------------------------ engine thread

    def _run(self) -> None:
        next_try = 0.0
        started = False
        while not self._stop.is_set():
            try:
                if self.client.socket() is None and time.monotonic() >= next_try:
                    try:
                        if started:
                            self.client.reconnect()
                        else:
                            connect(self.client, self.address)
                            started = True
                    except OSError as exc:
                        log.warning("engine: broker %s:%s not reachable (%s); retrying",
                                    self.address.host, self.address.port, exc)
                        next_try = time.monotonic() + self._backoff
                        self._backoff = min(self._backoff * 2, 5.0)
                if self.client.socket() is None:
                    self._stop.wait(0.05)
                    continue
                self.client.loop(timeout=0.02)
                if 0 <= self._restore_due <= time.monotonic():
                    self._restore()
                self._publish(self.engine.tick())
            except Exception:  # the loop must survive anything
                log.exception("engine: loop step failed")
                self._stop.wait(0.1)
        self.client.disconnect()
        for _ in range(20):
            if self.client.loop(timeout=0.01) != mqtt.MQTT_ERR_SUCCESS:
                break
        self._log.flush()

    def _restore(self) -> None:
        try:
            out = self.engine.restore(self.store)
        except Exception:
            log.exception("engine: cannot reload the rooms from the store; retrying in 2 s")
            self._restore_due = time.monotonic() + 2.0
            return
        self._restore_due = -1.0
        self.stats.restores += 1
        self._publish(out)
        self.ready.set()

    def _publish(self, out: list[Outgoing]) -> None:
        for item in out:
            self.client.publish(item.topic, item.payload, qos=item.qos, retain=item.retain)
            self.stats.published += 1

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    props: Any) -> None:
        if reason_failed(reason):
            log.error("engine: broker refused connection: %s", reason)
            return
        self._backoff = 0.2
        self.stats.connects += 1
        leaves = ("samples", "events", "status")
        _, self._sub_mid = client.subscribe([(subscription(self.site, "+", x), 1) for x in leaves])
        log.info("engine connected to %s:%s for site %s", self.address.host, self.address.port,
                 self.site)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any,
                      props: Any) -> None:
        if mid == self._sub_mid:  # from now on nothing new is missed: reload, then go on
            self._restore()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       props: Any) -> None:
        self.ready.clear()
        if not self._stop.is_set():
            log.warning("engine disconnected (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        """Apply one message, or count it as a reject with its reason: never raises."""
        self.stats.messages += 1
        self._refusal = None
        topic = "?"
        try:
            topic = msg.topic
            out = self._apply(topic, bytes(msg.payload))
        except SchemaError as exc:
            self._reject(topic, str(exc))
            return
        except Exception as exc:  # nothing foreseen: it costs this one message, no more
            self.stats.failed += 1
            self._reject(topic, f"{type(exc).__name__}: {exc}", failed=True)
            return
        if self._refusal is not None:
            self._reject(topic, self._refusal)
        self._publish(out)

    def _apply(self, raw_topic: str, payload: bytes) -> list[Outgoing]:
        topic, message = decode(raw_topic, payload)
        if isinstance(message, SampleBatch):
            return self.engine.on_batch(topic.room, message)
        if isinstance(message, Event):
            return self.engine.on_event(topic.room, message)
        if isinstance(message, DeviceStatus):
            return self.engine.on_status(topic.room, message)
        return []  # a retained status cleared: nothing to apply

    def _refused(self, where: str, reason: str) -> None:
        """The engine's report of an input it did not apply (one per message)."""
        if self._refusal is None:
            self._refusal = f"{where}: {reason}"

    def _reject(self, topic: str, reason: str, *, failed: bool = False) -> None:
        self.stats.rejected += 1
        if failed:
            self._log.error("engine: message failed", "engine: message on %s failed: %s",
                            topic[:200], reason[:300], exc_info=True)
        else:
            self._log.warning("engine: rejected message", "engine: rejected message on %s: %s",
                              topic[:200], reason[:300])
