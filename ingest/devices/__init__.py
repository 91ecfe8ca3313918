"""Device sources: serial line protocols, file replayers and the simulated room.

``PROTOCOLS`` maps the protocol names used in a room file to a :class:`Protocol`: its
config dataclass and a constructor turning one config into the sources it provides (one,
or two for the simulator)::

    proto = PROTOCOLS["hx711"]
    cfg = proto.configure({"device": "board-1", "url": "/dev/ttyACM0", "scales": [21e3] * 4})
    sources = proto(cfg)

Every config dataclass is frozen, keyword-only and validates on creation (lists from TOML
are accepted where tuples are expected); errors are :class:`ConfigError` naming the key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ingest.devices.base import DeviceUnavailable, Reading, Source
from ingest.devices.common import ConfigError, Frame, ParseError
from ingest.devices.hx711 import Hx711Config, hx711_source
from ingest.devices.imu_lines import ImuLineConfig, imu_source
from ingest.devices.replayer import BdsFileConfig, CsvFileConfig, bds_source, csv_source
from ingest.devices.simulator import SimulatedRoom, SimulatorConfig, simulator_sources
from ingest.devices.wiiboard import WiiBoardConfig, wiiboard_source


@dataclass(frozen=True)
class Protocol:
    """A protocol name's config type and constructor: ``protocol(config) -> [Source, …]``."""

    name: str
    config: type
    build: Callable[[Any], list[Source]]

    def configure(self, options: Mapping[str, Any]) -> Any:
        """Build the config dataclass from room-file options; :class:`ConfigError` if wrong."""
        try:
            return self.config(**options)
        except TypeError as exc:  # unknown or missing keys
            raise ConfigError(f"{self.name}: {exc}") from None

    def __call__(self, cfg: Any) -> list[Source]:
        if not isinstance(cfg, self.config):
            raise ConfigError(
                f"{self.name}: expected a {self.config.__name__}, got {type(cfg).__name__}"
            )
        return self.build(cfg)


PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol("hx711", Hx711Config, lambda c: [hx711_source(c)]),
        Protocol("wiiboard", WiiBoardConfig, lambda c: [wiiboard_source(c)]),
        Protocol("imu-csv", ImuLineConfig, lambda c: [imu_source(c)]),
        Protocol("bds-file", BdsFileConfig, lambda c: [bds_source(c)]),
        Protocol("csv-file", CsvFileConfig, lambda c: [csv_source(c)]),
        Protocol("simulator", SimulatorConfig, simulator_sources),
    )
}

__all__ = [
    "PROTOCOLS",
    "BdsFileConfig",
    "ConfigError",
    "CsvFileConfig",
    "DeviceUnavailable",
    "Frame",
    "Hx711Config",
    "ImuLineConfig",
    "ParseError",
    "Protocol",
    "Reading",
    "SimulatedRoom",
    "SimulatorConfig",
    "Source",
    "WiiBoardConfig",
]
