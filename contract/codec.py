"""Decoding the wire: bytes in, a checked message out, or a :class:`SchemaError` naming the
field at fault — and nothing else, whatever the bytes (nesting that would exhaust the
parser, numbers beyond the float range or too long to read, text whose escapes spell half
a UTF-16 surrogate pair).

:func:`decode` is the one entry every consumer uses (recorder, session engine, live hub,
``dmi-live status``): it parses the topic, decodes the payload by the topic's leaf, and
checks that a device's message names the device its topic names.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, TypeVar, overload

import msgspec

from contract.derived import RoomState, decode_room_state
from contract.errors import SchemaError
from contract.messages import DeviceStatus, Event, LiveFrame, Message, SampleBatch
from contract.topics import Topic, parse_topic

M = TypeVar("M", SampleBatch, DeviceStatus, Event, LiveFrame)

_DECODERS: dict[type, msgspec.json.Decoder[Any]] = {
    cls: msgspec.json.Decoder(cls) for cls in (SampleBatch, DeviceStatus, Event, LiveFrame)}
_PATH = re.compile(r"^(.*?)(?: - at `\$(.*)`)?$", re.S)
_MISSING = re.compile(r"^Object missing required field `([^`]*)`$")


def _field(path: str) -> str:
    """msgspec's ``$.rows[0][3]`` → ``rows[0][3]``; a value under a map key (``[...]``,
    msgspec does not say which) is named by its map."""
    return path.lstrip(".").split("[...]")[0] or "payload"


def _schema_error(exc: msgspec.ValidationError) -> SchemaError:
    found = _PATH.match(str(exc))
    message, path = (found.group(1), found.group(2) or "") if found else (str(exc), "")
    missing = _MISSING.match(message)
    if missing:
        name = f"{_field(path)}.{missing.group(1)}" if path else missing.group(1)
        return SchemaError(name, "missing")
    if message.startswith("Expected `object`") and not path:
        return SchemaError("payload", f"expected a JSON object ({message})")
    return SchemaError(_field(path), message)


def decode_as(cls: type[M], payload: bytes | str) -> M:
    """``payload`` as a ``cls`` message (SampleBatch, DeviceStatus, Event or LiveFrame)."""
    try:
        return _DECODERS[cls].decode(payload)  # type: ignore[no-any-return]
    except SchemaError:
        raise
    except msgspec.ValidationError as exc:
        raise _schema_error(exc) from None
    except msgspec.DecodeError as exc:
        return _lenient(cls, payload, exc)
    except RecursionError:
        raise SchemaError("payload", "nested too deeply") from None
    except (ValueError, OverflowError, TypeError) as exc:
        raise SchemaError("payload", f"not readable ({type(exc).__name__}: "
                                     f"{str(exc)[:120]})") from None


def _lenient(cls: type[M], payload: bytes | str, exc: Exception) -> M:
    """Not JSON as the standard says: read it the lenient way (NaN, Infinity) only to
    name the value at fault, never to accept it."""
    try:
        data = json.loads(payload)
    except RecursionError:
        raise SchemaError("payload", "nested too deeply") from None
    except (ValueError, TypeError):
        raise SchemaError("payload", f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SchemaError("payload", f"expected a JSON object, got {type(data).__name__}")
    try:
        msgspec.convert(data, cls)
    except msgspec.ValidationError as again:
        raise _schema_error(again) from None
    except (RecursionError, ValueError, OverflowError, TypeError):
        pass
    raise SchemaError("payload", f"not valid JSON ({exc})")


def decode_batch(payload: bytes | str) -> SampleBatch:
    return decode_as(SampleBatch, payload)


def decode_status(payload: bytes | str) -> DeviceStatus:
    return decode_as(DeviceStatus, payload)


def decode_event(payload: bytes | str) -> Event:
    return decode_as(Event, payload)


def decode_live(payload: bytes | str) -> LiveFrame:
    return decode_as(LiveFrame, payload)


@overload
def decode(topic: str, payload: bytes | str, *, live: Literal[False] = False
           ) -> tuple[Topic, Message | RoomState | None]: ...
@overload
def decode(topic: str, payload: bytes | str, *, live: Literal[True]
           ) -> tuple[Topic, Message | LiveFrame | RoomState | None]: ...
def decode(topic: str, payload: bytes | str, *, live: bool = False
           ) -> tuple[Topic, Message | LiveFrame | RoomState | None]:
    """The topic and its message (a room snapshot on a derived topic); ``None`` for an
    empty payload on a status topic (a cleared retained status). Raises
    :class:`SchemaError` for anything else it cannot accept, including a device's message
    that names another device than its topic, or a snapshot of another room.

    Live frames are for screens: only a caller that draws them says ``live=True``; for
    everyone else (the recorder, the session engine) a live topic is refused, so a live
    frame can never be stored by mistake.
    """
    parsed = parse_topic(topic)
    if parsed.leaf == "samples":
        batch = decode_batch(payload)
        if batch.device != parsed.device:
            raise SchemaError("device", f"{batch.device!r} does not match the topic")
        return parsed, batch
    if parsed.leaf == "live":
        if not live:
            raise SchemaError("topic", "a live frame is drawn, never stored: not taken here")
        frame = decode_live(payload)
        if frame.device != parsed.device:
            raise SchemaError("device", f"{frame.device!r} does not match the topic")
        return parsed, frame
    if parsed.leaf == "status":
        if not payload:
            return parsed, None
        status = decode_status(payload)
        if status.device != parsed.device:
            raise SchemaError("device", f"{status.device!r} does not match the topic")
        return parsed, status
    if parsed.leaf == "events":
        return parsed, decode_event(payload)
    state = decode_room_state(payload)  # derived
    if state.room != parsed.room:
        raise SchemaError("room", f"{state.room!r} does not match the topic")
    return parsed, state
