"""The room file: a clinic room's devices and how to read them, in TOML a clinic can edit.

See ``examples/room.toml``. Top level: ``site`` and ``room`` (ids used in MQTT topics),
optional ``[broker]`` (host, port, tls, ca_file, protocol — credentials stay in the
settings) and ``[spool]`` (max_messages), and one ``[[devices]]`` table per device:

``id``, ``kind`` (board or imu), ``placement`` (under-feet for a board; trunk, pelvis or
head for an IMU), ``protocol`` (a name in :data:`ingest.devices.PROTOCOLS`), ``port``
(anything ``serial.serial_for_url`` opens: /dev/ttyUSB0, /dev/rfcomm0, socket://host:port),
``baudrate``, ``columns`` (the column map: what each field of a line is, in the order
sent) and ``calibration`` (a table of the protocol's calibration keys, e.g. offsets and
scales of an HX711 board; for a Wii-style board the counts list itself). Any other key
is one of the protocol's own options (period, banner, time_unit, …) and goes, like the
calibration keys, to the protocol's ``configure()``. File replayers take ``path``
instead of ``port``; the simulator names its two devices with ``board_id`` and ``imu_id``.

:func:`check_room` lists every problem with the line it is on; :func:`load_room` returns
a :class:`RoomConfig` or raises :class:`RoomError` carrying those problems. A plain
``/dev/…`` port that does not exist is only a warning: the device may be unplugged now.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.devices import Source
from ingest.devices.common import DEVICE_ID
from ingest.room_devices import (
    _SIMULATOR_IDS,
    PLACEMENTS,
    ROOM_KEYS,
    DeviceEntry,
    _device,
)
from ingest.room_lines import Problem, _LineIndex, _Report
from ingest.service import BatchPolicy

__all__ = ["PLACEMENTS", "ROOM_KEYS", "DeviceEntry", "Problem", "RoomConfig", "RoomError",
           "check_room", "load_room", "summary"]

log = logging.getLogger(__name__)


BROKER_KEYS = {"host": str, "port": int, "tls": bool, "ca_file": str, "protocol": int}
DEFAULT_SPOOL = 500_000


class RoomError(ValueError):
    """The room file has errors; ``problems`` lists them (warnings included)."""

    def __init__(self, path: str | Path, problems: list[Problem]) -> None:
        self.path, self.problems = str(path), problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("; ".join(p.format(path) for p in errors) or f"{path}: invalid")


@dataclass(frozen=True)
class BrokerOptions:
    """``[broker]`` overrides of the settings' broker; ``None`` keeps the setting."""

    host: str | None = None
    port: int | None = None
    tls: bool | None = None
    ca_file: str | None = None
    protocol: int | None = None

    def __post_init__(self) -> None:
        if self.port is not None and not 1 <= self.port <= 65535:
            raise ValueError(f"port must be 1–65535, got {self.port}")
        if self.protocol not in (None, 4, 5):
            raise ValueError(f"protocol must be 4 (MQTT 3.1.1) or 5, got {self.protocol}")

    def overrides(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass(frozen=True)
class RoomConfig:
    site: str
    room: str
    devices: tuple[DeviceEntry, ...]
    broker: BrokerOptions = field(default_factory=BrokerOptions)
    spool_max_messages: int = DEFAULT_SPOOL
    batching: BatchPolicy = field(default_factory=BatchPolicy)
    warnings: tuple[Problem, ...] = ()

    def __post_init__(self) -> None:
        for name in ("site", "room"):
            if not DEVICE_ID.match(getattr(self, name)):
                raise ValueError(f"{name} {getattr(self, name)!r} is not a valid id")
        ids = [i for d in self.devices for i in d.ids]
        if not ids or len(set(ids)) != len(ids):
            raise ValueError(f"device ids must be present and unique, got {ids}")
        if self.spool_max_messages < 10:
            raise ValueError("spool_max_messages must be >= 10")

    @property
    def device_ids(self) -> tuple[str, ...]:
        return tuple(i for d in self.devices for i in d.ids)

    def sources(self) -> list[Source]:
        """Fresh sources for every device (not yet opened)."""
        return [s for d in self.devices for s in d.sources()]


# ----------------------------------------------------------------------------- public


def check_room(path: str | Path) -> list[Problem]:
    """Every problem of the room file at ``path``, warnings included, in line order."""
    return _analyse(Path(path))[1]


def load_room(path: str | Path) -> RoomConfig:
    """The room file at ``path``; :class:`RoomError` if it has errors (warnings are kept
    in ``RoomConfig.warnings`` for the caller to show)."""
    room, problems = _analyse(Path(path))
    if room is None or any(p.severity == "error" for p in problems):
        raise RoomError(path, problems)
    return room


# ----------------------------------------------------------------------------- analysis


def _analyse(path: Path) -> tuple[RoomConfig | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(0, "", "no such file")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(0, "", f"cannot read ({exc})")]
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line = int(found[1]) if found else max(len(text.splitlines()), 1)
        message = re.sub(r"\s*\(at (line \d+, )?(column \d+|end of document)\)", "", str(exc))
        column = f" (column {found[2]})" if found else ""
        return None, [Problem(line, "", f"not valid TOML: {message}{column}")]
    report = _Report(_LineIndex(text))
    room = _room(doc, report)
    problems = sorted(report.problems, key=lambda p: (p.line, p.severity))
    if room is not None:
        room = dataclasses.replace(room, warnings=tuple(problems))
    return room, problems


def _room(doc: dict[str, Any], report: _Report) -> RoomConfig | None:
    for key in doc:
        if key not in ("site", "room", "broker", "spool", "batching", "devices"):
            report((key,), "unknown key (expected site, room, [broker], [spool], [[devices]])")
    names = {}
    for key in ("site", "room"):
        value = doc.get(key)
        if value is None:
            report((), f"missing key {key!r}: the {key} id this file describes")
        elif not isinstance(value, str) or not DEVICE_ID.match(value):
            report((key,), f"{value!r} is not a valid id (lowercase letters, digits, '-', '_')")
        else:
            names[key] = value
    broker = _broker(doc.get("broker", {}), report)
    spool = _spool(doc.get("spool", {}), report)
    batching = _batching(doc.get("batching", {}), report)
    raw = doc.get("devices")
    devices: list[DeviceEntry] = []
    if raw is None or raw == []:
        report((), "no devices: add a [[devices]] table for each device")
    elif not isinstance(raw, list) or not all(isinstance(d, dict) for d in raw):
        report(("devices",), "must be [[devices]] tables")
    else:
        entries = [_device(i, table, report) for i, table in enumerate(raw)]
        devices = [e for e in entries if e is not None]
        _check_unique(raw, report)
    if report.errors or broker is None or spool is None or batching is None:
        return None
    return RoomConfig(site=names["site"], room=names["room"], devices=tuple(devices),
                      broker=broker, spool_max_messages=spool, batching=batching)


def _batching(section: object, report: _Report) -> BatchPolicy | None:
    """``[batching] samples = 25, max_latency_ms = 500``: how stored samples are batched
    (10–25 a batch; the wall draws the live frames, which do not wait for a batch)."""
    if not isinstance(section, dict):
        report(("batching",), "must be a table")
        return None
    for key in section:
        if key not in ("samples", "max_latency_ms"):
            report(("batching", key), "unknown key (expected samples, max_latency_ms)")
    samples = section.get("samples", BatchPolicy().batch_size)
    latency = section.get("max_latency_ms", BatchPolicy().max_latency * 1000)
    ok = True
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= 1000:
        report(("batching", "samples"), f"expected a whole number 1–1000, got {samples!r}")
        ok = False
    if isinstance(latency, bool) or not isinstance(latency, int | float) or not latency >= 5:
        report(("batching", "max_latency_ms"), f"expected milliseconds ≥ 5, got {latency!r}")
        ok = False
    return BatchPolicy(batch_size=samples, max_latency=latency / 1000) if ok else None


def _broker(section: object, report: _Report) -> BrokerOptions | None:
    if not isinstance(section, dict):
        report(("broker",), "must be a table")
        return None
    values: dict[str, Any] = {}
    for key, value in section.items():
        expected = BROKER_KEYS.get(key)
        if key in ("username", "password"):
            report(("broker", key), "broker credentials belong in the dmi-live settings or "
                   "DMI_BROKER_USERNAME / DMI_BROKER_PASSWORD, not in the room file")
        elif expected is None:
            report(("broker", key), f"unknown key (expected {', '.join(BROKER_KEYS)})")
        elif isinstance(value, bool) is not (expected is bool) or not isinstance(value, expected):
            report(("broker", key), f"expected {expected.__name__}, got {value!r}")
        elif key == "port" and value not in range(1, 65536):
            report(("broker", key), f"must be a port number 1–65535, got {value}")
        elif key == "protocol" and value not in (4, 5):
            report(("broker", key), f"must be 4 (MQTT 3.1.1) or 5, got {value}")
        else:
            values[key] = value
    return BrokerOptions(**values) if len(values) == len(section) else None


def _spool(section: object, report: _Report) -> int | None:
    if not isinstance(section, dict):
        report(("spool",), "must be a table")
        return None
    for key in section:
        if key != "max_messages":
            report(("spool", key), "unknown key (expected max_messages)")
    value = section.get("max_messages", DEFAULT_SPOOL)
    if isinstance(value, bool) or not isinstance(value, int) or not value >= 10:
        report(("spool", "max_messages"), f"expected a whole number >= 10, got {value!r}")
        return None
    return value


def _check_unique(tables: list[dict[str, Any]], report: _Report) -> None:
    """Device ids and ports used twice (checked on the raw tables, so every one shows)."""
    ids: dict[str, int] = {}
    ports: dict[str, int] = {}
    for i, table in enumerate(tables):
        keys = ("board_id", "imu_id") if table.get("protocol") == "simulator" else ("id",)
        for key in keys:
            value = table.get(key, _SIMULATOR_IDS.get(key))
            if isinstance(value, str) and ids.setdefault(value, i) != i:
                first = ids[value]
                report(("devices", i, key), f"duplicate device id {value!r} (also devices"
                       f"[{first}], line {report.index.line(('devices', first))})")
        port = table.get("port")
        if isinstance(port, str) and port and not port.startswith("loop://"):
            same = os.path.realpath(port) if "://" not in port else port
            if ports.setdefault(same, i) != i:
                first = ports[same]
                report(("devices", i, "port"), f"{port} is also the port of devices[{first}] "
                       f"(line {report.index.line(('devices', first))}); one device per port")




def summary(room: RoomConfig) -> list[str]:
    """Human-readable lines describing ``room``."""
    lines = [f"site {room.site}, room {room.room}: {len(room.device_ids)} devices"]
    lines += [f"  {entry.describe()}" for entry in room.devices]
    return lines
