from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.devices.common import ConfigError, Frame, ParseError
from ingest.devices.hx711 import Hx711Config, Hx711Format, parse_line

KG = Hx711Format()


def test_four_corner_loads_in_kg() -> None:
    assert parse_line(b"4.5,4.6,4.4,4.5", KG) == Frame(None, (4.5, 4.6, 4.4, 4.5))


def test_millisecond_timestamp_first_is_optional() -> None:
    frame = parse_line(b"123456,4.5,4.6,4.4,4.5", KG)
    assert frame.t_dev == pytest.approx(123.456)
    assert frame.values == (4.5, 4.6, 4.4, 4.5)


def test_semicolons_spaces_and_mixed_separators() -> None:
    assert parse_line(b" 10 ; 4.5;4.6 , 4.4; 4.5 ", KG).values == (4.5, 4.6, 4.4, 4.5)


def test_corner_order_tare_and_scale_give_kg_per_corner() -> None:
    fmt = Hx711Format(
        order=["br", "bl", "fr", "fl"],  # lists from TOML are fine
        offsets=[1000, 2000, 3000, 4000],  # fl, fr, bl, br
        scales=[100, 200, -100, 50],
    )
    # fields as sent: br, bl, fr, fl
    frame = parse_line(b"4250,2500,3000,1500", fmt)
    assert frame.values == pytest.approx((5.0, 5.0, 5.0, 5.0))


def test_small_negative_loads_after_tare_are_noise_and_kept() -> None:
    assert parse_line(b"-0.5,0,0,0", KG).values[0] == -0.5


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"", "expected 4 values"),
        (b"4.5,4.6,4.4", "got 3 fields"),
        (b"1,2,3,4,5,6", "got 6 fields"),
        (b"4.5,4.6,,4.5", "bl is not a number"),
        (b"4.5,abc,4.4,4.5", "fr is not a number"),
        (b"4.5,4.6,4.4,nan", "br is not a number"),
        (b"4.5,inf,4.4,4.5", "fr is not a number"),
        (b"4.5,1_0,4.4,4.5", "fr is not a number"),
        (b"0x10,1,1,1", "fl is not a number"),
        (b"4.5,4\xff.6,4.4,4.5", "fr is not a number"),
        (b"\x00\x01\x02\x03", "expected 4 values"),
        (b"-1,4.5,4.6,4.4,4.5", "timestamp is not an unsigned integer"),
        (b"1.5,4.5,4.6,4.4,4.5", "timestamp is not an unsigned integer"),
        (b"-3,0,0,0", "fl load (kg) = -3 is outside"),
        (b"0,0,0,301", "br load (kg) = 301 is outside"),
        (b"0,0,1e400,0", "bl is out of range"),
        (b"8388607,0,0,0", "outside"),
    ],
)
def test_malformed_lines_raise_parse_error_saying_what(line: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_line(line, KG)


def test_parse_error_shows_the_line() -> None:
    with pytest.raises(ParseError) as info:
        parse_line(b"4.5,abc,4.4,4.5", KG)
    assert "4.5,abc,4.4,4.5" in str(info.value)
    assert info.value.line == b"4.5,abc,4.4,4.5"


def test_limits_are_configurable() -> None:
    fmt = Hx711Format(min_kg=-10, max_kg=50)
    assert parse_line(b"-9,0,0,49", fmt).values == (-9.0, 0.0, 0.0, 49.0)
    with pytest.raises(ParseError):
        parse_line(b"0,0,0,51", fmt)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"order": ("fl", "fl", "bl", "br")}, "order"),
        ({"order": ("fl", "fr", "bl")}, "order"),
        ({"scales": (1, 1, 0, 1)}, "scales"),
        ({"scales": (1, 1, 1)}, "scales"),
        ({"offsets": (0, 0, 0, float("nan"))}, "offsets"),
        ({"offsets": "0000"}, "offsets"),
        ({"max_kg": 0}, "max_kg"),
        ({"min_kg": 1}, "min_kg"),
        ({"time_unit": -1}, "time_unit"),
    ],
)
def test_bad_format_config_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        Hx711Format(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"device": "Board 1", "url": "loop://"}, "device"),
        ({"device": "board-1", "url": ""}, "url"),
        ({"device": "board-1", "url": "loop://", "baudrate": 0}, "baudrate"),
        ({"device": "board-1", "url": "loop://", "banner": "("}, "banner"),
        ({"device": "board-1", "url": "loop://", "counter_bits": 4}, "counter_bits"),
        ({"device": "board-1", "url": "loop://", "scales": (0, 1, 1, 1)}, "scales"),
    ],
)
def test_bad_device_config_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        Hx711Config(**kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- fuzzing

corner = st.floats(min_value=-2, max_value=300, allow_nan=False).map(lambda v: round(v, 3))


@given(st.binary(max_size=120))
def test_arbitrary_bytes_parse_or_raise_parse_error(line: bytes) -> None:
    try:
        frame = parse_line(line, KG)
    except ParseError:
        return
    assert len(frame.values) == 4


@given(
    stamp=st.none() | st.integers(min_value=0, max_value=2**32 - 1),
    values=st.tuples(corner, corner, corner, corner),
    sep=st.sampled_from([b",", b";", b", ", b" ; "]),
)
def test_well_formed_lines_always_parse(
    stamp: int | None, values: tuple[float, ...], sep: bytes
) -> None:
    fields = [repr(v).encode() for v in values]
    if stamp is not None:
        fields.insert(0, str(stamp).encode())
    frame = parse_line(sep.join(fields), KG)
    assert frame.values == values
    assert frame.t_dev == (None if stamp is None else pytest.approx(stamp / 1000))
