"""Wire schema v1: what goes out comes back equal; every malformed payload is refused
with the name of the field at fault."""

from __future__ import annotations

import json

import pytest

from contract import (
    DeviceStatus,
    Event,
    SampleBatch,
    SchemaError,
    Topic,
    decode_batch,
    decode_event,
    decode_status,
    events_topic,
    parse_topic,
    samples_topic,
    status_topic,
    subscription,
)


def batch(**over: object) -> SampleBatch:
    fields: dict[str, object] = dict(
        device="board-1",
        kind="board",
        boot="b1",
        seq=40,
        t_dev=12.5,
        period=0.01,
        t_host=1_700_000_000.25,
        columns=("fl", "fr", "bl", "br"),
        rows=((4.1, 4.2, 4.3, 4.4), (4.0, 4.5, 4.2, 4.1)),
    )
    fields.update(over)
    return SampleBatch(**fields)  # type: ignore[arg-type]


def payload(**over: object) -> bytes:
    data = json.loads(batch().encode())
    for key, value in over.items():
        if value is ...:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data).encode()


def test_batch_round_trip_keeps_every_value() -> None:
    original = batch()
    assert decode_batch(original.encode()) == original


def test_batch_times_follow_the_period_and_host_offset() -> None:
    b = batch()
    assert b.device_times() == pytest.approx([12.5, 12.51])
    assert b.host_times() == pytest.approx([1_700_000_000.25, 1_700_000_000.26])
    assert b.last_seq == 41


def test_irregular_batch_uses_its_time_column() -> None:
    b = batch(columns=("t", "fl", "fr", "bl", "br"), rows=((12.5, 1, 2, 3, 4), (12.53, 1, 2, 3, 4)))
    assert b.host_times() == pytest.approx([1_700_000_000.25, 1_700_000_000.28])


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"v": 2}, "v"),
        ({"device": "Board 1"}, "device"),
        ({"device": ...}, "device"),
        ({"device": ["board-1"]}, "device"),
        ({"kind": {"is": "board"}}, "kind"),
        ({"boot": ["b1"]}, "boot"),
        ({"cols": ["fl", ["fr"], "bl", "br"]}, "cols[1]"),
        ({"kind": "scale"}, "kind"),
        ({"boot": ""}, "boot"),
        ({"seq": -1}, "seq"),
        ({"seq": 1.5}, "seq"),
        ({"t_dev": "soon"}, "t_dev"),
        ({"period": 0}, "period"),
        ({"t_host": None}, "t_host"),
        ({"cols": ["fl", "fl", "bl", "br"]}, "cols"),
        ({"cols": ["FL", "fr", "bl", "br"]}, "cols[0]"),
        ({"cols": "fl,fr"}, "cols"),
        ({"rows": []}, "rows"),
        ({"rows": [[1, 2, 3]]}, "rows[0]"),
        ({"rows": [[1, 2, 3, "x"]]}, "rows[0][3]"),
        ({"rows": [[1, 2, 3, True]]}, "rows[0][3]"),
        ({"rows": [[1, 2, 3, 4], 7]}, "rows[1]"),
    ],
)
def test_malformed_batch_names_the_field(over: dict[str, object], field: str) -> None:
    with pytest.raises(SchemaError) as err:
        decode_batch(payload(**over))
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("rows", "field"),
    [(((1.0, 2.0, float("inf"), 4.0),), "rows[0][2]"),
     (((float("inf"), float("-inf"), 1.0, 1.0),), "rows[0][0]"),
     (((1.0, 2.0, 3.0, 4.0), (1e308, 1e308, 1e308, float("nan"))), "rows[1][3]")],
)
def test_non_finite_rows_are_refused_by_name(rows: tuple, field: str) -> None:
    with pytest.raises(SchemaError) as err:
        batch(rows=rows)
    assert err.value.field == field


def test_huge_but_finite_values_are_kept() -> None:
    assert batch(rows=((1e308, 1e308, 1e308, 1e308),)).rows[0][0] == 1e308


def test_non_finite_values_are_refused() -> None:
    raw = payload().replace(b"4.1", b"NaN", 1)
    with pytest.raises(SchemaError, match=r"rows\[0\]\[0\]"):
        decode_batch(raw)


@pytest.mark.parametrize("literal", [b"Infinity", b"-Infinity", b"1e400", b"1" + b"0" * 400])
def test_values_beyond_the_float_range_are_refused_by_name(literal: bytes) -> None:
    raw = payload().replace(b"4.2", literal, 1)
    with pytest.raises(SchemaError) as err:
        decode_batch(raw)
    assert err.value.field == "rows[0][1]"


@pytest.mark.parametrize("raw", [b"", b"{", b"[1,2]", b"\xff\xfe", b'"text"'])
def test_garbage_is_not_json_object(raw: bytes) -> None:
    with pytest.raises(SchemaError) as err:
        decode_batch(raw)
    assert err.value.field == "payload"


def test_status_round_trip_and_bad_state() -> None:
    status = DeviceStatus(
        device="imu-trunk",
        kind="imu",
        state="stale",
        t=1_700_000_000.0,
        reason="no data for 1.2 s",
        boot="b7",
        rejects=3,
        placement="trunk",
    )
    assert decode_status(status.encode()) == status
    with pytest.raises(SchemaError) as err:
        decode_status(status.encode().replace(b'"stale"', b'"sleepy"'))
    assert err.value.field == "state"


def test_event_round_trip() -> None:
    event = Event(
        type="set_start",
        t=1_700_000_000.0,
        session="s-1",
        set="set-3",
        author="u-2",
        data={
            "exercise": "sit-to-stand",
            "surface": "foam-pad",
            "support": "pelvis",
            "planned_reps": 5,
        },
    )
    assert decode_event(event.encode()) == event


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("rep", {"delta": 2, "source": "manual"}, "data.delta"),
        ("rep", {"delta": 1, "source": "guess"}, "data.source"),
        ("rep", {"source": "manual"}, "data.delta"),
        (
            "set_start",
            {"exercise": "squat", "surface": "foam", "support": "knee"},
            "data.planned_reps",
        ),
        ("note", {"text": "   "}, "data.text"),
        ("session_start", {"child": "Emma Smith"}, "data.child"),
        ("party", {}, "type"),
    ],
)
def test_malformed_events_name_the_field(kind: str, data: dict[str, object], field: str) -> None:
    with pytest.raises(SchemaError) as err:
        Event(type=kind, t=1_700_000_000.0, data=data)
    assert err.value.field == field


def test_topics_round_trip_and_reject_wildcards() -> None:
    assert samples_topic("north", "room-1", "board-1") == "dmi/v1/north/room-1/dev/board-1/samples"
    assert parse_topic(status_topic("north", "room-1", "imu-trunk")) == Topic(
        "north", "room-1", "status", "imu-trunk"
    )
    assert parse_topic(events_topic("north", "room-2")) == Topic("north", "room-2", "events")
    assert subscription("north", "+", "samples") == "dmi/v1/north/+/dev/+/samples"
    for bad in (
        "dmi/v1/north/room-1/dev/+/samples",
        "dmi/v1/north/#",
        "other/v1/a/b/events",
        "dmi/v1/North/room-1/events",
        "dmi/v1/n/r/dev/d/frames",
    ):
        with pytest.raises(SchemaError):
            parse_topic(bad)


# ------------------------------------------- malformed but parseable: SchemaError, always

HUGE = b"1" + b"0" * 400  # beyond the float range
GIANT = b"9" * 5000  # beyond what Python turns into text by default (4,300 digits)
DEEP = b"[" * 100_000 + b"]" * 100_000
EVENT = b'{"v":1,"type":"note","t":1700000000.0,"id":"e-1","data":{"text":"hi"}}'
STATUS = b'{"v":1,"device":"board-1","kind":"board","state":"online","t":1700000000.0}'


def decoders() -> list[tuple[str, object]]:
    return [("batch", decode_batch), ("event", decode_event), ("status", decode_status)]


@pytest.mark.parametrize(("name", "raw"), [
    ("deep array", b'{"v":1,"x":' + DEEP + b"}"),
    ("deep object", b'{"v":1,"x":' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}"),
    ("giant version", b'{"v":' + GIANT + b"}"),
    ("giant field", b'{"v":1,"t":' + GIANT + b',"seq":' + GIANT + b"}"),
    ("top-level deep", DEEP),
])
def test_every_decoder_refuses_pathological_json_with_a_schema_error(name: str,
                                                                    raw: bytes) -> None:
    for kind, decode in decoders():
        with pytest.raises(SchemaError) as err:
            decode(raw)  # type: ignore[operator]
        # the decoder names the first part it cannot take: the payload, or a field
        assert err.value.field in ("payload", "v", "t", "seq", "device"), (name, kind,
                                                                          err.value)


@pytest.mark.parametrize(("raw", "field"), [
    (EVENT.replace(b"1700000000.0", HUGE), "t"),
    (EVENT.replace(b"1700000000.0", GIANT), "t"),  # thousands of digits
    (EVENT.replace(b'"hi"', b'"hi","n":' + GIANT), "data"),
    (EVENT.replace(b'"hi"', b'"hi","deep":' + b"[" * 900 + b"]" * 900), "data.deep"),
    (EVENT.replace(b'"hi"', b'"\\ud800 lone half of a pair"'), "data.text"),
    (b'{"v":1,"type":"set_start","t":1700000000.0,"id":"e-2","session":"s-1","set":"a",'
     b'"data":{"exercise":"squat","surface":"foam","support":"knee","planned_reps":'
     + HUGE + b"}}", "data.planned_reps"),
])
def test_malformed_but_parseable_events_name_the_field(raw: bytes, field: str) -> None:
    with pytest.raises(SchemaError) as err:
        decode_event(raw)
    assert err.value.field == field


@pytest.mark.parametrize(("over", "field"), [
    ({"t_dev": HUGE}, "t_dev"),
    ({"t_host": HUGE}, "t_host"),
    ({"period": HUGE}, "period"),
    ({"seq": HUGE}, "seq"),
    ({"seq": b"9223372036854775807"}, "seq"),  # the store keeps seq as a 64-bit integer
])
def test_malformed_but_parseable_batches_name_the_field(over: dict[str, bytes],
                                                        field: str) -> None:
    data = json.loads(payload())
    raw = json.dumps({**data, **dict.fromkeys(over, "@")}).encode()
    for key, literal in over.items():
        raw = raw.replace(f'"{key}": "@"'.encode(), f'"{key}": '.encode() + literal)
    with pytest.raises(SchemaError) as err:
        decode_batch(raw)
    assert err.value.field == field


@pytest.mark.parametrize(("raw", "field"), [
    (STATUS.replace(b"1700000000.0", HUGE), "t"),
    (STATUS.replace(b"}", b',"reason":"\\udc00"}'), "reason"),
    (STATUS.replace(b"}", b',"rejects":' + GIANT + b"}"), "rejects"),
])
def test_malformed_but_parseable_statuses_name_the_field(raw: bytes, field: str) -> None:
    with pytest.raises(SchemaError) as err:
        decode_status(raw)
    assert err.value.field == field
