"""Replay, stabilogram and progress figures built from a store-backed session."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from plotly.io.json import to_json_plotly

from dashboard.figures_replay import (
    SUPPORT_COLOURS,
    progress_figure,
    stabilogram_figure,
    timeline_figure,
)
from review import replay_data as rd
from review import replay_views as rv
from review.metrics import progress_points, set_metrics
from store import Store, open_store
from tests.dashboard.replay_session import Recorded, record_session


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(tmp_path / "dmi-live.sqlite")
    yield opened  # type: ignore[misc]
    opened.close()


@pytest.fixture
def session(store: Store) -> tuple[rd.SessionMeta, list[rd.DeviceSignals], Recorded]:
    rec = record_session(store, duration=300.0, imus=("trunk", "pelvis"))
    meta = rd.load_meta(store, "s-1")
    return meta, [rd.load_signals(store, meta, d) for d in meta.devices], rec


def by_name(figure: dict, name: str) -> dict:
    return next(t for t in figure["data"] if t["name"] == name)


def test_timeline_has_set_bands_reps_notes_gaps_and_signal_rows(session) -> None:  # noqa: ANN001
    meta, sigs, rec = session
    holes = [(a, b, f"{s.device}: no data") for s in sigs for a, b in s.holes]
    view = rv.timeline_view(sigs, 0.0, meta.duration)
    fig = timeline_figure(meta, view, x_range=(0.0, meta.duration), cursor=42.0, holes=holes)
    json.loads(to_json_plotly(fig))  # serialisable as Dash sends it
    layout = fig["layout"]
    bands = [s for s in layout["shapes"] if s["name"].startswith("set-")]
    assert [(b["x0"], b["x1"]) for b in bands] == [
        (pytest.approx(s.start * 1000), pytest.approx(s.end * 1000)) for s in rec.sets]
    assert [b["fillcolor"] for b in bands] == [SUPPORT_COLOURS[s.support] for s in rec.sets]
    labels = [a["text"] for a in layout["annotations"]]
    assert labels[0].startswith("1 · Sit-to-stand on foam")
    assert layout["annotations"][0]["hovertext"] == "1 · Sit-to-stand on foam · foam-pad · knee"
    gaps = [s for s in layout["shapes"] if s["name"] == "gap"]
    assert sorted((g["x0"], g["x1"]) for g in gaps) == [
        (pytest.approx(rec.hole[0] * 1000, abs=20), pytest.approx(rec.hole[1] * 1000, abs=20)),
        (pytest.approx(rec.gap[0] * 1000), pytest.approx(rec.gap[1] * 1000))]
    cursor = next(s for s in layout["shapes"] if s["name"] == "cursor")
    assert cursor["x0"] == 42000.0
    assert cursor["visible"]
    auto, manual, revoked = (by_name(fig, n) for n in ("rep (auto)", "rep (manual)",
                                                       "rep (revoked)"))
    assert (len(auto["x"]), len(manual["x"]), len(revoked["x"])) == (12, 1, 1)
    assert auto["marker"]["symbol"] != manual["marker"]["symbol"]
    notes = by_name(fig, "annotation")
    assert notes["text"] == ["fatigue", "Good focus after the br…"]
    rows = {t["name"]: t["yaxis"] for t in fig["data"] if t.get("mode") == "lines"}
    assert rows["COP ML (+right)"] == rows["COP AP (+forward)"] == "y2"
    assert rows["trunk pitch (+forward)"] == "y3"
    assert rows["trunk |ω|"] == rows["pelvis |ω|"] == "y4"
    assert layout["xaxis"]["type"] == "date"
    assert layout["xaxis"]["range"] == [0.0, meta.duration * 1000]
    assert all(layout[a]["fixedrange"] for a in ("yaxis", "yaxis2", "yaxis3", "yaxis4"))
    ml = by_name(fig, "COP ML (+right)")
    assert len(ml["x"]) <= rd.DEFAULT_POINTS
    assert None in ml["y"]


def test_zoomed_timeline_labels_only_visible_sets_and_shortens_narrow_ones(session) -> None:  # noqa: ANN001
    meta, sigs, _ = session
    t0, t1 = 130.0, 140.0  # inside set 2
    fig = timeline_figure(meta, rv.timeline_view(sigs, t0, t1), x_range=(t0, t1))
    assert [a["text"] for a in fig["layout"]["annotations"]] == [meta.sets[1].label]
    assert fig["layout"]["xaxis"]["range"] == [130000.0, 140000.0]
    wide = timeline_figure(meta, rv.timeline_view(sigs, 0, 3000), x_range=(0, 30000))
    assert [a["text"] for a in wide["layout"]["annotations"]] == ["1", "2", "3"]
    cursor = next(s for s in fig["layout"]["shapes"] if s["name"] == "cursor")
    assert cursor["visible"] is False


def test_stabilogram_splits_past_and_future_around_the_cursor(session) -> None:  # noqa: ANN001
    meta, sigs, _ = session
    board = sigs[0]
    chunk = rv.playback_chunk(board, 100.0, meta.duration)
    fig = stabilogram_figure(chunk, at=100.0, frame=rv.cop_frame(board))
    before, after, now = fig["data"]
    assert len(before["x"]) == 501  # 95.00 … 100.00 s at 100 Hz
    assert after["x"][0] == before["x"][-1]
    assert len(after["x"]) == 501
    assert now["x"] == [before["x"][-1]]
    cx, cy, half = rv.cop_frame(board)
    assert fig["layout"]["xaxis"]["range"] == [cx - half, cx + half]
    assert fig["layout"]["yaxis"]["scaleanchor"] == "x"
    empty = stabilogram_figure(None, at=None, frame=(0, 0, 6))
    assert empty["layout"]["annotations"][0]["text"] == "no balance board in this session"
    assert all(len(t["x"]) == 0 for t in empty["data"])


def test_progress_figure_rows(session) -> None:  # noqa: ANN001
    meta, sigs, _ = session
    metrics = set_metrics(meta, sigs[0], sigs[1] if "pitch" in sigs[1].channels else sigs[2])
    points = progress_points([(meta, metrics)])
    fig = progress_figure(points, "stand-foam-pad", "mean_velocity_cm_s")
    support, sway, planned, done = fig["data"]
    assert support["y"] == [4]  # shank
    assert sway["y"] == [pytest.approx(metrics[1].mean_velocity_cm_s)]
    assert (planned["y"], done["y"]) == ([3], [2])
    assert fig["layout"]["yaxis"]["ticktext"][4] == "shank"
    assert progress_figure(points, None)["data"][0]["x"] == []
    assert np.isfinite(sway["y"][0])
