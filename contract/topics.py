"""MQTT topics: the one place that builds and parses every topic string (wire schema v1).

Topics::

    dmi/v1/{site}/{room}/dev/{device}/samples   QoS 1, batched samples (stored)
    dmi/v1/{site}/{room}/dev/{device}/status    retained; the last will says offline
    dmi/v1/{site}/{room}/events                 QoS 1: session/set start-stop, reps, tags, notes
    dmi/v1/{site}/{room}/derived                metrics snapshots and detected reps
    dmi/v1/{site}/{room}/dev/{device}/live      QoS 0, small drawn frames (never stored)

Privacy: topics carry only identifiers (site, room, device), never a name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from contract.errors import SchemaError
from contract.vocab import check_segment

TOPIC_ROOT = "dmi/v1"
DEVICE_LEAVES = ("samples", "status", "live")
ROOM_LEAVES = ("events", "derived")


@dataclass(frozen=True)
class Topic:
    """A parsed topic: ``leaf`` is samples, status, live, events or derived."""

    site: str
    room: str
    leaf: str
    device: str | None = None

    def __post_init__(self) -> None:
        check_segment("site", self.site)
        check_segment("room", self.room)
        if self.leaf in DEVICE_LEAVES:
            check_segment("device", self.device)
        elif self.leaf in ROOM_LEAVES:
            if self.device is not None:
                raise SchemaError("device", f"a {self.leaf} topic has no device")
        else:
            raise SchemaError("topic", f"unknown topic kind {self.leaf!r}")

    def __str__(self) -> str:
        base = f"{TOPIC_ROOT}/{self.site}/{self.room}"
        if self.device is not None:
            return f"{base}/dev/{self.device}/{self.leaf}"
        return f"{base}/{self.leaf}"


def samples_topic(site: str, room: str, device: str) -> str:
    return str(Topic(site, room, "samples", device))


def status_topic(site: str, room: str, device: str) -> str:
    return str(Topic(site, room, "status", device))


def live_topic(site: str, room: str, device: str) -> str:
    return str(Topic(site, room, "live", device))


def events_topic(site: str, room: str) -> str:
    return str(Topic(site, room, "events"))


def derived_topic(site: str, room: str) -> str:
    return str(Topic(site, room, "derived"))


def subscription(site: str = "+", room: str = "+", leaf: str = "#") -> str:
    """A subscription filter: ``subscription(leaf='samples')`` → ``dmi/v1/+/+/dev/+/samples``."""
    if leaf in DEVICE_LEAVES:
        return f"{TOPIC_ROOT}/{site}/{room}/dev/+/{leaf}"
    if leaf in ROOM_LEAVES:
        return f"{TOPIC_ROOT}/{site}/{room}/{leaf}"
    return f"{TOPIC_ROOT}/{site}/{room}/#"


@functools.lru_cache(maxsize=4096)
def parse_topic(topic: str) -> Topic:
    """The parsed ``topic`` (:class:`SchemaError` if it is none of ours). A room's few
    topics come again in every message: each is parsed once (a topic that fails is not
    remembered)."""
    parts = topic.split("/")
    if len(parts) < 5 or "/".join(parts[:2]) != TOPIC_ROOT:
        raise SchemaError("topic", f"{topic!r} is not a dmi/v1 topic")
    site, room = parts[2], parts[3]
    rest = parts[4:]
    if len(rest) == 3 and rest[0] == "dev":
        return Topic(site, room, rest[2], rest[1])
    if len(rest) == 1:
        return Topic(site, room, rest[0])
    raise SchemaError("topic", f"{topic!r} has an unknown shape")
