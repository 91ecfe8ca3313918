"""Build paho-mqtt clients the same way in every process.

paho pitfalls handled here (see ARCHITECTURE.md): every callback we install is wrapped
so an exception is logged instead of silently killing the network thread; MQTT v5
sessions that must survive restarts use a stable client id, ``clean_start=False`` and a
session expiry.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class BrokerAddress:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: str | None = None
    protocol: int = 5

    @property
    def v5(self) -> bool:
        return self.protocol == 5


def safe_callback(fn: F) -> F:
    """Log and swallow exceptions so paho's network thread survives a bad message."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception:
            log.exception("error in MQTT callback %s", getattr(fn, "__qualname__", fn))
            return None

    return wrapper  # type: ignore[return-value]


def bound_client_id(address: BrokerAddress, name: str) -> str:
    """``name`` plus a tag only the holder of the account's password can compute.

    MQTT knows a session by its client id alone, and Mosquitto 2.0 lets any account
    connect with any id: whoever knew the recorder's id could knock it off and, with a
    clean start, throw away the session holding what it has yet to store. With the tag
    (an HMAC of the name keyed by the account's password) another account cannot name
    the recorder's, the engine's, a dashboard's or another room's ingest's session.
    """
    if not address.password:
        return name  # an anonymous demo broker: nothing to bind to
    tag = hmac.new(address.password.encode(), name.encode(), hashlib.sha256).hexdigest()
    return f"{name}-{tag[:20]}"


def make_client(
    address: BrokerAddress,
    *,
    client_id: str,
    persistent: bool = False,
    manual_ack: bool = False,
    will: tuple[str, bytes] | None = None,
) -> mqtt.Client:
    """A configured but not yet connected client.

    ``persistent``: the broker keeps the session (subscriptions and queued QoS 1
    messages) for an hour while the client is away. The id the broker sees is
    :func:`bound_client_id` of ``client_id``.
    """
    protocol = mqtt.MQTTv5 if address.v5 else mqtt.MQTTv311
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=bound_client_id(address, client_id),
        protocol=protocol,
        clean_session=None if address.v5 else not persistent,
        manual_ack=manual_ack,
    )
    client.suppress_exceptions = True
    if address.username:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set(ca_certs=address.ca_file, cert_reqs=ssl.CERT_REQUIRED)
    if will is not None:
        client.will_set(will[0], will[1], qos=1, retain=True)
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    return client


def connect(client: mqtt.Client, address: BrokerAddress, *, persistent: bool = False,
            keepalive: int = 15) -> None:
    """Start connecting (non-blocking with ``loop_start``/``loop``); raises OSError if refused."""
    if address.v5:
        props = Properties(PacketTypes.CONNECT)
        if persistent:
            props.SessionExpiryInterval = 3600
        client.connect(
            address.host,
            address.port,
            keepalive=keepalive,
            clean_start=not persistent,
            properties=props,
        )
    else:
        client.connect(address.host, address.port, keepalive=keepalive)


def reason_failed(reason_code: Any) -> bool:
    """paho 2 gives ReasonCode objects (v5) or ints; ReasonCode is not an int."""
    if hasattr(reason_code, "is_failure"):
        return bool(reason_code.is_failure)
    return bool(reason_code)
