"""Room files: checking one ``[[devices]]`` table and building its protocol config."""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import logging
import os
import re
from dataclasses import dataclass
from typing import Any

from contract import KINDS
from ingest.devices import PROTOCOLS, ConfigError, Source
from ingest.devices.common import DEVICE_ID
from ingest.room_lines import Path_, Problem, _Report, _where

log = logging.getLogger(__name__)

PLACEMENTS = {"board": ("under-feet",), "imu": ("trunk", "pelvis", "head")}
ROOM_KEYS = ("id", "kind", "placement", "protocol", "port", "baudrate", "columns", "calibration")
_COLUMN_KEY = {"hx711": "order", "wiiboard": "order", "imu-csv": "fields"}
"""The option a protocol's column map goes to (csv-file: _columns_and_calibration)."""
_RENAMED = {"device": "id", "url": "port", "order": "columns", "fields": "columns",
            "file_columns": "columns"}


@dataclass(frozen=True)
class DeviceEntry:
    """One ``[[devices]]`` table: ``config`` is the protocol's config dataclass; ``ids``
    the device ids it provides (two for the simulator)."""

    index: int
    line: int
    protocol: str
    config: Any
    ids: tuple[str, ...]
    kind: str = ""
    placement: str = ""
    port: str = ""
    baudrate: int | None = None

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS or not self.ids:
            raise ValueError(f"invalid device entry {self!r}")

    def sources(self) -> list[Source]:
        return PROTOCOLS[self.protocol](self.config)

    def describe(self) -> str:
        if self.protocol == "simulator":
            return f"{' and '.join(self.ids)}: simulator"
        where = f" on {self.port}" if self.port else ""
        baud = f" at {self.baudrate} baud" if self.baudrate else ""
        return f"{self.ids[0]}: {self.kind}, {self.placement}, {self.protocol}{where}{baud}"




_SIMULATOR_IDS = {"board_id": "board-1", "imu_id": "imu-trunk"}
_PLACEHOLDERS: dict[str, Any] = {"device": "x", "url": "loop://", "path": "x",
                                 "calibration": [[0, 1, 2]] * 4}
"""Stand-ins for missing required options, so configure() still checks the others."""


def _options(protocol: str) -> dict[str, bool]:
    """The protocol's config options: name → required."""
    return {
        f.name: f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        for f in dataclasses.fields(PROTOCOLS[protocol].config)
        if f.init
    }


class _Device:
    """Collects one ``[[devices]]`` table's options for the protocol's ``configure()``."""

    def __init__(self, index: int, table: dict[str, Any], report: _Report) -> None:
        self.at: Path_ = ("devices", index)
        self.table, self.report = table, report
        self.options: dict[str, Any] = {}
        self.origin: dict[str, Path_] = {}
        protocol = table.get("protocol")
        self.protocol = protocol if isinstance(protocol, str) and protocol in PROTOCOLS else ""
        self.fields = _options(self.protocol) if self.protocol else {}
        self.own = [k for k in self.fields if k not in (*_RENAMED, *ROOM_KEYS)]
        if protocol is None:
            report(self.at, f"missing key 'protocol' (one of {', '.join(PROTOCOLS)})")
        elif not self.protocol:
            report((*self.at, "protocol"),
                   f"unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")

    def put(self, name: str, value: Any, path: Path_) -> None:
        if name in self.options:
            first = self.report.index.line(self.origin[name])
            self.report(path, f"{name} is given twice (also line {first})")
        self.options[name], self.origin[name] = value, path

    def unknown(self, path: Path_) -> None:
        key = str(path[-1])
        close = difflib.get_close_matches(key, [*self.own, *ROOM_KEYS], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        self.report(path, f"unknown key for the {self.protocol} protocol ({hint}its options: "
                    f"{', '.join(self.own)})")


def _device(index: int, table: dict[str, Any], report: _Report) -> DeviceEntry | None:
    before = report.errors
    dev = _Device(index, table, report)
    at, protocol = dev.at, dev.protocol
    if protocol == "simulator":
        for key in ROOM_KEYS:
            if key in table and key != "protocol":
                report((*at, key), "not used by the simulator, which names its board and IMU "
                       "with board_id and imu_id")
    else:
        kind = _identity(dev)
        if protocol:
            _connection(dev)
            _columns_and_calibration(dev)
            if protocol == "csv-file" and kind:
                dev.put("kind", kind, (*at, "kind"))
    for key, value in table.items():
        if key in ROOM_KEYS or not protocol:
            continue
        if key in _RENAMED:
            report((*at, key), f"write {_RENAMED[key]} instead of {key}")
        elif key in dev.own:
            dev.put(key, value, (*at, key))
        else:
            dev.unknown((*at, key))
    for name, required in dev.fields.items():
        if required and name not in dev.options and name not in ("device", "url"):
            report(at, f"missing key {name!r} (the {protocol} protocol needs it)")
    if not protocol:
        if isinstance(table.get("port"), str):
            _check_port(table["port"], (*at, "port"), report)
        return None
    cfg = _configure(dev)
    return _entry(dev, cfg) if cfg is not None and report.errors == before else None


def _identity(dev: _Device) -> str:
    """Check id, kind and placement; return the kind ('' if wrong)."""
    table, at, report = dev.table, dev.at, dev.report
    device_id = table.get("id")
    if device_id is None:
        report(at, "missing key 'id' (the device's id, e.g. board-1 or imu-trunk)")
    elif not isinstance(device_id, str) or not DEVICE_ID.match(device_id):
        report((*at, "id"), f"{device_id!r} is not a valid device id "
               "(lowercase letters, digits, '-' or '_', at most 64)")
    else:
        dev.put("device", device_id, (*at, "id"))
    kind = table.get("kind")
    if kind is None or kind not in KINDS:
        report((*at, "kind") if kind else at, f"kind must be board or imu, got {kind!r}"
               if kind else "missing key 'kind' (board or imu)")
        return ""
    allowed = PLACEMENTS[kind]
    placement = table.get("placement", allowed[0] if kind == "board" else None)
    if placement is None:
        report(at, f"missing key 'placement': where the IMU is worn ({', '.join(allowed)})")
    elif placement not in allowed:
        what = "a board" if kind == "board" else "an IMU"
        report((*at, "placement"), f"{placement!r} is not a placement for {what} "
               f"({' or '.join(allowed)})")
    elif "placement" in dev.fields:
        dev.put("placement", placement, (*at, "placement"))
    return str(kind)


def _connection(dev: _Device) -> None:
    table, at, report = dev.table, dev.at, dev.report
    if "url" not in dev.fields:
        for key in ("port", "baudrate"):
            if key in table:
                report((*at, key), f"the {dev.protocol} protocol reads a file: give path, "
                       f"not {key}")
        return
    port = table.get("port")
    if port is None:
        report(at, "missing key 'port' (e.g. /dev/ttyUSB0, /dev/rfcomm0, socket://host:port)")
    elif not isinstance(port, str) or not port.strip():
        report((*at, "port"), f"expected a port name or URL, got {port!r}")
    else:
        dev.put("url", port, (*at, "port"))
        _check_port(port, (*at, "port"), report)
    if "baudrate" in table:
        baud = table["baudrate"]
        if isinstance(baud, bool) or not isinstance(baud, int) or baud <= 0:
            report((*at, "baudrate"), f"expected a whole number of bits/s > 0, got {baud!r}")
        else:
            dev.put("baudrate", baud, (*at, "baudrate"))


def _check_port(port: str, path: Path_, report: _Report) -> None:
    if "://" in port:
        scheme = port.split("://", 1)[0]
        if not re.fullmatch(r"[a-z0-9]+", scheme) or importlib.util.find_spec(
            f"serial.urlhandler.protocol_{scheme}"
        ) is None:
            report(path, f"{port!r}: not a port URL pyserial knows "
                   "(use a device path, socket://host:port, rfc2217://host:port or loop://)")
    elif not os.path.exists(port):
        report(path, f"{port} does not exist now (device unplugged? the ingest keeps "
               "trying to open it)", warning=True)


def _columns_and_calibration(dev: _Device) -> None:
    table, at, protocol = dev.table, dev.at, dev.protocol
    if "columns" in table:
        value, path = table["columns"], (*at, "columns")
        if protocol in _COLUMN_KEY:
            dev.put(_COLUMN_KEY[protocol], value, path)
        elif protocol == "csv-file" and isinstance(value, dict):  # {column = "file header"}
            dev.put("columns", tuple(value), path)
            dev.put("file_columns", tuple(value.values()), path)
        elif protocol == "csv-file":
            dev.put("columns", value, path)
        else:
            dev.report(path, f"the {protocol} protocol has a fixed column layout")
    if "calibration" in table:
        value, path = table["calibration"], (*at, "calibration")
        if isinstance(value, dict):
            for key, item in value.items():
                if key in dev.own or (key == "calibration" and "calibration" in dev.fields):
                    dev.put(key, item, (*path, key))
                else:
                    dev.unknown((*path, key))
        elif "calibration" in dev.fields:
            dev.put("calibration", value, path)
        else:
            dev.report(path, "expected a table of the protocol's calibration keys "
                       "(e.g. offsets and scales)")


_FIELD_MESSAGE = re.compile(r"^([a-z_]+)(\[[^\]]*\])?: (.*)$", re.S)


def _configure(dev: _Device) -> Any:
    """The protocol's config, or None after reporting every value it refuses (a refused
    option is reset to its default, or a stand-in, and the rest checked again)."""
    proto, report = PROTOCOLS[dev.protocol], dev.report
    options = {k: v for k, v in _PLACEHOLDERS.items() if dev.fields.get(k)} | dev.options
    failed = False
    for _ in range(len(options) + 1):
        try:
            cfg = proto.configure(options)
        except ConfigError as exc:
            failed = True
            text = str(exc).removeprefix(f"{dev.protocol}: ")
            match = _FIELD_MESSAGE.match(text)
            name = match[1] if match else ""
            if name in dev.origin and options.get(name) is dev.options.get(name):
                path = dev.origin[name]
                assert match is not None
                report.problems.append(Problem(report.index.line(path),
                                               _where(path) + (match[2] or ""), match[3]))
            elif name not in options:
                report(dev.at, text)
                return None
            if dev.fields.get(name):
                options[name] = _PLACEHOLDERS.get(name)
            else:
                del options[name]
            continue
        return None if failed else cfg
    return None


def _entry(dev: _Device, cfg: Any) -> DeviceEntry | None:
    sources = PROTOCOLS[dev.protocol](cfg)
    kind = dev.table.get("kind", "")
    kinds = {s.kind for s in sources}
    if dev.protocol != "simulator" and kinds != {kind}:
        dev.report((*dev.at, "kind"), f"the {dev.protocol} protocol reads "
                   f"{' and '.join(sorted(kinds))} devices, not {kind!r}")
        return None
    return DeviceEntry(
        index=int(dev.at[1]), line=dev.report.index.line(dev.at), protocol=dev.protocol,
        config=cfg, ids=tuple(s.device for s in sources), kind=kind,
        placement=dev.options.get("placement", ""),
        port=dev.options.get("url") or str(dev.options.get("path", "")),
        baudrate=getattr(cfg, "baudrate", None) if "url" in dev.fields else None,
    )
