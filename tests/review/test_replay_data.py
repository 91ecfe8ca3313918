"""Replay data and metrics on a store-backed session: what the supervisor sees is what
was recorded."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from access import Principal
from analysis.sway import sway_metrics
from contract import SampleBatch
from dmi_live.import_cli import configure
from dmi_live.import_cli import run as import_run
from review import replay_data as rd
from review import replay_views as rv
from review.metrics import (
    exercise_trends,
    progress_points,
    session_list,
    session_summary,
    set_metrics,
)
from store import Store, open_store
from store.errors import UnknownSession
from tests.dashboard.replay_session import FS, T0, Recorded, imu_values, record_session

DATA = Path(__file__).resolve().parents[1] / "data" / "bds"
SUP = Principal(kind="user", name="sup", role="supervisor")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(tmp_path / "dmi-live.sqlite")
    yield opened  # type: ignore[misc]
    opened.close()


@pytest.fixture
def recorded(store: Store) -> Recorded:
    return record_session(store, duration=120.0, imus=("pelvis", "trunk"))


def signals(store: Store, meta: rd.SessionMeta) -> dict[str, rd.DeviceSignals]:
    return {d.device: rd.load_signals(store, meta, d) for d in meta.devices}


def test_meta_has_sets_reps_notes_gaps_in_session_time(store: Store, recorded: Recorded) -> None:
    meta = rd.load_meta(store, "s-1")
    assert (meta.child, meta.child_label, meta.room, meta.therapist) == ("c-17", "Mia",
                                                                        "room-1", "ana")
    assert meta.ended
    assert meta.duration == pytest.approx(120.0)
    assert [s.id for s in meta.sets] == [s.id for s in recorded.sets]
    first = meta.sets[0]
    assert (first.number, first.exercise_name, first.support_level) == (
        1, "Sit-to-stand on foam", 3)
    assert first.start == pytest.approx(recorded.sets[0].start)
    assert first.label == "1 · Sit-to-stand on foam · foam-pad · knee"
    assert sum(not r.revoked for r in meta.reps) == 13
    assert sum(r.revoked for r in meta.reps) == 1
    assert {r.source for r in meta.reps} == {"auto", "manual"}
    assert [n.label for n in meta.notes] == ["fatigue", "Good focus after the br…"]
    assert [(g.start, g.end) for g in meta.gaps] == [pytest.approx(recorded.gap)]
    assert meta.board.placement == "under-feet"
    assert meta.tilt_imu.placement == "trunk"  # trunk is the tilt IMU even when listed second
    with pytest.raises(UnknownSession):
        rd.load_meta(store, "nope")


def test_signals_cop_tilt_and_holes(store: Store, recorded: Recorded) -> None:
    meta = rd.load_meta(store, "s-1")
    sig = signals(store, meta)
    board = sig["room-1-board"]
    assert board.fs == pytest.approx(100.0, rel=1e-4)
    assert board.holes == (pytest.approx(recorded.hole, abs=0.02),)
    part = board.window(10.0, 20.0)
    assert np.nanmean(board.channels["load"][part]) == pytest.approx(18.0, abs=0.1)
    assert np.nanmax(board.channels["ml"]) == pytest.approx(1.5, abs=0.3)
    inside = board.window(recorded.hole[0] + 0.2, recorded.hole[1] - 0.2)
    assert inside.stop - inside.start <= 1
    trunk, pelvis = sig["room-1-imu-trunk"], sig["room-1-imu-pelvis"]
    assert {"pitch", "roll", "acc_ap", "acc_ml", "omega"} <= set(trunk.channels)
    assert set(pelvis.channels) == {"omega"}
    late = trunk.window(30.0, 110.0)
    assert np.nanmax(trunk.channels["pitch"][late]) == pytest.approx(5.0, abs=0.8)


def test_timeline_view_is_display_resolution_and_follows_the_range(store: Store,
                                                                   recorded: Recorded) -> None:
    meta = rd.load_meta(store, "s-1")
    sigs = list(signals(store, meta).values())
    whole = rv.timeline_view(sigs, 0.0, meta.duration, points=500)
    keys = {t.key for t in whole.traces}
    assert {"room-1-board.ml", "room-1-board.ap", "room-1-imu-trunk.pitch",
            "room-1-imu-trunk.roll", "room-1-imu-trunk.omega", "room-1-imu-pelvis.omega"} == keys
    assert all(t.x.size <= 500 for t in whole.traces)
    ml = next(t for t in whole.traces if t.key == "room-1-board.ml")
    assert np.isnan(ml.y).any(), "the hole stays a gap after downsampling"
    zoom = rv.timeline_view(sigs, 50.0, 52.0, points=500)
    ml = next(t for t in zoom.traces if t.key == "room-1-board.ml")
    assert ml.x.size == 201
    assert ml.x[0] >= 50.0
    assert ml.x[-1] <= 52.0


def add_imu(store: Store, device: str, placement: str, duration: float,
            missing: list[tuple[int, int]]) -> None:
    """An IMU in room-1 recording at 100 Hz over ``duration`` s except the samples
    ``[a, b)`` of each ``missing`` pair (holes)."""
    store.upsert_device("demo", "room-1", device, "imu", placement)
    seq = np.arange(int(duration * FS) + 1)
    keep = np.ones(seq.size, dtype=bool)
    for a, b in missing:
        keep[a:b] = False
    seq, values = seq[keep], imu_values(seq / FS, seed=7)[keep]
    runs = np.split(np.arange(seq.size), np.flatnonzero(np.diff(seq) != 1) + 1)
    store.insert_batches([
        SampleBatch(device, "imu", f"{device}-b", int(seq[i[0]]), seq[i[0]] / FS, 1 / FS,
                    T0 + seq[i[0]] / FS, ("ax", "ay", "az", "gx", "gy", "gz"),
                    tuple(map(tuple, values[i].tolist())))
        for run in runs for i in np.array_split(run, -(-run.size // 1000))])


def test_other_imus_come_from_an_overview_with_their_holes(
    store: Store, recorded: Recorded, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a 2-s hole and short ones (5 samples) all over, some inside an overview bucket
    short = [(k, k + 5) for k in range(1503, 11600, 1000)]
    add_imu(store, "room-1-imu-head", "head", recorded.end - recorded.start,
            [(3000, 3200), *short])
    meta = rd.load_meta(store, "s-1")
    head = next(d for d in meta.devices if d.device == "room-1-imu-head")
    assert {d.placement for d in meta.display_only} == {"head", "pelvis"}
    full = rd.load_signals(store, meta, head)
    overview = rv.imu_overview(store, meta, head)
    assert len(full.holes) == len(overview.holes) == 1 + len(short)
    np.testing.assert_allclose(overview.holes, full.holes, atol=1e-6)
    omega = full.channels["omega"]
    assert overview.count.sum() == np.isfinite(omega).sum()

    whole = rv.omega_trace(store, meta, overview, 0.0, meta.duration, points=600)
    reference = rv.timeline_view([full], 0.0, meta.duration, points=600).traces[0]
    assert (whole.key, whole.name, whole.row) == (reference.key, reference.name, reference.row)
    assert whole.x.size <= 600 + len(full.holes)
    assert np.all(np.diff(whole.x) >= 0)
    assert (np.nanmin(whole.y), np.nanmax(whole.y)) == (np.nanmin(omega), np.nanmax(omega))
    assert np.isnan(whole.y).sum() == len(full.holes), "every hole breaks the line"

    mid = rv.omega_trace(store, meta, overview, 30.0, 90.0, points=200)
    inside, around = full.window(30.0, 90.0), full.window(29.9, 90.1)
    assert np.nanmax(omega[inside]) <= np.nanmax(mid.y) <= np.nanmax(omega[around])
    assert mid.x[0] >= 29.9
    assert mid.x[-1] <= 90.1

    zoom = rv.omega_trace(store, meta, overview, 50.0, 52.0, points=600)  # reads samples
    part = full.window(50.0, 52.0)
    np.testing.assert_array_equal(zoom.x, full.t[part])
    np.testing.assert_array_equal(zoom.y, omega[part])

    monkeypatch.setattr(rv, "RECHECK_MAX", 0)  # as for irregular times: all read once
    np.testing.assert_allclose(rv.imu_overview(store, meta, head).holes, full.holes, atol=1e-6)


def test_data_window_pads_and_quantises() -> None:
    q0, q1, points = rv.data_window(100.1, 110.1, 2700.0)
    assert q0 <= 95.1
    assert q1 >= 115.1
    assert q0 % 0.5 == 0
    assert q1 % 0.5 == 0
    assert (q0, q1) == rv.data_window(100.2, 110.2, 2700.0)[:2]  # a small pan: same entry
    assert points == pytest.approx(rd.DEFAULT_POINTS * (q1 - q0) / 10.0, rel=0.01)
    assert rv.data_window(-5.0, 5000.0, 2700.0)[:2] == (0.0, 2700.0)


def test_ranges_from_plotly_relayout() -> None:
    assert rv.range_from_relayout(None, 100.0) is None
    assert rv.range_from_relayout({"autosize": True}, 100.0) is None
    assert rv.range_from_relayout({"shapes[3].x0": 5}, 100.0) is None
    assert rv.range_from_relayout({"xaxis.autorange": True}, 100.0) == (0.0, 100.0)
    got = rv.range_from_relayout({"xaxis.range[0]": "1970-01-01 00:12:30.5",
                                  "xaxis.range[1]": "1970-01-01 00:13"}, 2700.0)
    assert got == (750.5, 780.0)
    assert rv.range_from_relayout({"xaxis.range": [2000, 1000]}, 10.0) == (1.0, 2.0)
    assert rv.seconds_from_axis("1970-01-01") == 0.0


def test_clock_sets_in_view_and_set_range() -> None:
    assert (rv.clock(75.4), rv.clock(3725), rv.clock(math.nan)) == ("1:15", "1:02:05", "–")
    sets = [rd.SetInfo("a", 1, "e", "E", "floor", "knee", 3, 10, 20, None),
            rd.SetInfo("b", 2, "e", "E", "floor", "none", 3, 30, 40, None)]
    assert rv.sets_in_view(sets, 0, 100) == [0, 1]
    assert rv.sets_in_view(sets, 21, 29) == []
    assert rv.sets_in_view(sets, 35, 36) == [1]
    assert rv.set_range(sets[0], 100) == (8.0, 22.0)


def test_playback_chunk_and_stabilogram_frame(store: Store, recorded: Recorded) -> None:
    meta = rd.load_meta(store, "s-1")
    board = signals(store, meta)["room-1-board"]
    chunk = rv.playback_chunk(board, 20.0, meta.duration)
    assert (chunk["from"], chunk["to"], chunk["end"]) == (15.0, 80.0, meta.duration)
    assert len(chunk["t"]) == len(chunk["ml"]) == len(chunk["ap"]) > 6000
    assert None in chunk["ml"]  # the hole at 24–26 s
    cx, cy, half = rv.cop_frame(board)
    assert cx == pytest.approx(0.0, abs=0.3)
    assert cy == pytest.approx(-2.0, abs=0.3)
    assert 2.0 <= half <= 4.0
    assert rv.cop_frame(None) == (0.0, 0.0, 6.0)


def test_set_metrics_reps_sway_trunk_and_holds(store: Store, recorded: Recorded) -> None:
    meta = rd.load_meta(store, "s-1")
    sig = signals(store, meta)
    metrics = set_metrics(meta, sig["room-1-board"], sig["room-1-imu-trunk"])
    assert [(m.reps, m.manual_reps, m.planned_reps) for m in metrics] == [
        (5, 1, 5), (2, 0, 3), (6, 0, 8)]
    board = sig["room-1-board"]
    for m, info in zip(metrics, meta.sets, strict=True):
        part = board.window(info.start, info.end)
        expected = sway_metrics(board.channels["ml"][part], board.channels["ap"][part],
                                fs=board.fs)
        assert m.ellipse_area_cm2 == pytest.approx(expected.ellipse_area_cm2)
        assert m.mean_velocity_cm_s == pytest.approx(expected.mean_velocity_cm_s)
        assert 2.0 < m.tilt_rms_deg < 5.0
        assert 4.0 < m.tilt_max_deg < 6.5
        assert m.isway_jerk_m2_s5 > 0
        assert m.isway_rms_m_s2 > 0
    # set 1 spans the 2-s hole in the board data: its longest hold stops there
    assert metrics[0].longest_hold_s < metrics[0].duration_s - 1.5
    assert metrics[0].loaded_s == pytest.approx(metrics[0].duration_s - 2.0, abs=0.05)
    assert metrics[1].longest_hold_s == pytest.approx(metrics[1].duration_s, abs=0.05)
    no_devices = set_metrics(meta, None, None)
    assert math.isnan(no_devices[0].ellipse_area_cm2)
    assert math.isnan(no_devices[0].tilt_rms_deg)
    assert no_devices[0].reps == 5


def test_session_summary(store: Store, recorded: Recorded) -> None:
    meta = rd.load_meta(store, "s-1")
    sig = signals(store, meta)
    metrics = set_metrics(meta, sig["room-1-board"], sig["room-1-imu-trunk"])
    summary = session_summary(meta, metrics, sig["room-1-board"].holes)
    assert (summary.sets, summary.reps, summary.planned_reps, summary.manual_reps) == (3, 13, 16, 1)
    assert summary.completion == pytest.approx(13 / 16)
    assert (summary.most_proximal_support, summary.most_distal_support) == ("knee", "none")
    assert (summary.gaps, summary.gap_s) == (2, pytest.approx(3.0, abs=0.05))
    assert summary.notes == 2
    assert summary.time_in_sets_s == pytest.approx(sum(s.end - s.start for s in recorded.sets))


def test_session_list_filters_and_hides_what_the_principal_may_not_see(store: Store) -> None:
    record_session(store, duration=20.0)
    record_session(store, session="s-2", child="c-99", room="room-2", start=T0 + 86400,
                   duration=20.0, author="ben")
    assert [r.id for r in session_list(store, SUP)] == ["s-2", "s-1"]
    assert [r.id for r in session_list(store, SUP, therapist="ben")] == ["s-2"]
    assert [r.id for r in session_list(store, SUP, since=T0 + 3600)] == ["s-2"]
    one = session_list(store, SUP, child="c-17")[0]
    assert (one.sets, one.reps, one.planned_reps, one.gaps, one.live) == (3, 13, 16, 1, False)
    assert one.duration_s == pytest.approx(20.0)
    limited = Principal(kind="user", name="t", role="therapist", children=frozenset({"c-17"}))
    assert [r.id for r in session_list(store, limited)] == ["s-1"]
    kiosk = Principal(kind="kiosk", name="wall", role="kiosk", rooms=frozenset({"room-1"}))
    family = Principal(kind="family", name="f", role="family", children=frozenset({"c-17"}))
    assert session_list(store, kiosk) == []
    assert session_list(store, family) == []
    assert session_list(store, None) == []


def test_progress_support_moves_distally_and_sway_falls(store: Store) -> None:
    history = []
    for week, (support, amplitude) in enumerate((("knee", 3.0), ("shank", 2.0), ("none", 1.0))):
        sid = f"w{week}"
        rec = record_session(store, session=sid, start=T0 + week * 7 * 86400, duration=40.0,
                             hole=False, sets=[])
        del rec
        meta = rd.load_meta(store, sid)
        info = rd.SetInfo(f"{sid}-x", 1, "stand-foam-pad", "Stand on foam pad", "foam-pad",
                          support, 3, 5.0, 35.0, None)
        meta = rd.SessionMeta(**{**meta.__dict__, "sets": (info,)})
        board = rd.load_signals(store, meta, meta.board)
        scaled = rd.DeviceSignals(board.device, board.kind, board.placement, board.t,
                                  {k: v * (amplitude if k in ("ml", "ap") else 1)
                                   for k, v in board.channels.items()}, board.fs, board.holes)
        history.append((meta, set_metrics(meta, scaled, None)))
    points = progress_points(history[::-1])
    assert [p.support for p in points] == ["knee", "shank", "none"]
    assert points[0].ellipse_area_cm2 > points[1].ellipse_area_cm2 > points[2].ellipse_area_cm2
    (trend,) = exercise_trends(points)
    assert (trend.sessions, trend.support_first, trend.support_last, trend.support_change) == (
        3, "knee", "none", 3)
    assert trend.sway_change == pytest.approx(1 / 9 - 1, rel=0.05)


def test_imported_bds_trial_gives_the_published_sway(store: Store, tmp_path: Path) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    configure(parser)
    db = tmp_path / "dmi-live.sqlite"
    args = parser.parse_args([str(DATA / "BDS00001.txt"), "--child", "c-1", "--store-url",
                              str(db), "--start", "2026-01-05T09:00", "--exercise",
                              "stand-foam-pad", "--support", "none"])
    assert import_run(args) == 0
    (session,) = store.sessions(child="c-1")
    meta = rd.load_meta(store, session.id)
    board = rd.load_signals(store, meta, meta.board)
    (m,) = set_metrics(meta, board, None)
    # Santos & Duarte (2016), reference.tsv: COParea, COPvelo, COPmfreq of BDS00001
    assert m.ellipse_area_cm2 == pytest.approx(0.9446915167229832, rel=1e-6)
    assert m.mean_velocity_cm_s == pytest.approx(0.620189911656219, rel=1e-6)
    assert m.mean_frequency_hz == pytest.approx(0.2565758824783575, rel=1e-3)


# ----------------------------------------------------------------------------- stored tilt


def _tilt(store: Store) -> tuple[rd.SessionMeta, rd.DeviceSignals]:
    meta = rd.load_meta(store, "s-1")
    assert meta.tilt_imu is not None
    return meta, rd.load_signals(store, meta, meta.tilt_imu)


def _stored(store: Store, meta: rd.SessionMeta, device: str | None = None,
            name: str = rd.TILT_SERIES) -> bool:
    assert meta.tilt_imu is not None
    return rd.stored_series(store, meta, device or meta.tilt_imu.device, name) is not None


def test_an_ended_sessions_tilt_is_worked_out_once_and_read_back_the_same(
    store: Store, recorded: Recorded
) -> None:
    assert rv.prepare(store, "s-1")
    meta, first = _tilt(store)
    assert _stored(store, meta)
    (pelvis,) = meta.display_only  # the other IMU's overview too, and read back the same
    assert _stored(store, meta, pelvis.device, rv.OVERVIEW_SERIES)
    stored_view = rv.imu_overview(store, meta, pelvis)
    fresh = rv._imu_overview(store, meta, pelvis)
    for name in ("t_first", "t_last", "count", "low", "high"):
        np.testing.assert_array_equal(getattr(stored_view, name), getattr(fresh, name))
    assert (stored_view.width, stored_view.holes) == (fresh.width, fresh.holes)
    _, again = _tilt(store)
    np.testing.assert_array_equal(again.t, first.t)
    assert again.channels.keys() == first.channels.keys() == {
        "omega", "pitch", "roll", "acc_ap", "acc_ml"}
    for name, values in first.channels.items():
        np.testing.assert_array_equal(again.channels[name], values)
    assert (again.fs, again.holes) == (first.fs, first.holes)
    assert not rv.prepare(store, "nope")  # an unknown session: nothing to prepare


def test_samples_arriving_after_the_tilt_was_stored_are_shown(
    store: Store, recorded: Recorded
) -> None:
    meta, before = _tilt(store)  # the first open stores it
    assert _stored(store, meta)
    imu = meta.tilt_imu
    assert imu is not None
    # a second boot of the trunk IMU whose batches a spool delivered after the end
    rel = np.arange(0, 5, 1 / FS)
    late = SampleBatch(imu.device, "imu", "late-boot", 0, 0.0, 1 / FS, T0 + 50.0,
                       ("ax", "ay", "az", "gx", "gy", "gz"),
                       tuple(map(tuple, imu_values(rel).tolist())))
    store.insert_batches([late], [(meta.site, meta.room)])
    _, after = _tilt(store)
    assert after.t.size >= before.t.size + rel.size


def test_a_running_sessions_tilt_is_never_stored(store: Store) -> None:
    record_session(store, duration=60.0)
    meta = rd.load_meta(store, "s-1")
    running = dataclasses.replace(meta, ended=False)
    assert running.tilt_imu is not None
    rd.load_signals(store, running, running.tilt_imu)
    assert not _stored(store, meta)
