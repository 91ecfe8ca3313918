from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.cop import cop_from_loads
from ingest.devices.base import BOARD_COLUMNS, IMU_COLUMNS, DeviceUnavailable, Reading
from ingest.devices.board import BoardGeometry, cop_from_corners, corners_from_cop
from ingest.devices.common import ConfigError, ParseError
from ingest.devices.replayer import (
    BdsFileConfig,
    CsvFileConfig,
    FileReplay,
    bds_source,
    csv_layout,
    csv_source,
    parse_bds_line,
    parse_csv_line,
)
from tests.ingest.devices.fakes import FakeClock

DATA = Path(__file__).parent / "data"
BDS = DATA / "BDS00001_first5s.txt"
FUSION = DATA / "fusion_first3s.csv"
G = 9.80665


def read_all(source: FileReplay, calls: int = 100) -> list[Reading]:
    out: list[Reading] = []
    for _ in range(calls):
        got = source.read(0.0)
        if not got and source.finished:
            break
        out += got
    return out


def bds_table(path: Path = BDS) -> np.ndarray:
    return np.loadtxt(path, skiprows=1)


# ----------------------------------------------------------------------------- BDS


def test_bds_replays_as_a_board_whose_cop_is_the_files_cop() -> None:
    source = bds_source(BdsFileConfig(device="plate-1", path=str(BDS), speed=0))
    source.setup()
    readings = read_all(source)
    table = bds_table()
    loads = np.array([r.values for r in readings])
    assert (source.kind, source.columns, source.placement) == ("board", BOARD_COLUMNS, "under-feet")
    assert len(readings) == len(table)
    assert source.rejects == 0
    assert [r.t_dev for r in readings] == pytest.approx(table[:, 0].tolist())
    total, ap, ml = cop_from_corners(loads)
    np.testing.assert_allclose(total, table[:, 3] / G, rtol=1e-12)
    np.testing.assert_allclose(ap, table[:, 7], atol=1e-9)  # COPx: antero-posterior
    np.testing.assert_allclose(ml, table[:, 8], atol=1e-9)  # COPy: medio-lateral
    assert loads.min() > 0  # a real board never reads a negative corner here
    assert source.period == pytest.approx(0.01)


def test_bds_cop_agrees_with_the_analysis_package() -> None:
    source = bds_source(BdsFileConfig(device="plate-1", path=str(BDS), speed=0))
    source.setup()
    loads = np.array([r.values for r in read_all(source)])
    ml, ap, valid = cop_from_loads(*loads.T)
    table = bds_table()
    assert valid.all()
    np.testing.assert_allclose(ap, table[:, 7], atol=1e-9)
    np.testing.assert_allclose(ml, table[:, 8], atol=1e-9)


def test_bds_on_another_board_geometry_keeps_the_cop() -> None:
    cfg = BdsFileConfig(device="plate-1", path=str(BDS), speed=0, width_cm=50, length_cm=30)
    source = bds_source(cfg)
    source.setup()
    loads = np.array([r.values for r in read_all(source)])
    _, ap, ml = cop_from_corners(loads, BoardGeometry(50, 30))
    np.testing.assert_allclose(ap, bds_table()[:, 7], atol=1e-9)


def test_bad_bds_rows_are_counted_and_skipped(tmp_path: Path) -> None:
    rows = BDS.read_bytes().splitlines()
    bad = [
        rows[0],
        rows[1],
        b"0.020\t-1.6\t-3.7",  # too few fields
        b"0.030\tx\t-3.7\t538.2\t5.3\t42.9\t-0.5\t-7.9\t0.9",  # not a number (unused column)
        b"0.040\t-1.6\t-3.7\t-5.0\t5.3\t42.9\t-0.5\t-7.9\t0.9",  # nobody on the plate
        b"0.050\t-1.6\t-3.7\t538.2\t5.3\t42.9\t-0.5\t-30.0\t0.9",  # COP off the board
        rows[1],  # time does not increase
        b"\xff\xfe\x00",
        b"",
        rows[5],
    ]
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\r\n".join(bad))
    source = bds_source(BdsFileConfig(device="plate-1", path=str(path), speed=0))
    source.setup()
    readings = read_all(source)
    assert [r.t_dev for r in readings] == pytest.approx([0.01, 0.05])
    assert source.rejects == 6


def test_a_file_that_is_not_bds_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DeviceUnavailable, match="not a BDS file"):
        bds_source(BdsFileConfig(device="plate-1", path=str(path))).setup()


def test_a_missing_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DeviceUnavailable, match="cannot read"):
        bds_source(BdsFileConfig(device="plate-1", path=str(tmp_path / "none.txt"))).setup()


def test_reading_before_setup_is_unavailable() -> None:
    with pytest.raises(DeviceUnavailable, match="not set up"):
        bds_source(BdsFileConfig(device="plate-1", path=str(BDS))).read(0.0)


# ----------------------------------------------------------------------------- pacing


def test_real_time_replay_hands_out_what_is_due() -> None:
    clock = FakeClock()
    source = bds_source(
        BdsFileConfig(device="plate-1", path=str(BDS)), clock=clock, sleep=clock.sleep
    )
    source.setup()
    first = source.read(0.5)
    assert [r.t_dev for r in first] == pytest.approx([0.01])  # the first row is due at once
    clock.advance(1.0)
    assert len(source.read(0.5)) == 100  # rows 0.02 … 1.01 s
    assert source.read(0.0) == []
    assert clock.sleeps == []


def test_speed_ten_replays_ten_seconds_of_file_per_second() -> None:
    clock = FakeClock()
    cfg = BdsFileConfig(device="plate-1", path=str(BDS), speed=10)
    source = bds_source(cfg, clock=clock, sleep=clock.sleep)
    source.setup()
    got: list[Reading] = []
    while clock.now < 1000.3:
        got += source.read(0.05)
    assert len(got) == pytest.approx(300, abs=6)  # 0.3 s of wall time → 3 s of file
    assert max(clock.sleeps) <= 0.05  # never blocks longer than asked


def test_loop_replays_again_with_a_new_boot() -> None:
    cfg = BdsFileConfig(device="plate-1", path=str(BDS), speed=0, loop=True)
    source = bds_source(cfg)
    source.setup()
    boots = set()
    times: list[float] = []
    while len(times) < 1200:
        readings = source.read(0.0)
        boots.add(source.boot)
        times += [r.t_dev for r in readings]
    assert len(boots) >= 3
    assert times[500] == pytest.approx(0.01)  # second pass starts at the file's start


def test_end_of_file_without_loop_returns_nothing() -> None:
    clock = FakeClock()
    cfg = BdsFileConfig(device="plate-1", path=str(BDS), speed=0)
    source = bds_source(cfg, clock=clock, sleep=clock.sleep)
    source.setup()
    read_all(source)
    assert source.finished
    assert source.read(0.2) == []
    assert clock.sleeps[-1] == 0.2  # waits politely instead of spinning


# ----------------------------------------------------------------------------- CSV


def fusion_config(**kwargs: object) -> CsvFileConfig:
    names = {
        "ax": "Accelerometer X (g)",
        "ay": "Accelerometer Y (g)",
        "az": "Accelerometer Z (g)",
        "gx": "Gyroscope X (deg/s)",
        "gy": "Gyroscope Y (deg/s)",
        "gz": "Gyroscope Z (deg/s)",
    }
    options: dict[str, object] = {
        "device": "imu-trunk",
        "path": str(FUSION),
        "kind": "imu",
        "time_column": "Time (s)",
        "file_columns": [names[c] for c in IMU_COLUMNS],
        "speed": 0,
    }
    options.update(kwargs)
    return CsvFileConfig(**options)  # type: ignore[arg-type]


def test_csv_replays_an_imu_recording_with_mapped_columns() -> None:
    source = csv_source(fusion_config())
    source.setup()
    readings = read_all(source)
    assert (source.kind, source.columns) == ("imu", IMU_COLUMNS)
    assert len(readings) == 300
    assert source.rejects == 0
    assert readings[0].t_dev == 0.0
    assert readings[1].values == pytest.approx(
        (0.001496836, -0.01803474, 0.9990417, 0.01654156, -0.3308571, 0.04700107)
    )
    accel = np.array([r.values[:3] for r in readings])
    assert np.linalg.norm(accel, axis=1).mean() == pytest.approx(1.0, abs=0.02)


def test_csv_scales_convert_units() -> None:
    scales = [9.80665] * 3 + [1.0] * 3
    source = csv_source(fusion_config(scales=scales))
    source.setup()
    assert read_all(source)[1].values[2] == pytest.approx(0.9990417 * 9.80665)


def test_csv_board_file_with_semicolons_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "board.csv"
    path.write_text("t;fl;fr;bl;br\n0.00;4;4;5;5\n0.01;4;4;5\n0.02;4;x;5;5\n0.03;4;4;5;5\n")
    source = csv_source(CsvFileConfig(device="board-2", path=str(path), speed=0))
    source.setup()
    readings = read_all(source)
    assert [r.t_dev for r in readings] == [0.0, 0.03]
    assert readings[1].values == (4.0, 4.0, 5.0, 5.0)
    assert source.rejects == 2


def test_csv_missing_column_is_unavailable_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "board.csv"
    path.write_text("t,fl,fr,bl\n0,1,2,3\n")
    with pytest.raises(DeviceUnavailable, match="br"):
        csv_source(CsvFileConfig(device="board-2", path=str(path))).setup()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "force"}, "kind"),
        ({"columns": ["fl", "Bad Name"]}, "columns"),
        ({"file_columns": ["a", "b"]}, "file_columns"),
        ({"scales": [1, 1]}, "scales"),
        ({"delimiter": "|"}, "delimiter"),
        ({"speed": -1}, "speed"),
        ({"device": "Board"}, "device"),
    ],
)
def test_bad_csv_config_names_the_field(kwargs: dict[str, object], field: str) -> None:
    options: dict[str, object] = {"device": "board-2", "path": "x.csv"}
    options.update(kwargs)
    with pytest.raises(ConfigError, match=field):
        CsvFileConfig(**options)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- pure parts


@given(st.binary(max_size=200))
def test_bds_parser_raises_only_parse_error(line: bytes) -> None:
    try:
        frame = parse_bds_line(line)
    except ParseError:
        return
    assert len(frame.values) == 4


@given(
    total=st.floats(min_value=0.5, max_value=150),
    ap=st.floats(min_value=-11.9, max_value=11.9),
    ml=st.floats(min_value=-21.65, max_value=21.65),
)
def test_corner_split_round_trips_and_stays_non_negative(
    total: float, ap: float, ml: float
) -> None:
    loads = corners_from_cop(total, ap, ml)
    assert loads.min() >= -1e-9
    t, a, m = cop_from_corners(loads)
    assert (float(t), float(a), float(m)) == pytest.approx((total, ap, ml), abs=1e-9)


@given(st.binary(max_size=120))
def test_csv_parser_raises_only_parse_error(line: bytes) -> None:
    cfg = CsvFileConfig(device="board-2", path="x.csv")
    layout = csv_layout(b"t,fl,fr,bl,br", cfg)
    try:
        frame = parse_csv_line(line, layout)
    except ParseError:
        return
    assert len(frame.values) == 4
