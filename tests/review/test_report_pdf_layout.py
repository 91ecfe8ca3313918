"""The PDF report's layout: headings stay with what they head, the summary and the timeline
share the first page, the set table fits the page, and times read m:ss."""

from __future__ import annotations

import numpy as np
import pytest
from pypdf import PdfReader

from review.metrics import SetMetrics
from review.report_pdf import (
    CELL_PAD,
    SET_COLUMNS,
    WIDTH_CM,
    report_from_store,
    set_rows,
    set_table,
    time_ticks,
    write_pdf,
)
from store import open_store
from tests.dashboard.replay_session import PlannedSet, record_session

HEADINGS = ("Summary", "Timeline", "Sets", "Annotations")


def many_sets(duration: float, n: int) -> list[PlannedSet]:
    length = duration / n
    return [PlannedSet(f"set-{i + 1}", "weight-shift-lateral-foam", "balance-board",
                       "ankle-foot", 12, i * length + 1, (i + 1) * length - 1,
                       reps=tuple(np.linspace(i * length + 2, (i + 1) * length - 2, 10)),
                       manual=(i * length + 3,))
            for i in range(n)]


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, int]]:
    folder = tmp_path_factory.mktemp("pdf")
    with open_store(folder / "db.sqlite") as store:
        record_session(store, duration=900.0, imus=("trunk",), sets=many_sets(900.0, 18))
        report = report_from_store(store, "s-1")
    reader = PdfReader(write_pdf(report, folder / "r.pdf"))
    return [(page.extract_text(), len(page.images)) for page in reader.pages]


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_every_heading_is_on_the_page_of_what_it_heads(pages: list[tuple[str, int]]) -> None:
    for number, (text, images) in enumerate(pages, start=1):
        found = lines(text)
        for heading in HEADINGS:
            if heading not in found:
                continue
            if heading in ("Timeline", "Sets"):  # a chart (an image: no text) follows
                assert images, f"page {number}: {heading!r} without its chart"
            else:
                after = found[found.index(heading) + 1:]
                assert after, f"page {number} ends with the heading {heading!r}"
    seen = [h for h in HEADINGS if any(h in lines(text) for text, _ in pages)]
    assert seen == list(HEADINGS)


def test_summary_and_timeline_share_the_first_page(pages: list[tuple[str, int]]) -> None:
    first, images = pages[0]
    assert "Summary" in lines(first)
    assert "Timeline" in lines(first)
    assert images == 1


def test_the_set_table_fits_the_page_even_with_long_values() -> None:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm

    nan = float("nan")
    metrics = [SetMetrics(
        number=i, set_id=f"s{i}", exercise="x", exercise_name="Sit-to-stand from a low "
        "bench on a foam pad with a ball", surface="balance-board", support="ankle-foot",
        support_level=5, start_s=3600.0 + i, duration_s=125.0, reps=12, planned_reps=15,
        manual_reps=11, ellipse_area_cm2=123.45, mean_velocity_cm_s=12.34,
        mean_frequency_hz=0.45, tilt_rms_deg=12.3, tilt_max_deg=45.6, longest_hold_s=123.4,
        quality="independent", isway_jerk_m2_s5=1.0, isway_rms_m_s2=1.0, loaded_s=100.0
    ) if i else SetMetrics(
        number=i, set_id="s0", exercise="x", exercise_name="x", surface="", support="",
        support_level=-1, start_s=0.0, duration_s=0.0, reps=0, planned_reps=0, manual_reps=0,
        ellipse_area_cm2=nan, mean_velocity_cm_s=nan, mean_frequency_hz=nan,
        tilt_rms_deg=nan, tilt_max_deg=nan, longest_hold_s=nan, quality="",
        isway_jerk_m2_s5=nan, isway_rms_m_s2=nan, loaded_s=0.0)
        for i in range(3)]
    cell = ParagraphStyle("c", fontName="Helvetica", fontSize=8, leading=10)
    width, _ = set_table(metrics, cell, cell, "Helvetica").wrap(WIDTH_CM * cm, 1000 * cm)
    assert width <= WIDTH_CM * cm
    for row in set_rows(metrics, cell, cell):
        for paragraph, (title, column_cm, _) in zip(row, SET_COLUMNS, strict=True):
            room = column_cm * cm - 2 * CELL_PAD
            assert paragraph.minWidth() <= room, (
                f"{title}: a word of {paragraph.text!r} is wider than its column")


@pytest.mark.parametrize(("duration", "first_labels"), [
    (60.0, ["0:00", "0:05", "0:10"]), (2700.0, ["0:00", "5:00", "10:00"]),
    (5400.0, ["0:00", "10:00", "20:00"])])
def test_time_axis_reads_minutes_and_seconds(duration: float, first_labels: list[str]) -> None:
    ticks, labels = time_ticks(duration)
    assert labels[:3] == first_labels
    assert len(ticks) <= 13
    assert ticks[-1] <= duration
