from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.devices.base import IMU_COLUMNS, IMU_MAG_COLUMNS
from ingest.devices.common import ConfigError, ParseError
from ingest.devices.imu_lines import ImuFormat, ImuLineConfig, parse_line

DEFAULT = ImuFormat()


def test_default_line_is_ms_time_then_accel_g_then_gyro_dps() -> None:
    frame = parse_line(b"1250,0.01,-0.02,0.99,1.5,-2.5,0.25", DEFAULT)
    assert frame.t_dev == pytest.approx(1.25)
    assert frame.values == (0.01, -0.02, 0.99, 1.5, -2.5, 0.25)
    assert DEFAULT.columns == IMU_COLUMNS


def test_si_units_are_normalised_to_g_and_deg_per_s() -> None:
    fmt = ImuFormat(accel_unit="m/s2", gyro_unit="rad/s", time_unit=1.0)
    frame = parse_line(b"0.5;0;4.903325;9.80665;0;0;3.141592653589793", fmt)
    assert frame.t_dev == 0.5
    assert frame.values == pytest.approx((0.0, 0.5, 1.0, 0.0, 0.0, 180.0))


def test_field_order_ignored_fields_and_magnetometer() -> None:
    fmt = ImuFormat(
        fields=["t", "gx", "gy", "gz", "ax", "ay", "az", "mx", "my", "mz", "-"], time_unit=1.0
    )
    frame = parse_line(b"0.01,1,2,3,0.1,0.2,0.9,15.3,0.4,-41.1,99", fmt)
    assert fmt.columns == IMU_MAG_COLUMNS
    assert frame.values == (0.1, 0.2, 0.9, 1.0, 2.0, 3.0, 15.3, 0.4, -41.1)


def test_lines_without_time_are_allowed_when_configured() -> None:
    fmt = ImuFormat(fields=IMU_COLUMNS)
    assert parse_line(b"0,0,1,0,0,0", fmt).t_dev is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"1250,0.01,-0.02,0.99,1.5,-2.5", "expected 7 fields, got 6"),
        (b"1250,0.01,-0.02,0.99,1.5,-2.5,0.25,7", "expected 7 fields, got 8"),
        (b"1250,0.01,-0.02,0.99,1.5,-2.5,abc", "gz is not a number"),
        (b"t=1250,0,0,1,0,0,0", "time is not a number"),
        (b"-5,0,0,1,0,0,0", "time -5 is negative"),
        (b"1250,17,0,1,0,0,0", "ax = 17 is outside"),
        (b"1250,0,0,1,0,4001,0", "gy = 4001 is outside"),
        (b"1250,0,0,1,0,NaN,0", "gy is not a number"),
        (b"\x80\x81,0,0,1,0,0,0", "time is not a number"),
        (b"", "expected 7 fields, got 1"),
    ],
)
def test_malformed_lines(line: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_line(line, DEFAULT)


def test_magnetometer_beyond_range_is_rejected() -> None:
    fmt = ImuFormat(fields=("t", *IMU_MAG_COLUMNS))
    with pytest.raises(ParseError, match="mz"):
        parse_line(b"0,0,0,1,0,0,0,10,10,-6000", fmt)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fields": ("t", "ax", "ay", "az", "gx", "gy")}, "fields"),
        ({"fields": ("t", *IMU_COLUMNS, "mx")}, "fields"),
        ({"fields": ("t", *IMU_COLUMNS, "temp")}, "unknown"),
        ({"fields": ("t", "t", *IMU_COLUMNS)}, "more than once"),
        ({"fields": "t,ax"}, "fields"),
        ({"accel_unit": "mg"}, "accel_unit"),
        ({"gyro_unit": "rpm"}, "gyro_unit"),
        ({"max_accel_g": 0}, "max_accel_g"),
    ],
)
def test_bad_config_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        ImuFormat(**kwargs)  # type: ignore[arg-type]


def test_device_config_combines_port_and_format() -> None:
    cfg = ImuLineConfig(device="imu-trunk", url="loop://", gyro_unit="rad/s", placement="trunk")
    assert cfg.placement == "trunk"
    assert parse_line(b"0,0,0,1,0,0,1", cfg).values[5] == pytest.approx(180 / math.pi)


@given(st.binary(max_size=150))
def test_arbitrary_bytes_parse_or_raise_parse_error(line: bytes) -> None:
    try:
        frame = parse_line(line, DEFAULT)
    except ParseError:
        return
    assert len(frame.values) == 6


@given(st.text(alphabet="0123456789.,;-+eE \t", max_size=80))
def test_numeric_looking_junk_parses_or_raises_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_line(text.encode(), DEFAULT)
