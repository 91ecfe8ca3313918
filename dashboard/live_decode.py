"""Decode what the live hub receives, with the recorder's checks and the hub's own.

Every message either decodes to something the hub can draw, or raises :class:`Rejected`
with a short ``reason`` (counted per reason) and a message naming what was wrong. The
wire checks are :mod:`contract`'s, as in the recorder, including "the batch's device
is the topic's device"; on top, the hub refuses what it could not draw: a batch without
its kind's columns, a sample period outside :data:`MIN_PERIOD_S`–:data:`MAX_PERIOD_S`,
host times that are not finite, a status or snapshot for another device or room.
"""

from __future__ import annotations

import re

import numpy as np

from contract import DeviceStatus, Event, RoomState, SampleBatch, SchemaError, Topic
from contract import decode as wire_decode

Message = SampleBatch | DeviceStatus | RoomState | Event | None
# what the hub draws from (as ingest.devices.base names them; that package pulls in
# every device protocol, which a dashboard does not need)
REQUIRED_COLUMNS = {"board": ("fl", "fr", "bl", "br"), "imu": ("ax", "ay", "az", "gx", "gy", "gz")}
MIN_PERIOD_S = 1e-4  # 10 kHz: far above any board or IMU
MAX_PERIOD_S = 60.0
_INDEX = re.compile(r"\[\d+\]")


class Rejected(Exception):
    """A message the hub does not apply; ``reason`` is a short key to count by."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def decode(raw_topic: str, payload: bytes | bytearray) -> tuple[Topic, Message]:
    """Parse and check one message (:func:`contract.decode`, then what the hub needs to
    draw it); ``None`` for a cleared retained status."""
    try:
        topic, message = wire_decode(raw_topic, bytes(payload))
        if isinstance(message, SampleBatch):
            check_drawable(message)
        return topic, message
    except SchemaError as exc:
        raise Rejected(f"schema: {_INDEX.sub('[]', exc.field)}", str(exc)) from None
    except (ValueError, TypeError, KeyError, UnicodeError, ArithmeticError,
            RecursionError) as exc:  # a bug here: counted, never the hub's end
        raise Rejected(f"invalid: {type(exc).__name__}", f"invalid payload ({exc!r})") from None


def check_drawable(batch: SampleBatch) -> None:
    """Raise :class:`SchemaError` unless the hub can turn ``batch`` into what it draws."""
    missing = [c for c in REQUIRED_COLUMNS[batch.kind] if c not in batch.columns]
    if missing:
        raise SchemaError("cols", f"a {batch.kind} batch needs {', '.join(missing)}")
    if not MIN_PERIOD_S <= batch.period <= MAX_PERIOD_S:
        raise SchemaError("period", f"{batch.period!r} s is outside {MIN_PERIOD_S:g}–"
                                    f"{MAX_PERIOD_S:g} s")
    with np.errstate(over="ignore", invalid="ignore"):
        if "t" in batch.columns:
            k = batch.columns.index("t")
            ends = np.array([row[k] for row in batch.rows], dtype=float)
        else:
            ends = np.array([batch.t_dev, batch.t_dev + (len(batch.rows) - 1) * batch.period])
        host = ends + (np.float64(batch.t_host) - np.float64(batch.t_dev))
        finite = bool(np.isfinite(host).all())
    if not finite:
        raise SchemaError("t_host", "host times of this batch are not finite numbers")
