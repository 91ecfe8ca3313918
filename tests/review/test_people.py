"""Supervisors read staff names, not author ids, on every page and report; machine files
keep the ids and name them in the manifest."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from access import Principal
from review import replay_data as rd
from review.exporting import UNITS, bundle_from_store, write_bundle
from review.metrics import session_list
from review.report_pdf import report_from_store, write_pdf
from store import Store, open_store
from tests.dashboard.replay_session import record_session

SUP = Principal(kind="user", name="sup", role="supervisor")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(tmp_path / "dmi-live.sqlite")
    opened.add_user("maria", "therapist", "x")
    (maria,) = opened.users()
    record_session(opened, duration=40.0, author=f"u{maria.id}")
    yield opened  # type: ignore[misc]
    opened.close()


def test_sessions_list_and_replay_name_the_therapist(store: Store) -> None:
    (row,) = session_list(store, SUP)
    assert (row.therapist, row.therapist_name) == ("u1", "maria")
    meta = rd.load_meta(store, "s-1")
    assert meta.therapist_name == "maria"
    assert {n.author_name for n in meta.notes} == {"maria"}


def test_pdf_names_the_therapist(store: Store, tmp_path: Path) -> None:
    path = write_pdf(report_from_store(store, "s-1"), tmp_path / "r.pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    assert "therapist maria" in text
    assert "u1" not in text


def test_export_keeps_ids_and_names_them_with_units(store: Store, tmp_path: Path) -> None:
    path = write_bundle(bundle_from_store(store, "s-1"), tmp_path / "s.zip", "csv")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        notes = zf.read("annotations.csv").decode()
    assert manifest["session"]["therapist"] == "u1"
    assert manifest["session"]["therapist_name"] == "maria"
    assert manifest["authors"] == {"u1": "maria"}
    assert ",u1," in notes
    for device in manifest["devices"]:
        header = zf_header(path, f"samples/{device['device']}.csv")
        assert all(column in manifest["units"] for column in header), header
    assert UNITS["fl"].startswith("kg")
    assert UNITS["gx"] == "deg/s"


def zf_header(path: Path, member: str) -> list[str]:
    with zipfile.ZipFile(path) as zf, zf.open(member) as raw:
        return raw.readline().decode().strip().split(",")
