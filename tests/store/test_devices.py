from __future__ import annotations

import time

import pytest

from store import Store, open_store
from store.db import create_engine, to_url
from store.errors import InvalidData
from store.migrations import MIGRATIONS
from store.rows import DeviceRow
from tests.store.factories import T0, batch


def test_device_set_up_round_trips(store: Store) -> None:
    calibration = {"fl": {"scale": 0.0123, "offset": -4.1}, "cells": [1, 2, 3, 4]}

    row = store.upsert_device("clinic-north", "room-1", "board-1", "board", "floor", calibration)

    expected = DeviceRow("board-1", "board", "clinic-north", "room-1", "floor", calibration)
    assert row == expected
    assert store.devices() == [expected]


def test_a_device_id_in_another_room_is_another_device(store: Store) -> None:
    store.upsert_device("clinic-north", "room-1", "imu-1", "imu", "trunk", {"bias": [0.1, 0, 0]})

    other = store.upsert_device("clinic-north", "room-2", "imu-1", "imu", "pelvis")
    again = store.upsert_device("clinic-north", "room-1", "imu-1", "imu", "head")

    assert (other.room, other.placement, other.calibration) == ("room-2", "pelvis", None)
    assert (again.room, again.placement, again.calibration) == (
        "room-1", "head", {"bias": [0.1, 0, 0]})
    assert sorted((d.room, d.placement) for d in store.devices()) == [
        ("room-1", "head"), ("room-2", "pelvis")]


def test_samples_of_one_device_id_in_two_rooms_stay_apart(store: Store) -> None:
    store.insert_batches([batch(0), batch(25)], [("s", "room-1"), ("s", "room-1")])
    store.insert_batches([batch(0)], [("s", "room-2")])  # same id, boot and seq: not a copy

    assert store.count_samples("board-1", ("s", "room-1")) == 50
    assert store.count_samples("board-1", ("s", "room-2")) == 25
    assert len(store.read_samples("board-1", place=("s", "room-2"))) == 25
    with pytest.raises(InvalidData, match="2 rooms"):
        store.insert_batches([batch(50)])  # no place: which board-1?


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


def test_quarantine_never_holds_more_than_its_bound(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flood of junk keeps the newest rejects and never more than the bound."""
    from store import tables

    monkeypatch.setattr(tables, "QUARANTINE_ROWS", 300)
    for i in range(1_050):
        store.quarantine("dmi/v1/a/b/events", f"junk {i}".encode(), "payload: not valid JSON")

    count, _ = store.quarantine_size()
    assert 200 <= count <= 300
    assert store.quarantined(limit=1)[0].payload == b"junk 1049"


def test_a_store_with_global_device_ids_upgrades_to_devices_per_room(store_url: str) -> None:
    """Schema 3 had one ``board-1`` for the whole store: its rows, streams and gaps stay
    with it, and from schema 4 on another room can have a ``board-1`` of its own."""
    with open_store(store_url, migrations=MIGRATIONS[:3]):
        pass
    postgres = "://" in store_url
    engine = create_engine(to_url(store_url))
    with engine.begin() as conn:  # the devices, gaps and quarantine tables as they were
        conn.exec_driver_sql("DROP TABLE devices" + (" CASCADE" if postgres else ""))
        conn.exec_driver_sql(
            f"CREATE TABLE devices (id {'SERIAL' if postgres else 'INTEGER'} PRIMARY KEY, "
            "name VARCHAR(64) NOT NULL, "
            "kind VARCHAR(16) NOT NULL, room_id INTEGER REFERENCES rooms (id), "
            "placement VARCHAR(64) DEFAULT '' NOT NULL, calibration TEXT, "
            "CONSTRAINT uq_devices_name UNIQUE (name))")
        for table, column in (("gaps", "site"), ("gaps", "room"), ("quarantine", "size")):
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.exec_driver_sql("INSERT INTO sites (key, name) VALUES ('s', '')")
        conn.exec_driver_sql("INSERT INTO rooms (site_id, key, name) "
                             "SELECT id, 'room-1', '' FROM sites")
        conn.exec_driver_sql(
            "INSERT INTO devices (name, kind, room_id, placement) "
            "SELECT 'board-1', 'board', id, 'floor' FROM rooms")
        conn.exec_driver_sql(
            "INSERT INTO gaps (device, boot, t_from, t_to, reason) "
            f"VALUES ('board-1', 'boot-a', {T0}, {T0 + 1}, 'offline')")
    engine.dispose()
    with open_store(store_url, migrations=MIGRATIONS[:3]) as old:
        old.insert_batches([batch(0), batch(25)])

    with open_store(store_url) as upgraded:
        assert upgraded.schema_version == len(MIGRATIONS)
        assert upgraded.count_samples("board-1", ("s", "room-1")) == 50
        upgraded.insert_batches([batch(0)], [("s", "room-2")])
        assert upgraded.count_samples("board-1", ("s", "room-2")) == 25
        assert upgraded.count_samples("board-1", ("s", "room-1")) == 50
        assert [g.reason for g in upgraded.gaps(place=("s", "room-1"))] == ["offline"]
        assert upgraded.gaps(place=("s", "room-2")) == []
