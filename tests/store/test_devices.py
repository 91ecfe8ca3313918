from __future__ import annotations

import time

import pytest

from store import Store
from store.errors import InvalidData
from store.rows import DeviceRow
from tests.store.factories import T0, batch


def test_device_set_up_round_trips(store: Store) -> None:
    calibration = {"fl": {"scale": 0.0123, "offset": -4.1}, "cells": [1, 2, 3, 4]}

    row = store.upsert_device("clinic-north", "room-1", "board-1", "board", "floor", calibration)

    expected = DeviceRow("board-1", "board", "clinic-north", "room-1", "floor", calibration)
    assert row == expected
    assert store.devices() == [expected]


def test_upserting_again_moves_the_device_and_keeps_its_calibration(store: Store) -> None:
    store.upsert_device("clinic-north", "room-1", "imu-1", "imu", "trunk", {"bias": [0.1, 0, 0]})

    moved = store.upsert_device("clinic-north", "room-2", "imu-1", "imu", "pelvis")

    assert (moved.room, moved.placement, moved.calibration) == (
        "room-2",
        "pelvis",
        {"bias": [0.1, 0, 0]},
    )
    assert len(store.devices()) == 1


def test_devices_first_seen_in_samples_are_listed_without_a_room(store: Store) -> None:
    store.insert_batches([batch(0, device="board-3")])
    store.upsert_device("clinic-north", "room-1", "imu-1", "imu")

    assert [(d.device, d.kind, d.room) for d in store.devices()] == [
        ("board-3", "board", None),
        ("imu-1", "imu", "room-1"),
    ]

    store.upsert_device("clinic-north", "room-1", "board-3", "board")
    assert store.count_samples("board-3") == 25  # samples stay attached


def test_unknown_device_kind_is_refused(store: Store) -> None:
    with pytest.raises(InvalidData, match="toaster"):
        store.upsert_device("s", "r", "d", "toaster")


def test_gaps_round_trip_and_filter_by_device_and_overlap(store: Store) -> None:
    store.add_gap("board-1", "boot-a", T0 + 10, T0 + 12.5, "seq jump 250")
    store.add_gap("board-1", "boot-a", T0 + 100, T0 + 101, "offline")
    store.add_gap("imu-1", "b", T0 + 11, T0 + 11.2, "seq jump 20")

    everything = store.gaps()
    assert [(g.device, g.t_from, g.t_to, g.reason) for g in everything] == [
        ("board-1", T0 + 10, T0 + 12.5, "seq jump 250"),
        ("imu-1", T0 + 11, T0 + 11.2, "seq jump 20"),
        ("board-1", T0 + 100, T0 + 101, "offline"),
    ]
    assert [g.reason for g in store.gaps("board-1")] == ["seq jump 250", "offline"]
    # a gap that overlaps the window at either edge counts
    assert [g.reason for g in store.gaps("board-1", T0 + 12, T0 + 100.5)] == [
        "seq jump 250", "offline",
    ]  # fmt: skip
    assert store.gaps("board-1", T0 + 13, T0 + 99) == []
    assert store.gaps(t0=T0 + 200) == []


def test_a_gap_that_ends_before_it_starts_is_refused(store: Store) -> None:
    with pytest.raises(InvalidData, match="before"):
        store.add_gap("board-1", "b", T0 + 5, T0 + 4, "bad clock")


def test_quarantine_keeps_payload_bytes_newest_first(store: Store) -> None:
    before = time.time()
    store.quarantine("dmi/v1/a/b/dev/x/samples", b"\x00\xffnot json", "payload: not valid JSON")
    store.quarantine("dmi/v1/a/b/events", b'{"v": 2}', "v: unsupported schema version 2")

    rows = store.quarantined()

    assert [(q.topic, q.payload, q.reason) for q in rows] == [
        ("dmi/v1/a/b/events", b'{"v": 2}', "v: unsupported schema version 2"),
        ("dmi/v1/a/b/dev/x/samples", b"\x00\xffnot json", "payload: not valid JSON"),
    ]
    assert all(q.t >= before - 1 for q in rows)
    assert len(store.quarantined(limit=1)) == 1
