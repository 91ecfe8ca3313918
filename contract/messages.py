"""The messages of wire schema v1: sample batches, device statuses, session events, and
the live frames the screens draw.

Declared as frozen ``msgspec`` structs: the types and bounds below are the schema (the
decoder checks them in C while it parses, and names the field at fault), and
``__post_init__`` adds what a type cannot say — a batch's rows as wide as its columns,
finite values, a row count that keeps ``seq`` within 64 bits, an event's required data.
A struct built in code is checked the same way as one decoded from the wire.

Sample time: the device time of row ``i`` is ``t_dev + i * period`` unless the batch has
a ``t`` column (irregular devices), in which case that column is the device time in
seconds. The host time of row ``i`` is ``t_host + (device time of i - t_dev)``.

Privacy: payloads carry only identifiers (device, pseudonymous child id, opaque session,
set and author ids). Names live in the store only.
"""

from __future__ import annotations

import functools
import math
import re
import uuid
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from contract.errors import SchemaError
from contract.vocab import (
    COLUMN,
    EVENT_TYPES,
    IDENT,
    KINDS,
    MAX_SEQ,
    MAX_TEXT,
    SEGMENT,
    STATES,
    Kind,
    State,
    check_ident,
    check_int,
    check_number,
    check_segment,
    check_text,
)

MAX_ROWS = 1000
MAX_COLUMNS = 16
MAX_DATA_DEPTH = 8
"""An event's ``data`` is an object of plain values, not a tree."""

Segment = Annotated[str, Meta(pattern=SEGMENT)]
Ident = Annotated[str, Meta(pattern=IDENT)]
Finite = Annotated[float, Meta(ge=-1.7976931348623157e308, le=1.7976931348623157e308)]
Positive = Annotated[float, Meta(gt=0.0, le=1.7976931348623157e308)]
Seq = Annotated[int, Meta(ge=0, le=MAX_SEQ)]
_COLUMN = re.compile(COLUMN)


class SampleBatch(msgspec.Struct, frozen=True):
    """Consecutive samples of one device, one boot.

    ``seq`` is the sequence number of the first row; row ``i`` has ``seq + i``. A new
    ``boot`` id starts whenever the device (or its counters) restarts.
    """

    # the id patterns of device, boot and columns are checked in __post_init__, once per
    # stream (a stream repeats its header in every batch), not per decode
    device: str
    kind: Kind
    boot: str
    seq: Seq
    t_dev: Finite
    period: Positive
    t_host: Positive
    columns: Annotated[tuple[str, ...], Meta(min_length=1, max_length=MAX_COLUMNS)] = (
        msgspec.field(name="cols"))
    rows: Annotated[tuple[tuple[float, ...], ...], Meta(min_length=1, max_length=MAX_ROWS)]
    v: Literal[1] = 1

    def __post_init__(self) -> None:
        try:  # a stream's batches all repeat the same header: checked once
            _check_header(self.device, self.kind, self.boot, self.columns)
        except TypeError:  # a list or dict where text belongs: unhashable, and invalid
            _check_header.__wrapped__(self.device, self.kind, self.boot, self.columns)
        if not _plain_numbers(self):
            check_int("seq", self.seq)
            check_number("t_dev", self.t_dev)
            check_number("period", self.period, positive=True)
            check_number("t_host", self.t_host, positive=True)
        rows, width = self.rows, len(self.columns)
        if not 1 <= len(rows) <= MAX_ROWS:
            raise SchemaError("rows", f"expected 1–{MAX_ROWS} rows")
        if self.seq + len(rows) - 1 > MAX_SEQ:
            raise SchemaError("seq", f"the rows run past {MAX_SEQ} (64 bits)")
        try:  # rows as wide as the columns, and a finite sum: every value is finite
            if set(map(len, rows)) == {width} and math.isfinite(sum(map(sum, rows))):
                return
        except (TypeError, OverflowError):
            pass
        _name_the_bad_value(rows, width)

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
        return _encode(self)


@functools.lru_cache(maxsize=4096)
def _check_header(device: object, kind: object, boot: object, columns: object) -> None:
    """A batch's device, kind, boot and column names (valid ones are remembered)."""
    check_segment("device", device)
    if kind not in KINDS:
        raise SchemaError("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    check_ident("boot", boot)
    if not isinstance(columns, tuple) or not 1 <= len(columns) <= MAX_COLUMNS:
        raise SchemaError("cols", f"expected 1–{MAX_COLUMNS} column names")
    for i, col in enumerate(columns):
        if not isinstance(col, str) or not _COLUMN.match(col):
            raise SchemaError(f"cols[{i}]", f"{col!r} is not a valid column name")
    if len(set(columns)) != len(columns):
        raise SchemaError("cols", "column names repeat")


def _plain_numbers(batch: SampleBatch) -> bool:
    """The common case, in one expression: an int ``seq`` in range and finite times with
    a positive period and host time (anything else goes through the precise checks)."""
    try:
        return (type(batch.seq) is int and 0 <= batch.seq <= MAX_SEQ
                and type(batch.t_dev) is float and type(batch.period) is float
                and type(batch.t_host) is float and batch.period > 0 and batch.t_host > 0
                and math.isfinite(batch.t_dev + batch.period + batch.t_host))
    except (TypeError, OverflowError):
        return False


def _name_the_bad_value(rows: tuple[tuple[float, ...], ...], width: int) -> None:
    for i, row in enumerate(rows):
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


class DeviceStatus(msgspec.Struct, frozen=True):
    """Retained per-device status. ``rejects`` counts malformed input lines so far."""

    device: Segment
    kind: Kind
    state: State
    t: Positive
    reason: Annotated[str, Meta(max_length=200)] = ""
    boot: Ident | None = None
    rejects: Seq = 0
    placement: str = ""
    v: Literal[1] = 1

    def __post_init__(self) -> None:
        check_segment("device", self.device)
        if self.kind not in KINDS:
            raise SchemaError("kind", f"{self.kind!r} is not one of {', '.join(KINDS)}")
        if self.state not in STATES:
            raise SchemaError("state", f"{self.state!r} is not one of {', '.join(STATES)}")
        check_number("t", self.t, positive=True)
        check_text("reason", self.reason, limit=200, empty=True)
        _check_unicode("reason", self.reason)
        if self.boot is not None:
            check_ident("boot", self.boot)
        check_int("rejects", self.rejects)
        if self.placement:
            check_segment("placement", self.placement)

    def encode(self) -> bytes:
        return _encode(self)


MAX_LIVE_ROWS = 64
MAX_LIVE_VALUE = 1e4
MAX_LIVE_SPAN_S = 10.0
"""No drawn value (cm, kg, degrees) is larger: beyond, it comes from nonsense loads."""
LIVE_COLUMNS: dict[str, tuple[str, ...]] = {
    "board": ("t", "ml", "ap", "load"), "imu": ("t", "pitch", "roll")}
"""A live frame's columns by kind: ``t`` device time (s); a board's centre of pressure
``ml`` (+right) and ``ap`` (+forward) in cm and its total ``load`` in kg; an IMU's trunk
``pitch`` (+forward) and ``roll`` (+right) in degrees."""


class LiveFrame(msgspec.Struct, frozen=True):
    """What a screen draws of one device since its previous frame: a few points, fresh.

    Published by the ingest at QoS 0 every few tens of milliseconds, computed there once
    with the session engine's own functions (``analysis.cop``, ``analysis.imu``); never
    stored. ``seq``, ``t_dev`` and ``t_host`` are those of the newest sample the frame
    covers; the host time of a row is ``t_host + (t - t_dev)``. ``null`` marks a value
    that cannot be drawn (the centre of pressure while nobody stands on the board).
    ``ellipse`` (boards): the 95 % prediction ellipse of the last 10 s of centre of
    pressure as ``[cx, cy, semi_major, semi_minor, angle_rad]`` (cm), ``null`` while there is none.
    """

    device: str
    kind: Kind
    boot: str
    seq: Seq
    t_dev: Finite
    t_host: Positive
    columns: tuple[str, ...] = msgspec.field(name="cols")
    rows: Annotated[tuple[tuple[float | None, ...], ...],
                    Meta(min_length=1, max_length=MAX_LIVE_ROWS)]
    ellipse: tuple[float, float, float, float, float] | None = None
    v: Literal[1] = 1

    def __post_init__(self) -> None:
        try:
            _check_header(self.device, self.kind, self.boot, self.columns)
        except TypeError:
            _check_header.__wrapped__(self.device, self.kind, self.boot, self.columns)
        check_int("seq", self.seq)
        check_number("t_dev", self.t_dev)
        check_number("t_host", self.t_host, positive=True)
        wanted = LIVE_COLUMNS[self.kind]
        if self.columns != wanted:
            raise SchemaError("cols", f"a {self.kind} frame has the columns "
                                      f"{', '.join(wanted)}")
        if not 1 <= len(self.rows) <= MAX_LIVE_ROWS:
            raise SchemaError("rows", f"expected 1–{MAX_LIVE_ROWS} rows")
        for i, row in enumerate(self.rows):
            if not isinstance(row, tuple) or len(row) != len(wanted):
                raise SchemaError(f"rows[{i}]", f"expected {len(wanted)} values")
            for j, value in enumerate(row):
                if value is None and j > 0:
                    continue
                if not _drawable(value, limit=math.inf if j == 0 else MAX_LIVE_VALUE):
                    raise SchemaError(f"rows[{i}][{j}]", f"{value!r} is not a finite number"
                                      + ("" if j == 0 else f" within ±{MAX_LIVE_VALUE:g}"))
            if not -MAX_LIVE_SPAN_S <= row[0] - self.t_dev <= 1e-9:  # type: ignore[operator]
                raise SchemaError(f"rows[{i}][0]", f"time {row[0]!r} is not within "
                                  f"{MAX_LIVE_SPAN_S:g} s before t_dev")
        if self.ellipse is not None:
            for k, value in enumerate(self.ellipse):
                if not _drawable(value, limit=MAX_LIVE_VALUE):
                    raise SchemaError(f"ellipse[{k}]", f"{value!r} is not a finite number "
                                                       f"within ±{MAX_LIVE_VALUE:g}")

    def host_times(self) -> list[float]:
        offset = self.t_host - self.t_dev
        return [float(row[0]) + offset for row in self.rows]  # type: ignore[arg-type]

    def encode(self) -> bytes:
        return _encode(self)


def _drawable(value: object, *, limit: float) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and abs(value) <= limit
    except OverflowError:
        return False


# Required keys of an event's ``data`` for each type, with their checks.
_EVENT_FIELDS: dict[str, dict[str, str]] = {
    "session_start": {"child": "ident"},
    "session_end": {},
    "set_start": {"exercise": "ident", "surface": "segment", "support": "segment",
                  "planned_reps": "count"},
    "set_end": {},
    "rep": {"delta": "delta", "source": "source"},
    "tag": {"tag": "segment"},
    "note": {"text": "text"},
}


class Event(msgspec.Struct, frozen=True):
    """A session event. ``id`` is unique per event, so every consumer can drop repeats."""

    type: str
    t: Positive
    session: Ident | None = None
    set: Ident | None = None
    author: Ident | None = None
    data: dict[str, Any] = {}
    id: Ident = msgspec.field(default_factory=lambda: uuid.uuid4().hex)
    v: Literal[1] = 1

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise SchemaError("type", f"{self.type!r} is not one of {', '.join(EVENT_TYPES)}")
        check_number("t", self.t, positive=True)
        check_ident("id", self.id)
        for name in ("session", "set", "author"):
            value = getattr(self, name)
            if value is not None:
                check_ident(name, value)
        if not isinstance(self.data, dict):
            raise SchemaError("data", "expected an object")
        _check_data(self.data)
        for key, check in _EVENT_FIELDS[self.type].items():
            _check_event_value(self.type, f"data.{key}", self.data.get(key), check)

    def encode(self) -> bytes:
        return _encode(self)


def _check_event_value(kind: str, name: str, value: Any, check: str) -> None:
    if value is None:
        raise SchemaError(name, f"missing (required for {kind})")
    if check == "ident":
        check_ident(name, value)
    elif check == "segment":
        check_segment(name, value)
    elif check == "count":
        check_int(name, value, minimum=0)
    elif check == "delta" and (value not in (1, -1) or isinstance(value, bool)):
        raise SchemaError(name, f"must be +1 or -1, got {value!r}")
    elif check == "source" and value not in ("auto", "manual"):
        raise SchemaError(name, f"must be 'auto' or 'manual', got {value!r}")
    elif check == "text":
        check_text(name, value, limit=MAX_TEXT)


def _check_unicode(name: str, value: object) -> None:
    """Text JSON can spell (``"\\ud800"``) but UTF-8, and so the store, cannot hold."""
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise SchemaError(name, "text with a lone surrogate (not valid Unicode)") from None


def _check_data(data: dict[str, Any]) -> None:
    """An event's ``data`` as the store keeps it (a JSON column): at most
    :data:`MAX_DATA_DEPTH` levels, finite numbers, integers within 64 bits, valid text."""
    for key, value in data.items():
        name = f"data.{key}" if len(key) <= 40 and key.isascii() else "data"
        stack: list[tuple[object, int]] = [(key, 1), (value, 1)]
        while stack:
            item, depth = stack.pop()
            if isinstance(item, str):
                _check_unicode(name, item)
            elif isinstance(item, float) and not math.isfinite(item):
                raise SchemaError(name, f"{item!r} is not a finite number")
            elif isinstance(item, int) and not -MAX_SEQ - 1 <= item <= MAX_SEQ:
                raise SchemaError(name, "a whole number beyond 64 bits")
            elif isinstance(item, dict | list) and depth >= MAX_DATA_DEPTH:
                raise SchemaError(name, f"nested deeper than {MAX_DATA_DEPTH} levels")
            elif isinstance(item, dict):
                stack.extend((part, depth + 1) for pair in item.items() for part in pair)
            elif isinstance(item, list):
                stack.extend((part, depth + 1) for part in item)


_ENCODER = msgspec.json.Encoder()


def _encode(message: msgspec.Struct) -> bytes:
    return _ENCODER.encode(message)


Message = SampleBatch | DeviceStatus | Event
"""The messages that are stored (a live frame never is)."""
