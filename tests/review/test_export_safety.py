"""Exports are safe to open: text people typed stays text in the PDF and in spreadsheets,
and every export leaves an audit row naming who exported what."""

from __future__ import annotations

import argparse
import csv
import io
import math
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from contract import Event
from dmi_live import export_cli
from dmi_live.cli_actor import cli_actor
from review.exporting import bundle_from_store, read_bundle, write_bundle
from review.report_pdf import report_from_store, write_pdf
from store import Store, open_store
from tests.dashboard.replay_session import T0, PlannedSet, record_session

FORMULAS = ('=HYPERLINK("http://x.example","click")', "+1+2", "-2+3", "@SUM(A1:A9)",
            "\tpadded", "\rreturned")


def squeezed(text: str) -> str:
    """``text`` without whitespace: a line the report wrapped reads as typed."""
    return "".join(text.split())


def pdf_text(path: Path) -> str:
    return squeezed(" ".join(page.extract_text() for page in PdfReader(path).pages))


def pdf_images(path: Path) -> int:
    return sum(len(page.images) for page in PdfReader(path).pages)


def typed_session(store: Store, text: str) -> None:
    """A session whose child name, exercise name and note are all ``text``."""
    store.upsert_exercise("clinic-balance", text, "standing", 5, "static-hold")
    record_session(store, duration=30.0, name=text, sets=[
        PlannedSet("s-1-set-1", "clinic-balance", "foam-pad", "knee", 5, 2.0, 20.0)])
    store.apply_event("demo", "room-1", Event(
        type="note", t=T0 + 10.0, session="s-1", author="ana", data={"text": text},
        id="s-1-typed-note"))


@pytest.mark.parametrize("template", [
    "weight L<R",
    '<img src="{png}"/>',
    "<font size=80>shouting</font>",
    'fish & chips <b>not bold</b> <a href="http://x.example">link</a>',
])
def test_the_pdf_prints_text_people_typed_as_typed(tmp_path: Path, template: str) -> None:
    from matplotlib.figure import Figure

    server_file = tmp_path / "server-file.png"  # a picture the report must never embed
    Figure(figsize=(2, 2)).savefig(server_file)
    text = template.format(png=server_file)
    with open_store(tmp_path / "db.sqlite") as store:
        typed_session(store, text)
        report = report_from_store(store, "s-1")
    path = write_pdf(report, tmp_path / "r.pdf")
    assert pdf_text(path).count(squeezed(text)) >= 3, "title, set table and note, as typed"
    assert pdf_images(path) == 2, "the timeline and the sets chart, nothing else"


def formula_session(store: Store) -> None:
    """A session with notes and a device gap reason a spreadsheet would take for formulas."""
    record_session(store, duration=30.0)
    for i, text in enumerate([*FORMULAS, "'quoted already", "plain"]):
        store.apply_event("demo", "room-1", Event(
            type="note", t=T0 + 5.0 + i, session="s-1", author="ana", data={"text": text},
            id=f"s-1-formula-{i}"))
    store.add_gap("room-1-board", "room-1-board-s-1", T0 + 25.0, T0 + 26.0, "=1+1")


def csv_member(path: Path, member: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(path) as zf, zf.open(member) as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))


def test_csv_text_cells_never_start_a_formula_and_numbers_stay_numbers(tmp_path: Path) -> None:
    with open_store(tmp_path / "db.sqlite") as store:
        formula_session(store)
        bundle = bundle_from_store(store, "s-1")
    path = write_bundle(bundle, tmp_path / "b.zip", "csv")
    notes = [r["text"] for r in csv_member(path, "annotations.csv")]
    assert {"'" + f for f in FORMULAS} <= set(notes)
    assert "''quoted already" in notes, "a leading quote is escaped too, so it reads back"
    assert "plain" in notes
    assert [r["reason"] for r in csv_member(path, "gaps.csv")][-1] == "'=1+1"
    with zipfile.ZipFile(path) as zf:
        members = [m for m in zf.namelist() if m.endswith(".csv")]
    for member in members:
        for row in csv_member(path, member):
            for column, cell in row.items():
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (member, column)
    trunk = csv_member(path, "samples/room-1-imu-trunk.csv")
    negative = [r["ax"] for r in trunk if r["ax"].startswith("-")]
    assert negative, "the trunk leans back at times"
    # (-0.0 too: the store keeps a value's bits, sign and all)
    assert all(math.copysign(1, float(v)) < 0 for v in negative), "a negative number stays a number"
    loaded = read_bundle(path)
    pd.testing.assert_frame_equal(loaded.tables["annotations"], bundle.tables["annotations"])
    pd.testing.assert_frame_equal(loaded.tables["gaps"], bundle.tables["gaps"])


def test_parquet_keeps_the_text_as_typed(tmp_path: Path) -> None:
    with open_store(tmp_path / "db.sqlite") as store:
        formula_session(store)
        bundle = bundle_from_store(store, "s-1")
    path = write_bundle(bundle, tmp_path / "b.zip", "parquet")
    with zipfile.ZipFile(path) as zf:
        notes = pd.read_parquet(io.BytesIO(zf.read("annotations.parquet")))["text"].tolist()
    assert set(FORMULAS) <= set(notes)
    assert "'quoted already" in notes


def parse_export(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    export_cli.configure(parser)
    return parser.parse_args(argv)


def test_every_export_from_the_command_line_is_audited(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "db.sqlite"
    with open_store(db) as store:
        record_session(store, duration=20.0)
    for fmt in ("csv", "parquet", "pdf"):
        argv = ["s-1", "--format", fmt, "--store-url", str(db), "-o", str(tmp_path)]
        assert export_cli.run(parse_export(argv)) == 0
    assert export_cli.run(parse_export(["nope", "--store-url", str(db)])) == 2
    capsys.readouterr()
    with open_store(db) as store:
        exports = [(a.who, a.child, a.detail) for a in store.audit_log()
                   if a.action == "export"]
    who = cli_actor()  # cli:<login name>
    assert sorted(exports) == [(who, "c-17", "csv session s-1"),
                               (who, "c-17", "parquet session s-1"),
                               (who, "c-17", "pdf session s-1")]


def test_every_export_from_the_replay_page_is_audited(tmp_path: Path) -> None:
    from tests.conftest import wait_until
    from tests.dashboard.test_replay_app import App

    app = App(tmp_path)
    try:
        app.login(name="sup", role="supervisor")
        jobs = []
        for fmt in ("csv", "parquet", "pdf"):
            button = f"replay-export-{fmt}.n_clicks"
            status, body = app.call("replay-export-job.data", {button: 1},
                                    {"replay-session.data": "s-1"}, button)
            assert status == 200
            jobs.append(body["response"]["replay-export-job"]["data"])

        def finished(job: str) -> bool:  # the page's own progress poll
            _, body = app.call("replay-export-progress.value",
                               {"replay-export-poll.n_intervals": 1},
                               {"replay-export-job.data": job}, "replay-export-poll.n_intervals")
            return bool(body["response"]["replay-export-poll"]["disabled"])

        assert wait_until(lambda: all(finished(job) for job in jobs), timeout=60)
        audited = [(a.who, a.child, a.detail) for a in app.store.audit_log()
                   if a.action == "export"]
        assert sorted(audited) == [("sup", "c-17", "csv session s-1"),
                                   ("sup", "c-17", "parquet session s-1"),
                                   ("sup", "c-17", "pdf session s-1")]
    finally:
        app.close()
