"""The one thread that owns the ingest's MQTT clients.

Source threads hand it sample batches, device statuses and live frames through a queue.
It writes batches into the :class:`~ingest.spool.Spool`, publishes them at QoS 1 and
removes each from the spool only when the broker acknowledges it; after a reconnect every
unacknowledged batch is sent again. Live frames take the other road: handed to a
:class:`~ingest.live_sender.LiveSender` (its own connection and thread, so they never wait
behind a spool write), published at once at QoS 0, never spooled.

Each device also has its own small status connection whose last will is that device's
retained ``offline`` status, so a crashed ingest or a pulled network cable turns every
one of its devices offline on every screen, without anyone polling.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from msgspec.structs import replace

from contract import DeviceStatus, LiveFrame, SampleBatch, samples_topic, status_topic
from ingest.link import Link
from ingest.live_sender import LiveSender
from ingest.mqtt import BrokerAddress, make_client, reason_failed, safe_callback
from ingest.spool import Spool

log = logging.getLogger(__name__)

WINDOW = 200  # batches in flight at once
REFUSED_RETRY_S = 5.0  # the broker refused a batch (not authorized…): wait before retrying


@dataclass
class ForwarderStats:
    spooled: int = 0
    published: int = 0
    acked: int = 0
    connects: int = 0


class Forwarder(threading.Thread):
    def __init__(
        self,
        address: BrokerAddress,
        spool: Spool,
        *,
        site: str,
        room: str,
        client_id: str,
    ) -> None:
        super().__init__(name="mqtt-forwarder", daemon=True)
        self.address = address
        self.spool = spool
        self.site = site
        self.room = room
        self.client_id = client_id
        self.stats = ForwarderStats()
        self._inbox: queue.Queue[SampleBatch | DeviceStatus] = queue.Queue()
        self._halt = threading.Event()
        self._main = Link(make_client(address, client_id=client_id), address, client_id)
        self.live = LiveSender(address, site=site, room=room, client_id=f"{client_id}-live")
        self._main.client.on_publish = safe_callback(self._on_publish)
        self._inflight: dict[int, int] = {}
        self._acked: list[int] = []
        self._last_sent = 0
        self._status: dict[str, DeviceStatus] = {}
        self._status_links: dict[str, Link] = {}
        self._status_dirty: set[str] = set()
        self._was_connected = False
        self._alarm = False
        self._refused: dict[str, str] = {}  # device → why the broker refused its batches
        self._paused_until = 0.0

    # ------------------------------------------------------------------ other threads

    def submit(self, item: SampleBatch | DeviceStatus | LiveFrame) -> None:
        if isinstance(item, LiveFrame):
            self.live.submit(item)
        else:
            self._inbox.put(item)

    def start(self) -> None:
        self.live.start()
        super().start()

    def stop(self, *, timeout: float = 5.0) -> None:
        """Flush what is spooled (up to ``timeout``), publish offline statuses, disconnect."""
        self._flush_deadline = time.monotonic() + timeout
        self.live.stop()
        self._halt.set()
        self.join(timeout + 2)

    # ------------------------------------------------------------------ forwarder thread

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self._step()
            except Exception:  # never let the forwarder die: log and keep going
                log.exception("forwarder step failed")
                time.sleep(0.1)
        self._shutdown()

    def _step(self, *, idle: float = 0.005) -> None:
        self._drain_inbox(wait=idle)
        now = time.monotonic()
        connected = self._main.service(now)
        if connected and not self._was_connected:
            self.stats.connects += 1
            self._inflight.clear()
            self._last_sent = 0  # resend everything still in the spool…
            rearmed = self.spool.rearm_recent()  # …and what a crashed broker may have lost
            if rearmed:
                log.info("re-sending %d recently acknowledged batches after (re)connecting",
                         rearmed)
        self._was_connected = connected
        if connected and now >= self._paused_until:
            self._publish_pending()
        if self._acked:
            self.spool.ack(self._acked)
            self.stats.acked += len(self._acked)
            self._acked = []
        self._service_status(now)

    def _drain_inbox(self, *, wait: float) -> None:
        batches: list[tuple[str, bytes, int, bool]] = []
        try:
            item = self._inbox.get(timeout=wait)
        except queue.Empty:
            return
        while True:
            if isinstance(item, SampleBatch):
                topic = samples_topic(self.site, self.room, item.device)
                batches.append((topic, item.encode(), 1, False))
            else:
                self._set_status(item)
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                break
        if batches:
            self.stats.spooled += self.spool.put_many(batches)

    def _publish_pending(self) -> None:
        room = WINDOW - len(self._inflight)
        if room <= 0:
            return
        for row in self.spool.pending(after=self._last_sent, limit=room):
            info = self._main.client.publish(row.topic, row.payload, qos=row.qos,
                                             retain=row.retain)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                break
            self._inflight[info.mid] = row.id
            self._last_sent = row.id
            self.stats.published += 1

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any,
                    props: Any) -> None:
        spool_id = self._inflight.pop(mid, None)
        if spool_id is None:
            return
        if reason_failed(reason):
            # Refused (not authorized, quota…): keep it spooled, retry later, say why once.
            why = f"broker refused the samples ({reason})"
            device = self._device_of(spool_id)
            if self._refused.get(device) != why:
                log.error("%s: %s; they stay spooled and are retried every %.0f s",
                          device, why, REFUSED_RETRY_S)
                self._refused[device] = why
                self._status_dirty.add(device)
            self._last_sent = min(self._last_sent, spool_id - 1)
            self._paused_until = time.monotonic() + REFUSED_RETRY_S
            return
        if self._refused:
            for device in self._refused:
                self._status_dirty.add(device)
            self._refused.clear()
        self._acked.append(spool_id)

    def _device_of(self, spool_id: int) -> str:
        rows = self.spool.pending(after=spool_id - 1, limit=1)
        if rows and rows[0].id == spool_id:
            parts = rows[0].topic.split("/")
            if len(parts) >= 7:
                return parts[5]
        return "?"

    # ------------------------------------------------------------------ device status

    def _set_status(self, status: DeviceStatus) -> None:
        self._status[status.device] = status
        self._status_dirty.add(status.device)
        if status.device not in self._status_links:
            will = DeviceStatus(
                device=status.device, kind=status.kind, state="offline", t=time.time(),
                reason="ingest connection lost", placement=status.placement,
            )
            topic = status_topic(self.site, self.room, status.device)
            client = make_client(
                self.address, client_id=f"{self.client_id}-{status.device}",
                will=(topic, will.encode()),
            )
            link = Link(client, self.address, f"{self.client_id}/{status.device}")
            self._status_links[status.device] = link

    def _published_status(self, device: str) -> DeviceStatus:
        """The device's status as the screens should see it: with the spool alarm and a
        broker refusal, when there is one, added to its reason."""
        status = self._status[device]
        extra = [text for text in (self._refused.get(device),
                                   "spool filling up: broker unreachable?" if self._alarm
                                   else None) if text]
        if not extra:
            return status
        return replace(status, reason=" · ".join([status.reason, *extra]).strip(" ·")[:200])

    def _service_status(self, now: float) -> None:
        if self.spool.alarm != self._alarm:
            self._alarm = self.spool.alarm
            self._status_dirty.update(self._status_links)
        for device, link in self._status_links.items():
            was = link.connected
            if link.service(now) and (not was or device in self._status_dirty):
                link.client.publish(status_topic(self.site, self.room, device),
                                    self._published_status(device).encode(), qos=1,
                                    retain=True)
                self._status_dirty.discard(device)

    def _shutdown(self) -> None:
        deadline = getattr(self, "_flush_deadline", time.monotonic())
        self._drain_inbox(wait=0)  # batches handed over while the readers stopped
        while time.monotonic() < deadline and (len(self.spool) or self._inflight
                                               or not self._inbox.empty()):
            self._step(idle=0.001)
            if not self._main.connected and self._main.next_try > deadline:
                break
        for device, link in self._status_links.items():
            status = self._status[device]
            offline = replace(status, state="offline", t=time.time(), reason="ingest stopped")
            if link.connected:
                info = link.client.publish(status_topic(self.site, self.room, device),
                                           offline.encode(), qos=1, retain=True)
                end = time.monotonic() + 1.0
                while not info.is_published() and time.monotonic() < end:
                    link.client.loop(timeout=0.01)
            link.closing = True
            link.client.disconnect()
        if self._main.connected:
            self._main.closing = True
            self._main.client.disconnect()
        log.info("forwarder stopped: %d spooled, %d acked, %d left in spool",
                 self.stats.spooled, self.stats.acked, len(self.spool))
