"""The thread that owns the ingest's live connection: live frames out at QoS 0, at once.

Live frames do not queue behind the stored stream: the forwarder's thread writes the
spool (SQLite commits that can take tens of milliseconds on a busy disk), so frames get
their own client and thread. Reader threads hand frames over through a small queue; the
newest are kept when it overflows. While the broker is away frames are dropped and
counted — a screen wants the next fresh frame, not a late one.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

import paho.mqtt.client as mqtt

from contract import LiveFrame, live_topic
from ingest.link import Link
from ingest.mqtt import BrokerAddress, make_client

log = logging.getLogger(__name__)

QUEUE_FRAMES = 64
"""Frames waiting at most (a second of a room's devices at ~33 frames/s each is ~130)."""


class LiveSender(threading.Thread):
    def __init__(self, address: BrokerAddress, *, site: str, room: str,
                 client_id: str) -> None:
        super().__init__(name="mqtt-live", daemon=True)
        self.site = site
        self.room = room
        self.sent = 0
        self.dropped = 0
        self._inbox: queue.Queue[LiveFrame] = queue.Queue(maxsize=QUEUE_FRAMES)
        self._halt = threading.Event()
        self._link = Link(make_client(address, client_id=client_id), address, client_id)

    def submit(self, frame: LiveFrame) -> None:
        """Hand over a frame (any thread); when the queue is full the oldest is dropped."""
        while True:
            try:
                self._inbox.put_nowait(frame)
                return
            except queue.Full:
                try:
                    self._inbox.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def stop(self, timeout: float = 2.0) -> None:
        self._halt.set()
        self.join(timeout)

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self._step()
            except Exception:  # never let the live connection die: log and keep going
                log.exception("live sender step failed")
                time.sleep(0.1)
        if self._link.connected:
            self._link.closing = True
            self._link.client.disconnect()

    def _step(self) -> None:
        connected = self._link.service(time.monotonic())
        try:
            frame: LiveFrame | None = self._inbox.get(timeout=0.02)
        except queue.Empty:
            return
        while frame is not None:
            self._publish(frame, connected)
            try:
                frame = self._inbox.get_nowait()
            except queue.Empty:
                frame = None
        self._link.client.loop(timeout=0.0)  # write them now

    def _publish(self, frame: LiveFrame, connected: bool) -> None:
        if not connected:
            self.dropped += 1
            return
        info = self._link.client.publish(live_topic(self.site, self.room, frame.device),
                                         frame.encode(), qos=0)
        if info.rc == mqtt.MQTT_ERR_SUCCESS:
            self.sent += 1
        else:
            self.dropped += 1
