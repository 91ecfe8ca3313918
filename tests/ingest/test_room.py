"""The room file: a clinic's mistakes are all listed with their line, and a good file
gives sources reading with the file's port, column map and calibration."""

from __future__ import annotations

import argparse
import textwrap
import threading
import time
from pathlib import Path

import pytest

from dmi_live import ingest_cli
from dmi_live.settings import BrokerSettings, Settings
from ingest.devices.base import BOARD_COLUMNS
from ingest.room import Problem, RoomError, check_room, load_room, summary
from tests.conftest import RunningBroker
from tests.ingest.devices.fakes import PtyDevice, read_until
from tests.ingest.test_forwarder import Listener
from tests.record.test_recorder import wait_until

EXAMPLE = Path(__file__).parents[2] / "examples" / "room.toml"

BASE = """\
site = "clinic-north"
room = "room-2"

[[devices]]
id = "board-1"
kind = "board"
protocol = "hx711"
port = "loop://"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "room.toml"
    path.write_text(textwrap.dedent(text))
    return path


def marked_line(text: str) -> int:
    """The 1-based number of the line marked ``# <-`` in ``text``."""
    [number] = [i for i, line in enumerate(textwrap.dedent(text).splitlines(), 1) if "# <-" in line]
    return number


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


# ----------------------------------------------------------------------------- the example


def test_the_example_room_file_is_valid_and_describes_a_real_clinic_room() -> None:
    problems = check_room(EXAMPLE)
    assert errors(problems) == []
    text = EXAMPLE.read_text().splitlines()
    for warning in problems:  # only "not plugged in now" warnings, on the port lines
        assert warning.where.endswith(".port")
        assert text[warning.line - 1].startswith("port = ")
    room = load_room(EXAMPLE)
    assert (room.site, room.room) == ("clinic-north", "room-2")
    assert [(d.ids[0], d.kind, d.placement, d.protocol, d.port) for d in room.devices] == [
        ("board-1", "board", "under-feet", "hx711", "/dev/ttyUSB0"),
        ("imu-trunk", "imu", "trunk", "imu-csv", "/dev/rfcomm0"),
        ("imu-pelvis", "imu", "pelvis", "imu-csv", "/dev/ttyACM0"),
    ]
    assert [d.baudrate for d in room.devices] == [115200, 115200, 230400]
    assert room.broker.overrides() == {"host": "127.0.0.1", "port": 1883}
    assert room.spool_max_messages == 500_000
    board = room.devices[0].config
    assert board.order == ("fr", "fl", "br", "bl")
    assert board.scales[3] == -21502.0
    assert [s.kind for s in room.sources()] == ["board", "imu", "imu"]
    assert summary(room)[0] == "site clinic-north, room room-2: 3 devices"


# ----------------------------------------------------------------------------- mistakes


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (BASE + 'baudrate = 0  # <-\n', "devices[0].baudrate", "whole number of bits/s > 0"),
        (BASE + 'baud = 9600  # <-\n', "devices[0].baud", "did you mean 'baudrate'?"),
        (BASE + 'columns = ["fr", "fl", "br", "br"]  # <-\n', "devices[0].columns",
         "expected each of fl, fr, bl, br once"),
        (BASE + '[devices.calibration]\noffsets = [1, 2, 3]  # <-\n',
         "devices[0].calibration.offsets", "expected 4 numbers"),
        (BASE + '[devices.calibration]\nscale = [1, 2, 3, 4]  # <-\n',
         "devices[0].calibration.scale", "did you mean 'scales'?"),
        (BASE + 'placement = "trunk"  # <-\n', "devices[0].placement",
         "not a placement for a board"),
        (BASE.replace('protocol = "hx711"', 'protocol = "hx712"  # <-'), "devices[0].protocol",
         "unknown protocol 'hx712'"),
        (BASE.replace('kind = "board"', 'kind = "imu"  # <-\nplacement = "head"'),
         "devices[0].kind", "reads board devices, not 'imu'"),
        (BASE.replace('port = "loop://"', 'port = "sockett://x:1"  # <-'), "devices[0].port",
         "not a port URL pyserial knows"),
        (BASE.replace('id = "board-1"', 'id = "Board 1"  # <-'), "devices[0].id",
         "not a valid device id"),
        (BASE.replace('id = "board-1"\n', "").replace("[[devices]]", "[[devices]]  # <-"),
         "devices[0]", "missing key 'id'"),
        (BASE.replace('port = "loop://"\n', "").replace("[[devices]]", "[[devices]]  # <-"),
         "devices[0]", "missing key 'port'"),
        (BASE + 'url = "loop://"  # <-\n', "devices[0].url", "write port instead of url"),
        (BASE + '[[devices]]\nid = "board-1"  # <-\nkind = "board"\nprotocol = "hx711"\n'
         'port = "loop://"\n', "devices[1].id", "duplicate device id 'board-1'"),
        (BASE + '[[devices]]\nid = "imu-1"\nkind = "imu"\nplacement = "pelvic"  # <-\n'
         'protocol = "imu-csv"\nport = "loop://"\n', "devices[1].placement",
         "not a placement for an IMU (trunk or pelvis or head)"),
        (BASE.replace('room = "room-2"', 'room = "Room 2"  # <-'), "room", "not a valid id"),
        (BASE + '[broker]\npassword = "secret"  # <-\n', "broker.password",
         "credentials belong in the dmi-live settings"),
        (BASE + '[spool]\nmax_messages = 5  # <-\n', "spool.max_messages", ">= 10"),
        (BASE + '[broker]\nport = 70000  # <-\n', "broker.port", "port number 1–65535"),
        ('colour = "blue"  # <-\n' + BASE, "colour", "unknown key"),
        (BASE.split("[[")[0] + '[devices]  # <-\nid = "board-1"\n', "devices",
         "must be [[devices]] tables"),
    ],
)
def test_each_mistake_is_reported_on_its_line(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    path = write(tmp_path, text)
    problems = errors(check_room(path))
    assert [(p.line, p.where) for p in problems] == [(marked_line(text), where)], problems
    assert message in problems[0].message
    with pytest.raises(RoomError) as raised:
        load_room(path)
    assert raised.value.problems == problems


def test_every_problem_of_a_file_is_listed_at_once_in_line_order(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        site = "clinic-north"
        room = "room-2"
        [[devices]]
        id = "board-1"
        kind = "board"
        protocol = "hx711"
        port = "loop://"
        baudrate = -1
        baud = 9600
        [[devices]]
        id = "board-1"
        kind = "imu"
        protocol = "imu-lines"
        port = "/dev/ttyS99"
        [[devices]]
        id = "imu-2"
        kind = "imu"
        placement = "head"
        protocol = "imu-csv"
        port = "/dev/ttyS99"
        """)
    problems = check_room(path)
    found = [(p.line, p.where, p.severity) for p in problems]
    assert found == [
        (8, "devices[0].baudrate", "error"),
        (9, "devices[0].baud", "error"),
        (10, "devices[1]", "error"),  # an IMU needs a placement
        (11, "devices[1].id", "error"),  # duplicate
        (13, "devices[1].protocol", "error"),
        (14, "devices[1].port", "warning"),  # not plugged in
        (20, "devices[2].port", "error"),  # the same port twice
        (20, "devices[2].port", "warning"),
    ]
    assert problems[0].format("room.toml").startswith("room.toml:8: devices[0].baudrate: ")
    assert problems[5].format("room.toml").startswith("room.toml:14: warning: devices[1].port:")


def test_a_toml_syntax_error_reports_tomllibs_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + 'baudrate = 115200\nperiod = = 0.01\n')
    [problem] = check_room(path)
    assert problem.line == 10
    assert problem.message.startswith("not valid TOML: ")


def test_a_missing_file_is_one_problem(tmp_path: Path) -> None:
    [problem] = check_room(tmp_path / "nope.toml")
    assert problem.format("nope.toml") == "nope.toml: no such file"


def test_a_multiline_array_does_not_confuse_the_line_index(tmp_path: Path) -> None:
    text = """\
        site = "clinic-north"
        room = "room-2"
        [[devices]]
        id = "wii-1"
        kind = "board"
        protocol = "wiiboard"
        port = "loop://"
        calibration = [
          [1, 2, 3],
          [1, 2, 3],
          [1, 2, 3],
          [3, 2, 1],
        ]
        period = -1  # <-
        """
    problems = check_room(write(tmp_path, text))
    assert [(p.line, p.where) for p in problems] == [
        (8, "devices[0].calibration[br]"),
        (marked_line(text), "devices[0].period"),
    ]


# ----------------------------------------------------------------------------- good files


def test_an_unplugged_device_is_a_warning_and_the_room_still_loads(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("loop://", str(tmp_path / "ttyUSB7")))
    room = load_room(path)
    [warning] = room.warnings
    assert (warning.severity, warning.line, warning.where) == ("warning", 8, "devices[0].port")
    assert "does not exist now" in warning.message


def test_a_device_read_through_the_room_file_uses_its_column_map_and_calibration(
    tmp_path: Path,
) -> None:
    device = PtyDevice(tmp_path / "ttyUSB0")
    path = write(tmp_path, f"""\
        site = "clinic-north"
        room = "room-2"
        [[devices]]
        id = "board-1"
        kind = "board"
        protocol = "hx711"
        port = "{device.link}"
        baudrate = 57600
        columns = ["fr", "fl", "br", "bl"]
        skip_first_line = false
        [devices.calibration]
        offsets = [100.0, 0.0, 0.0, 0.0]
        scales = [2.0, 1.0, 1.0, 1.0]
        """)
    assert check_room(path) == []
    [source] = load_room(path).sources()
    source.setup()
    try:
        device.write(b"1000,10,120,30,40\n")  # fr, fl, br, bl as sent
        [reading] = read_until(source, 1)
    finally:
        source.cleanup()
        device.unplug()
    assert (source.device, source.kind, source.columns) == ("board-1", "board", BOARD_COLUMNS)
    assert reading.values == (10.0, 10.0, 40.0, 30.0)  # fl = (120 - 100) / 2


def test_file_replayers_and_the_simulator_in_a_room_file(tmp_path: Path) -> None:
    (tmp_path / "imu.csv").write_text("time,AX,AY,AZ,GX,GY,GZ\n0,0,0,1,0,0,0\n")
    path = write(tmp_path, f"""\
        site = "clinic-north"
        room = "room-2"
        [[devices]]
        protocol = "simulator"
        seed = 3
        imu_id = "imu-sim"
        [[devices]]
        id = "imu-file"
        kind = "imu"
        placement = "pelvis"
        protocol = "csv-file"
        path = "{tmp_path / 'imu.csv'}"
        time_column = "time"
        columns = {{ ax = "AX", ay = "AY", az = "AZ", gx = "GX", gy = "GY", gz = "GZ" }}
        """)
    room = load_room(path)
    assert room.device_ids == ("board-1", "imu-sim", "imu-file")
    assert [(s.device, s.kind) for s in room.sources()] == [
        ("board-1", "board"), ("imu-sim", "imu"), ("imu-file", "imu")]
    assert room.devices[1].config.file_columns == ("AX", "AY", "AZ", "GX", "GY", "GZ")


def test_the_simulators_default_ids_count_as_duplicates(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + '[[devices]]\nprotocol = "simulator"\n')
    [problem] = check_room(path)
    assert (problem.line, problem.where) == (9, "devices[1].board_id")
    assert "duplicate device id 'board-1'" in problem.message


# ----------------------------------------------------------------------------- dmi-live ingest


def ingest_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dmi-live ingest")
    ingest_cli.configure(parser)
    return parser.parse_args(argv)


def test_check_prints_a_summary_of_a_good_room_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(site="clinic-north", rooms=("room-1", "room-2"))
    assert ingest_cli.run(ingest_args("--check", str(EXAMPLE)), settings) == 0
    out = capsys.readouterr().out
    assert f"{EXAMPLE}: OK — site clinic-north, room room-2: 3 devices" in out
    assert "differs" not in out
    assert "not in the settings" not in out
    assert "imu-pelvis: imu, pelvis, imu-csv on /dev/ttyACM0 at 230400 baud" in out


def test_check_warns_when_the_settings_would_not_carry_the_room(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert ingest_cli.run(ingest_args("--check", str(EXAMPLE)), Settings(site="demo")) == 0
    out = capsys.readouterr().out
    assert f"{EXAMPLE}: warning: site 'clinic-north' differs from the settings' site" in out
    assert f"{EXAMPLE}: warning: room 'room-2' is not in the settings' rooms" in out


def test_check_lists_every_problem_with_file_and_line_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, BASE + "baudrate = 0\nbaud = 9600\nport2 = 1\n")
    assert ingest_cli.run(ingest_args("--check", str(path)), Settings()) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{path}:9: devices[0].baudrate: expected a whole number")
    assert lines[1].startswith(f"{path}:10: devices[0].baud: unknown key")
    assert lines[2].startswith(f"{path}:11: devices[0].port2: unknown key")
    assert lines[3] == f"{path}: 3 errors"


def test_a_room_file_with_errors_does_not_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, BASE + "baudrate = 0\n")
    assert ingest_cli.run(ingest_args("--room", str(path)), Settings()) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{path}:9: devices[0].baudrate:")
    assert err[-1] == f"dmi-live ingest: error: {path} has problems (listed above)"


@pytest.mark.broker
def test_ingest_room_runs_the_room_files_devices_until_stopped(
    mosquitto: RunningBroker, site: str, tmp_path: Path
) -> None:
    device = PtyDevice(tmp_path / "ttyACM0")
    path = write(tmp_path, f"""\
        site = "{site}"
        room = "room-1"
        [broker]
        port = {mosquitto.port}
        [spool]
        max_messages = 1000
        [[devices]]
        id = "imu-pelvis"
        kind = "imu"
        placement = "pelvis"
        protocol = "imu-csv"
        port = "{device.link}"
        """)
    address = mosquitto.address("ingest")
    settings = Settings(site="elsewhere", data_dir=tmp_path / "data", broker=BrokerSettings(
        port=9, username=address.username, password=address.password))  # the file wins
    listener = Listener(mosquitto, site)
    stop = threading.Event()
    result: list[int] = []
    runner = threading.Thread(target=lambda: result.append(
        ingest_cli.run(ingest_args("--room", str(path)), settings, stop=stop)))
    runner.start()
    try:
        for i in range(1000):  # the IMU streams until its samples reach the broker
            device.write(f"{i * 10},0,0,1,0,0,0\n".encode())
            if len(listener.seqs()) > 2:
                break
            time.sleep(0.01)
        assert wait_until(lambda: len(listener.seqs()) > 2)
    finally:
        stop.set()
        runner.join(10)
        device.unplug()
    assert result == [0]
    assert wait_until(lambda: bool(listener.statuses) and listener.statuses[-1].state == "offline")
    assert listener.statuses[-1].reason == "ingest stopped"
    assert {b.device for b in listener.batches} == {"imu-pelvis"}
    assert (tmp_path / "data" / "spool" / "room-1.sqlite").exists()
    listener.close()


def test_batching_is_read_and_checked(tmp_path: Path) -> None:
    from ingest.room import check_room, load_room

    base = ('site = "demo"\nroom = "room-1"\n[[devices]]\nid = "board-1"\nkind = "board"\n'
            'protocol = "hx711"\nport = "loop://"\n')
    good = tmp_path / "good.toml"
    good.write_text(base + "[batching]\nsamples = 5\nmax_latency_ms = 50\n")
    room = load_room(good)
    assert (room.batching.batch_size, room.batching.max_latency) == (5, 0.05)
    bad = tmp_path / "bad.toml"
    bad.write_text(base + "[batching]\nsamples = 0\nmax_latency_ms = 1\nsize = 3\n")
    messages = {(p.line, p.where, p.message.split(" (")[0]) for p in check_room(bad)}
    assert (9, "batching.samples", "expected a whole number 1–1000, got 0") in messages
    assert (10, "batching.max_latency_ms", "expected milliseconds ≥ 5, got 1") in messages
    assert (11, "batching.size", "unknown key") in messages
