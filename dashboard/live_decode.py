"""Decode what the live hub receives, with the wire contract's checks.

Every message either decodes to something the hub can relay, or raises :class:`Rejected`
with a short ``reason`` (counted per reason) and a message naming what was wrong. The
checks are :mod:`contract`'s, as in the recorder, including "the frame's device is the
topic's device" and "a frame's values are finite numbers a screen can draw".
"""

from __future__ import annotations

import re

from contract import DeviceStatus, Event, LiveFrame, RoomState, SampleBatch, SchemaError, Topic
from contract import decode as wire_decode

Message = LiveFrame | SampleBatch | DeviceStatus | RoomState | Event | None
_INDEX = re.compile(r"\[\d+\]")


class Rejected(Exception):
    """A message the hub does not apply; ``reason`` is a short key to count by."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def decode(raw_topic: str, payload: bytes | bytearray) -> tuple[Topic, Message]:
    """Parse and check one message (:func:`contract.decode`); ``None`` for a cleared
    retained status."""
    try:
        return wire_decode(raw_topic, bytes(payload), live=True)
    except SchemaError as exc:
        raise Rejected(f"schema: {_INDEX.sub('[]', exc.field)}", str(exc)) from None
    except (ValueError, TypeError, KeyError, UnicodeError, ArithmeticError,
            RecursionError) as exc:  # a bug here: counted, never the hub's end
        raise Rejected(f"invalid: {type(exc).__name__}", f"invalid payload ({exc!r})") from None
