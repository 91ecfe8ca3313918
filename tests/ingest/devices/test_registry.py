from __future__ import annotations

from pathlib import Path

import pytest

from ingest.devices import PROTOCOLS, ConfigError, SimulatorConfig
from ingest.devices.base import Source

DATA = Path(__file__).parent / "data"


def test_every_protocol_of_a_room_file_is_registered() -> None:
    assert set(PROTOCOLS) == {"hx711", "wiiboard", "imu-csv", "bds-file", "csv-file", "simulator"}


@pytest.mark.parametrize(
    ("name", "options", "kinds"),
    [
        (
            "hx711",
            {"device": "board-1", "url": "loop://", "order": ["fr", "fl", "br", "bl"]},
            ["board"],
        ),
        (
            "wiiboard",
            {"device": "wii-1", "url": "loop://", "calibration": [[1, 2, 3]] * 4},
            ["board"],
        ),
        ("imu-csv", {"device": "imu-trunk", "url": "loop://", "placement": "trunk"}, ["imu"]),
        ("bds-file", {"device": "plate-1", "path": str(DATA / "BDS00001_first5s.txt")}, ["board"]),
        ("csv-file", {"device": "imu-2", "path": "x.csv", "kind": "imu"}, ["imu"]),
        ("simulator", {"seed": 4, "board_id": "board-a", "imu_id": "imu-a"}, ["board", "imu"]),
    ],
)
def test_room_file_options_build_sources(
    name: str, options: dict[str, object], kinds: list[str]
) -> None:
    protocol = PROTOCOLS[name]
    sources = protocol(protocol.configure(options))
    assert all(isinstance(s, Source) for s in sources)
    assert [s.kind for s in sources] == kinds


def test_a_registered_serial_board_reads_over_loop() -> None:
    proto = PROTOCOLS["hx711"]
    (board,) = proto(
        proto.configure({"device": "board-1", "url": "loop://", "skip_first_line": False})
    )
    board.setup()
    assert board.port is not None  # type: ignore[attr-defined]
    board.port.write(b"10,1,2,3,4\n")  # type: ignore[attr-defined]
    readings = []
    for _ in range(20):
        readings += board.read(0.05)
        if readings:
            break
    assert readings[0].values == (1.0, 2.0, 3.0, 4.0)
    board.cleanup()


def test_unknown_or_missing_keys_are_config_errors_naming_the_protocol() -> None:
    with pytest.raises(ConfigError, match="hx711.*baud"):
        PROTOCOLS["hx711"].configure({"device": "board-1", "url": "loop://", "baud": 9600})
    with pytest.raises(ConfigError, match="wiiboard.*calibration"):
        PROTOCOLS["wiiboard"].configure({"device": "wii-1", "url": "loop://"})


def test_a_config_of_the_wrong_protocol_is_refused() -> None:
    with pytest.raises(ConfigError, match="expected a Hx711Config"):
        PROTOCOLS["hx711"](SimulatorConfig())
