"""One MQTT connection with its reconnect back-off, driven by the thread that owns it."""

from __future__ import annotations

import logging
from typing import Any

import paho.mqtt.client as mqtt

from ingest.mqtt import BrokerAddress, connect, reason_failed, safe_callback

log = logging.getLogger(__name__)

BACKOFF_MAX = 5.0


class Link:
    """A client with its reconnect back-off; all methods run on the thread that owns it."""

    def __init__(self, client: mqtt.Client, address: BrokerAddress, name: str) -> None:
        self.client = client
        self.address = address
        self.name = name
        self.connected = False
        self.closing = False
        self.started = False
        self.next_try = 0.0
        self.backoff = 0.2
        client.on_connect = safe_callback(self._on_connect)
        client.on_disconnect = safe_callback(self._on_disconnect)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason_failed(reason):
            log.error("%s: broker refused the connection: %s", self.name, reason)
            return
        self.connected = True
        self.backoff = 0.2

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any,
                       props: Any) -> None:
        if self.connected and not self.closing:
            log.warning("%s: disconnected from broker (%s)", self.name, reason)
        self.connected = False

    def service(self, now: float) -> bool:
        """Connect or reconnect when due, then run one network step; True when connected."""
        if not self.connected and now >= self.next_try and not self._socket_open():
            try:
                if self.started:
                    self.client.reconnect()
                else:
                    connect(self.client, self.address)
                    self.started = True
            except OSError as exc:
                log.warning("%s: cannot reach broker %s:%s (%s); retrying in %.1fs",
                            self.name, self.address.host, self.address.port, exc, self.backoff)
                self.next_try = now + self.backoff
                self.backoff = min(self.backoff * 2, BACKOFF_MAX)
                return False
        if self.started:
            rc = self.client.loop(timeout=0.0)
            if rc != mqtt.MQTT_ERR_SUCCESS and self.connected:
                self.connected = False
            if rc != mqtt.MQTT_ERR_SUCCESS and now >= self.next_try:
                self.next_try = now + self.backoff
                self.backoff = min(self.backoff * 2, BACKOFF_MAX)
        return self.connected

    def _socket_open(self) -> bool:
        return self.started and self.client.socket() is not None
