"""Wire schema v1: MQTT topics and the messages every DMI Live process exchanges.

One module builds every topic string and validates every payload, so the ingest
service, the recorder and the dashboard can never disagree about the wire format.

Topics::

    dmi/v1/{site}/{room}/dev/{device}/samples   QoS 1, batched samples
    dmi/v1/{site}/{room}/dev/{device}/status    retained; the last will says offline
    dmi/v1/{site}/{room}/events                 QoS 1: session/set start-stop, reps, tags, notes
    dmi/v1/{site}/{room}/derived                metrics snapshots and detected reps

Privacy: topics and payloads carry only identifiers (site, room, device, pseudonymous
child id, opaque session/set ids). Names live in the store only.

Every message is a frozen dataclass that validates in ``__post_init__``; ``decode_*``
functions parse JSON bytes and raise :class:`SchemaError` naming the field at fault — and
nothing else, whatever the bytes (nesting that would exhaust the parser's recursion,
numbers beyond the float range or too long to read, text JSON escapes into lone UTF-16
surrogates; see :mod:`ingest.decoding`): a consumer catches :class:`SchemaError` and
counts a reject.
Sample time: the device time of row ``i`` is ``t_dev + i * period`` unless the batch has
a ``t`` column (irregular devices), in which case that column is the device time in
seconds. The host time of row ``i`` is ``t_host + (device time of i - t_dev)``.
"""

from __future__ import annotations

import functools
import math
import re
import uuid
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Literal, cast

from ingest.decoding import MAX_SEQ
from ingest.decoding import check_data as _check_data
from ingest.decoding import check_unicode as _check_unicode
from ingest.decoding import decoder as _decoder
from ingest.decoding import in_float_range as _in_float_range
from ingest.wire import MAX_TEXT, SCHEMA_VERSION, SchemaError
from ingest.wire import check_ident as _check_ident
from ingest.wire import check_int as _check_int
from ingest.wire import check_number as _check_number
from ingest.wire import check_segment as _check_segment
from ingest.wire import check_text as _check_text
from ingest.wire import dumps as _dumps
from ingest.wire import load as _load
from ingest.wire import require as _require

__all__ = [  # MAX_TEXT, SCHEMA_VERSION and SchemaError are re-exported for every caller
    "KINDS", "MAX_TEXT", "SCHEMA_VERSION", "DeviceStatus", "Event", "SampleBatch",
    "SchemaError", "Topic", "decode_batch", "decode_event", "decode_status",
    "derived_topic", "events_topic", "parse_topic", "samples_topic", "status_topic",
    "subscription",
]

TOPIC_ROOT = "dmi/v1"

KINDS = ("board", "imu")
Kind = Literal["board", "imu"]
STATES = ("online", "stale", "offline")
State = Literal["online", "stale", "offline"]
MAX_ROWS = 1000
MAX_COLUMNS = 16

_COLUMN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

_NUMBERS = frozenset({int, float})



# ----------------------------------------------------------------------------- topics


@dataclass(frozen=True)
class Topic:
    """A parsed topic: ``leaf`` is samples, status, events or derived."""

    site: str
    room: str
    leaf: str
    device: str | None = None

    def __post_init__(self) -> None:
        _check_segment("site", self.site)
        _check_segment("room", self.room)
        if self.leaf in ("samples", "status"):
            _check_segment("device", self.device)
        elif self.leaf in ("events", "derived"):
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


def events_topic(site: str, room: str) -> str:
    return str(Topic(site, room, "events"))


def derived_topic(site: str, room: str) -> str:
    return str(Topic(site, room, "derived"))


def subscription(site: str = "+", room: str = "+", leaf: str = "#") -> str:
    """A subscription filter: ``subscription(leaf='samples')`` → ``dmi/v1/+/+/dev/+/samples``."""
    if leaf in ("samples", "status"):
        return f"{TOPIC_ROOT}/{site}/{room}/dev/+/{leaf}"
    if leaf in ("events", "derived"):
        return f"{TOPIC_ROOT}/{site}/{room}/{leaf}"
    return f"{TOPIC_ROOT}/{site}/{room}/#"


def parse_topic(topic: str) -> Topic:
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


# ----------------------------------------------------------------------------- samples


def _rows_plainly_valid(rows: object, width: int) -> bool:
    """Fast path for the common case: tuples of the right width holding only finite ints
    and floats. Anything else falls through to the precise per-value checks."""
    if not isinstance(rows, tuple) or set(map(type, rows)) != {tuple} or set(
            map(len, rows)) != {width}:
        return False
    flat = list(chain.from_iterable(rows))
    if not set(map(type, flat)) <= _NUMBERS:
        return False  # bool, str, None, a subclass… → the slow path names the value
    try:  # a sum is finite only if every value is (an overflow goes the slow way)
        return math.isfinite(sum(flat))
    except OverflowError:  # an int too large for a float
        return False


@functools.lru_cache(maxsize=4096)
def _check_header(device: object, kind: object, boot: object, columns: object) -> None:
    """Check a batch's device, kind, boot and column names (valid ones are remembered)."""
    _check_segment("device", device)
    if kind not in KINDS:
        raise SchemaError("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    _check_ident("boot", boot)
    if not isinstance(columns, tuple) or not 1 <= len(columns) <= MAX_COLUMNS:
        raise SchemaError("cols", f"expected 1–{MAX_COLUMNS} column names")
    for i, col in enumerate(columns):
        if not isinstance(col, str) or not _COLUMN.match(col):
            raise SchemaError(f"cols[{i}]", f"{col!r} is not a valid column name")
    if len(set(columns)) != len(columns):
        raise SchemaError("cols", "column names repeat")


@dataclass(frozen=True)
class SampleBatch:
    """Consecutive samples of one device, one boot.

    ``seq`` is the sequence number of the first row; row ``i`` has ``seq + i``. A new
    ``boot`` id starts whenever the device (or its counters) restarts.
    """

    device: str
    kind: Kind
    boot: str
    seq: int
    t_dev: float
    period: float
    t_host: float
    columns: tuple[str, ...]
    rows: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        try:  # a stream's batches all repeat the same header: checked once
            _check_header(self.device, self.kind, self.boot, self.columns)
        except TypeError:  # a list or dict where text belongs: unhashable, and invalid
            _check_header.__wrapped__(self.device, self.kind, self.boot, self.columns)
        _check_int("seq", self.seq)
        _check_number("t_dev", self.t_dev)
        _check_number("period", self.period, positive=True)
        _check_number("t_host", self.t_host, positive=True)
        if not isinstance(self.rows, tuple) or not 1 <= len(self.rows) <= MAX_ROWS:
            raise SchemaError("rows", f"expected 1–{MAX_ROWS} rows")
        width = len(self.columns)
        if _rows_plainly_valid(self.rows, width):
            return
        for i, row in enumerate(self.rows):
            if not isinstance(row, tuple) or len(row) != width:
                raise SchemaError(f"rows[{i}]", f"expected {width} values")
            for j, value in enumerate(row):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise SchemaError(f"rows[{i}][{j}]", f"{value!r} is not a number")
                try:
                    finite = math.isfinite(value)
                except OverflowError:  # an int beyond the float range
                    finite = False
                if not finite:
                    raise SchemaError(f"rows[{i}][{j}]", f"{value!r} is not a finite number")

    @property
    def last_seq(self) -> int:
        return self.seq + len(self.rows) - 1

    def device_times(self) -> list[float]:
        if "t" in self.columns:
            k = self.columns.index("t")
            return [row[k] for row in self.rows]
        return [self.t_dev + i * self.period for i in range(len(self.rows))]

    def host_times(self) -> list[float]:
        offset = self.t_host - self.t_dev
        return [t + offset for t in self.device_times()]

    def encode(self) -> bytes:
        return _dumps(
            {
                "v": SCHEMA_VERSION,
                "device": self.device,
                "kind": self.kind,
                "boot": self.boot,
                "seq": self.seq,
                "t_dev": self.t_dev,
                "period": self.period,
                "t_host": self.t_host,
                "cols": list(self.columns),
                "rows": [list(r) for r in self.rows],
            }
        )


@_decoder
def decode_batch(payload: bytes | str) -> SampleBatch:
    data = _load(payload)
    _in_float_range(data, "t_dev", "period", "t_host")
    cols = _require(data, "cols")
    rows = _require(data, "rows")
    if not isinstance(cols, list):
        raise SchemaError("cols", "expected a list")
    if not isinstance(rows, list):
        raise SchemaError("rows", "expected a list")
    if set(map(type, rows)) != {list}:
        for i, row in enumerate(rows):
            if not isinstance(row, list):
                raise SchemaError(f"rows[{i}]", "expected a list")
    batch = SampleBatch(
        device=_require(data, "device"),
        kind=_require(data, "kind"),
        boot=_require(data, "boot"),
        seq=_require(data, "seq"),
        t_dev=_require(data, "t_dev"),
        period=_require(data, "period"),
        t_host=_require(data, "t_host"),
        columns=tuple(cols),
        rows=tuple(map(tuple, rows)),
    )
    if batch.last_seq > MAX_SEQ:
        raise SchemaError("seq", f"the rows run past {MAX_SEQ} (64 bits)")
    return batch


# ----------------------------------------------------------------------------- status


@dataclass(frozen=True)
class DeviceStatus:
    """Retained per-device status. ``rejects`` counts malformed input lines so far."""

    device: str
    kind: Kind
    state: State
    t: float
    reason: str = ""
    boot: str | None = None
    rejects: int = 0
    placement: str = ""

    def __post_init__(self) -> None:
        _check_segment("device", self.device)
        if self.kind not in KINDS:
            raise SchemaError("kind", f"{self.kind!r} is not one of {', '.join(KINDS)}")
        if self.state not in STATES:
            raise SchemaError("state", f"{self.state!r} is not one of {', '.join(STATES)}")
        _check_number("t", self.t, positive=True)
        _check_text("reason", self.reason, limit=200, empty=True)
        if self.boot is not None:
            _check_ident("boot", self.boot)
        _check_int("rejects", self.rejects)
        if self.placement:
            _check_segment("placement", self.placement)

    def encode(self) -> bytes:
        return _dumps(
            {
                "v": SCHEMA_VERSION,
                "device": self.device,
                "kind": self.kind,
                "state": self.state,
                "t": self.t,
                "reason": self.reason,
                "boot": self.boot,
                "rejects": self.rejects,
                "placement": self.placement,
            }
        )


@_decoder
def decode_status(payload: bytes | str) -> DeviceStatus:
    data = _load(payload)
    _in_float_range(data, "t")
    _check_unicode("reason", data.get("reason"))
    return DeviceStatus(
        device=_require(data, "device"),
        kind=_require(data, "kind"),
        state=_require(data, "state"),
        t=_require(data, "t"),
        reason=data.get("reason", ""),
        boot=data.get("boot"),
        rejects=data.get("rejects", 0),
        placement=data.get("placement", ""),
    )


# ----------------------------------------------------------------------------- events

EVENT_TYPES = (
    "session_start",
    "session_end",
    "set_start",
    "set_end",
    "rep",
    "tag",
    "note",
)

# Required keys of ``data`` for each event type, with their checkers.
_EVENT_FIELDS: dict[str, dict[str, str]] = {
    "session_start": {"child": "ident"},
    "session_end": {},
    "set_start": {
        "exercise": "ident",
        "surface": "segment",
        "support": "segment",
        "planned_reps": "count",
    },
    "set_end": {},
    "rep": {"delta": "delta", "source": "source"},
    "tag": {"tag": "segment"},
    "note": {"text": "text"},
}


def _check_event_data(kind: str, data: dict[str, Any]) -> None:
    for key, check in _EVENT_FIELDS[kind].items():
        name = f"data.{key}"
        value = data.get(key)
        if value is None:
            raise SchemaError(name, f"missing (required for {kind})")
        if check == "ident":
            _check_ident(name, value)
        elif check == "segment":
            _check_segment(name, value)
        elif check == "count":
            _check_int(name, value, minimum=0)
        elif check == "delta":
            if value not in (1, -1) or isinstance(value, bool):
                raise SchemaError(name, f"must be +1 or -1, got {value!r}")
        elif check == "source":
            if value not in ("auto", "manual"):
                raise SchemaError(name, f"must be 'auto' or 'manual', got {value!r}")
        elif check == "text":
            _check_text(name, value)


@dataclass(frozen=True)
class Event:
    """A session event. ``id`` is unique per event, so every consumer can drop repeats."""

    type: str
    t: float
    session: str | None = None
    set: str | None = None
    author: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise SchemaError("type", f"{self.type!r} is not one of {', '.join(EVENT_TYPES)}")
        _check_number("t", self.t, positive=True)
        _check_ident("id", self.id)
        for name in ("session", "set", "author"):
            value = getattr(self, name)
            if value is not None:
                _check_ident(name, value)
        if not isinstance(self.data, dict):
            raise SchemaError("data", "expected an object")
        _check_event_data(self.type, self.data)

    def encode(self) -> bytes:
        return _dumps(
            {
                "v": SCHEMA_VERSION,
                "id": self.id,
                "type": self.type,
                "t": self.t,
                "session": self.session,
                "set": self.set,
                "author": self.author,
                "data": self.data,
            }
        )


@_decoder
def decode_event(payload: bytes | str) -> Event:
    data = _load(payload)
    _in_float_range(data, "t")
    _check_data(data.get("data"))
    return Event(
        type=_require(data, "type"),
        t=_require(data, "t"),
        session=data.get("session"),
        set=data.get("set"),
        author=data.get("author"),
        data=cast(dict[str, Any], data.get("data", {})),
        id=_require(data, "id"),
    )
