"""A paho client for a subscriber that receives many messages and acknowledges them in
groups: the recorder.

paho reads each incoming packet with three or four ``recv`` calls (command byte, each
length byte, body) after one ``select``, and sends each manual PUBACK as its own packet:
one ``send`` on the socket plus one byte on its wake-up socket pair. At a few thousand
messages a second those system calls are a good part of the recorder's CPU
(``bench/record_throughput.py``). :class:`BulkClient` changes exactly two things:

- reads: one ``recv`` of up to 64 KiB fills a buffer that paho's packet reader then
  drains; :meth:`loop_read` goes on reading packets until the buffer is empty, so no
  byte ever waits in it for a ``select`` that would not fire;
- :meth:`ack_many`: the PUBACKs of a group of QoS 1 messages go out as one write (the
  bytes on the wire are the same PUBACK packets paho would send one by one).

It relies on two of paho's internal methods, ``_sock_recv`` and ``_packet_queue``,
present and unchanged from paho-mqtt 2.0 to 2.2; :data:`SUPPORTED` says whether the
installed paho has them, and :func:`ingest.mqtt.make_client` falls back to the plain
client if not.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

_READ = 65536
_PUBACK = struct.Struct("!BBH")

SUPPORTED = all(
    callable(getattr(mqtt.Client, name, None)) for name in ("_sock_recv", "_packet_queue")
)


class BulkClient(mqtt.Client):
    """:class:`paho.mqtt.client.Client` with buffered reads and grouped PUBACKs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0
        self._rsock: Any = None  # the socket the buffer was filled from

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rsock is not self._sock:  # a new connection: nothing buffered is its
            self._rbuf, self._rpos, self._rsock = b"", 0, self._sock
        if self._rpos >= len(self._rbuf):
            # raises BlockingIOError (or paho's SSL equivalents) when nothing has come
            data = super()._sock_recv(max(bufsize, _READ))
            if not data:
                return data  # the connection closed
            self._rbuf, self._rpos = data, 0
        out = self._rbuf[self._rpos : self._rpos + bufsize]
        self._rpos += len(out)
        return out

    def buffered(self) -> int:
        """Bytes read from the socket that paho has not taken yet."""
        if self._rsock is not self._sock:
            return 0
        return len(self._rbuf) - self._rpos

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        # paho reads one packet per select(); the rest of a full buffer is read now.
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and self._sock is not None and self.buffered():
            rc = super().loop_read(1)
        return rc

    def ack_many(self, mids: Iterable[int]) -> MQTTErrorCode:
        """Acknowledge QoS 1 messages (``manual_ack``) with one write for all of them."""
        packet = b"".join(_PUBACK.pack(mqtt.PUBACK, 2, mid) for mid in mids)
        if not packet:
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        return self._packet_queue(mqtt.PUBACK, packet, 0, 0)
