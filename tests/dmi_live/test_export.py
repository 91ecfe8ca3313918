"""``dmi-live export`` and ``dmi-live import``: what is exported reads back equal, the PDF
is a real report, and a file imported becomes a session the replay can open."""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dmi_live import export_cli, import_cli
from review import replay_data as rd
from review.exporting import (
    ExportError,
    bundle_from_store,
    read_bundle,
    sample_frames,
    write_bundle,
)
from review.report_pdf import report_from_store, write_pdf
from store import Store, open_store
from tests.dashboard.replay_session import T0, record_session
from tests.store.conftest import postgres_server, store, store_url  # noqa: F401

BDS = Path(__file__).resolve().parents[1] / "data" / "bds"


def parse(module: object, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.configure(parser)  # type: ignore[attr-defined]
    return parser.parse_args(argv)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_bundle_round_trip_is_exact(store: Store, tmp_path: Path, fmt: str) -> None:  # noqa: F811
    record_session(store, duration=40.0, imus=("trunk", "head"))
    bundle = bundle_from_store(store, "s-1", chunk_s=7.0)
    seen: list[tuple[int, int]] = []
    path = write_bundle(bundle, tmp_path / f"s-1.{fmt}.zip", fmt,
                        progress=lambda done, total, what: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1] == sum(s.rows for s in bundle.samples) == 3 * 4001 - 200
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    loaded = read_bundle(path)
    assert loaded.manifest["session"]["id"] == "s-1"
    assert loaded.manifest["session"]["child"] == "c-17"
    for name, table in bundle.tables.items():
        pd.testing.assert_frame_equal(loaded.tables[name], table)
    assert len(loaded.tables["sets"]) == 3
    assert len(loaded.tables["reps"]) == 14
    assert loaded.tables["annotations"]["tag"].tolist()[0] == "fatigue"
    for device, frame in sample_frames(bundle).items():
        pd.testing.assert_frame_equal(loaded.samples[device], frame)
    expected = store.read_samples("room-1-board", T0, T0 + 41)
    pd.testing.assert_frame_equal(loaded.samples["room-1-board"],
                                  expected.astype({"boot": "str"}).reset_index(drop=True))
    with zipfile.ZipFile(path) as zf:
        assert f"samples/room-1-imu-head.{fmt}" in zf.namelist()


def test_read_bundle_refuses_other_files(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", '{"format": "something else"}')
    with pytest.raises(ExportError, match="not a DMI Live session bundle"):
        read_bundle(path)
    (tmp_path / "y.zip").write_text("not a zip")
    with pytest.raises(ExportError, match="cannot read"):
        read_bundle(tmp_path / "y.zip")


def test_pdf_report(tmp_path: Path) -> None:
    with open_store(tmp_path / "db.sqlite") as opened:
        record_session(opened, duration=60.0)
        report = report_from_store(opened, "s-1")
    assert [m.reps for m in report.metrics] == [5, 2, 6]
    assert report.summary.sets == 3
    assert report.summary.notes == 2
    steps: list[str] = []
    path = write_pdf(report, tmp_path / "r.pdf", progress=lambda d, t, what: steps.append(what))
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") >= 2
    assert len(data) > 50_000  # the plots are in it
    assert steps[-1] == "done"


def test_export_cli_writes_each_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "dmi-live.sqlite"
    with open_store(db) as opened:
        record_session(opened, duration=30.0)
    for fmt, name in (("csv", "dmi-s-1-csv.zip"), ("parquet", "dmi-s-1-parquet.zip"),
                      ("pdf", "dmi-s-1.pdf")):
        args = parse(export_cli, ["s-1", "--format", fmt, "--store-url", str(db), "-o",
                                  str(tmp_path), "--progress"])
        assert export_cli.run(args) == 0
        out, err = capsys.readouterr()
        assert out.startswith(str(tmp_path / name))
        assert "100%" in err
    assert read_bundle(tmp_path / "dmi-s-1-parquet.zip").tables["sets"]["id"].tolist() == [
        "s-1-set-1", "s-1-set-2", "s-1-set-3"]


@pytest.mark.parametrize(("argv", "message"), [
    (["nope"], "no session 'nope' in the store"),
    (["s-1", "-o", "/no/such/folder/x.zip"], "/no/such/folder: no such folder"),
])
def test_export_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        argv: list[str], message: str) -> None:
    db = tmp_path / "dmi-live.sqlite"
    with open_store(db) as opened:
        record_session(opened, duration=10.0)
    assert export_cli.run(parse(export_cli, [*argv, "--store-url", str(db)])) == 2
    out, err = capsys.readouterr()
    assert err == f"dmi-live export: error: {message}\n"
    assert out == ""


def test_import_bds_is_a_session_and_idempotent(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "dmi-live.sqlite"
    argv = [str(BDS / "BDS00043.txt"), "--child", "c-5", "--store-url", str(db),
            "--start", "2026-02-01T10:00:00+00:00", "--exercise", "stand-foam-pad"]
    assert import_cli.run(parse(import_cli, argv)) == 0
    assert "6000 samples (0 rows rejected), 60.0 s" in capsys.readouterr().out
    assert import_cli.run(parse(import_cli, argv)) == 0
    assert "already imported" in capsys.readouterr().out
    with open_store(db) as opened:
        (session,) = opened.sessions(child="c-5")
        assert session.start == 1769940000.0
        assert session.end == pytest.approx(1769940060.0 - 0.01)
        (one_set,) = opened.sets(session.id)
        assert one_set.exercise == "stand-foam-pad"
        meta = rd.load_meta(opened, session.id)
        board = rd.load_signals(opened, meta, meta.board)
    raw = np.loadtxt(BDS / "BDS00043.txt", skiprows=1)
    np.testing.assert_allclose(board.channels["ml"], raw[:, 8], atol=1e-5)  # COPy: ML
    np.testing.assert_allclose(board.channels["ap"], raw[:, 7], atol=1e-5)  # COPx: AP


@pytest.mark.parametrize(("header", "row", "kind"), [
    ("t,fl,fr,bl,br", "{t},5,5,5,5", "board"),
    ("time,ml,ap", "{t},1.0,-2.0", "board"),
    ("t,ax,ay,az,gx,gy,gz", "{t},0,0,1,0.1,0.2,0.3", "imu"),
])
def test_import_generic_csv(tmp_path: Path, header: str, row: str, kind: str) -> None:
    path = tmp_path / "rec.csv"
    lines = [header] + [row.format(t=i / 100) for i in range(500)] + ["0.001,oops"]
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "dmi-live.sqlite"
    assert import_cli.run(parse(import_cli, [str(path), "--child", "c-7", "--store-url", str(db),
                                            "--start", "1767600000"])) == 0
    with open_store(db) as opened:
        (session,) = opened.sessions(child="c-7")
        meta = rd.load_meta(opened, session.id)
        (device,) = meta.devices
        assert device.kind == kind
        # an imported IMU session is prepared as the record service prepares an ended one
        prepared = kind == "imu" and rd.stored_series(
            opened, meta, device.device, rd.TILT_SERIES) is not None
        assert prepared == (kind == "imu")
        sig = rd.load_signals(opened, meta, device)
        assert sig.t.size == 500
        if header.startswith("time,ml"):
            assert np.allclose(sig.channels["ml"], 1.0)
            assert np.allclose(sig.channels["ap"], -2.0)
            assert np.allclose(sig.channels["load"], 20.0)


@pytest.mark.parametrize(("content", "extra", "message"), [
    ("", [], "the file is empty"),
    ("t,x,y\n0,1,2\n0.01,1,2\n", [], "need columns fl, fr, bl, br"),
    ("a,fl,fr,bl,br\n0,1,1,1,1\n", [], "no time column"),
    ("t,fl,fr,bl,br\n0,5,5,5,5\n0.01,5,5,5,5\n", ["--exercise", "juggling"],
     "--exercise 'juggling' is not in the catalog"),
    ("t,fl,fr,bl,br\n0,5,5,5,5\n", [], "fewer than 2 readable rows"),
])
def test_import_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    content: str, extra: list[str], message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    argv = [str(path), "--child", "c-1", "--store-url", str(tmp_path / "db.sqlite"), *extra]
    assert import_cli.run(parse(import_cli, argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("dmi-live import: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_import_refuses_to_overlap_a_session_in_the_same_room(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]
                                                              ) -> None:
    db = tmp_path / "db.sqlite"
    base = [str(BDS / "BDS00001.txt"), "--child", "c-1", "--store-url", str(db), "--start",
            "1767600000"]
    assert import_cli.run(parse(import_cli, base)) == 0
    other = [str(BDS / "BDS00163.txt"), "--child", "c-1", "--store-url", str(db), "--start",
             "1767600030"]
    assert import_cli.run(parse(import_cli, other)) == 2
    assert "has session import-" in capsys.readouterr().err
    assert import_cli.run(parse(import_cli, [*other, "--room", "lab"])) == 0
