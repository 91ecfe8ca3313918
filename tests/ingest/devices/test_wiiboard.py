from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.devices.base import BOARD_COLUMNS
from ingest.devices.common import ConfigError, ParseError
from ingest.devices.wiiboard import WiiBoardConfig, WiiFormat, counts_to_kg, parse_line

# per corner (fl, fr, bl, br): raw counts at 0, 17 and 34 kg
CAL = ((1000, 2700, 4400), (2000, 3700, 5400), (500, 2200, 3900), (1500, 3200, 4900))
FMT = WiiFormat(calibration=CAL)


def test_calibration_points_map_to_0_17_34_kg() -> None:
    for c0, c17, c34 in CAL:
        assert counts_to_kg(c0, c0, c17, c34) == 0
        assert counts_to_kg(c17, c0, c17, c34) == 17
        assert counts_to_kg(c34, c0, c17, c34) == 34


def test_interpolates_between_points_and_extrapolates_above_34_kg() -> None:
    assert counts_to_kg(1500, 1000, 2000, 4000) == 8.5  # first segment
    assert counts_to_kg(3000, 1000, 2000, 4000) == 25.5  # second segment, its own slope
    assert counts_to_kg(5000, 1000, 2000, 4000) == 42.5  # beyond 34 kg: second slope


def test_wii_report_order_is_the_default() -> None:
    # fields as the Wii reports them: top-right, bottom-right, top-left, bottom-left
    frame = parse_line(b"3700,1500,1000,500", FMT)
    fl, fr, bl, br = frame.values
    assert (fl, fr, bl, br) == (0.0, 17.0, 0.0, 0.0)


def test_configurable_order_and_timestamp() -> None:
    fmt = WiiFormat(calibration=CAL, order=["fl", "fr", "bl", "br"])
    frame = parse_line(b"42;2700;3700;2200;3200", fmt)
    assert frame.t_dev == pytest.approx(0.042)
    assert frame.values == (17.0, 17.0, 17.0, 17.0)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"3700,1500,1000", "got 3 fields"),
        (b"3700,1500,x,500", "fl count is not a number"),
        (b"3700,1500,1000,500,1,2", "got 6 fields"),
        (b"3700,1500,-2000,500", "fl load"),  # far below the 0 kg point
        (b"3700,1500,99999,500", "fl load"),  # beyond 300 kg
        (b"\xde\xad\xbe\xef", "expected 4 values"),
    ],
)
def test_malformed_lines(line: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_line(line, FMT)


@pytest.mark.parametrize(
    "calibration",
    [
        CAL[:3],
        ((1000, 1000, 4400), *CAL[1:]),
        ((1000, 2700, 2000), *CAL[1:]),
        ((1000, 2700), *CAL[1:]),
        "1000",
    ],
)
def test_calibration_must_be_three_increasing_counts_per_corner(calibration: object) -> None:
    with pytest.raises(ConfigError, match="calibration"):
        WiiFormat(calibration=calibration)  # type: ignore[arg-type]


def test_device_config_from_toml_like_lists() -> None:
    cfg = WiiBoardConfig(device="wii-1", url="loop://", calibration=[list(c) for c in CAL])
    assert cfg.calibration == tuple(tuple(float(v) for v in c) for c in CAL)


@given(st.binary(max_size=100))
def test_arbitrary_bytes_parse_or_raise_parse_error(line: bytes) -> None:
    try:
        frame = parse_line(line, FMT)
    except ParseError:
        return
    assert len(frame.values) == 4


@given(st.lists(st.integers(min_value=0, max_value=40000), min_size=4, max_size=4))
def test_counts_give_increasing_kg_or_an_out_of_range_error(counts: list[int]) -> None:
    line = ",".join(str(c) for c in counts).encode()
    kg = [
        counts_to_kg(c, *CAL[BOARD_COLUMNS.index(corner)])
        for c, corner in zip(counts, FMT.order, strict=True)
    ]
    if not all(-2 <= k <= 300 for k in kg):
        with pytest.raises(ParseError, match="outside"):
            parse_line(line, FMT)
        return
    frame = parse_line(line, FMT)
    bigger = parse_line(",".join(str(c + 10) for c in counts).encode(), FMT)
    assert all(b > a for a, b in zip(frame.values, bigger.values, strict=True))
