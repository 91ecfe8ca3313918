"""The PDF session report, rendered headless (reportlab for the pages, matplotlib's Agg
canvas for the plots; no display, no browser).

Contents: session header, summary, a timeline of the whole session (COP, trunk tilt,
set bands coloured by support point, reps, gaps), per-set sway and reps charts, the
per-set table and the annotations.

Text typed by people (names, exercise names, notes, tags) is never reportlab markup: every
paragraph goes through :func:`paragraph_text`, so ``weight L<R`` prints as typed and
``<img src=…>`` cannot pull a server file into the report.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from review import replay_data as rd
from review import replay_views as rv
from review.metrics import SessionSummary, SetMetrics, session_summary, set_metrics
from store import Store

SUPPORT_COLOURS = {"trunk": "#e76f51", "pelvis": "#f4a261", "thigh": "#e9c46a",
                   "knee": "#a7c957", "shank": "#2a9d8f", "ankle-foot": "#4ea8de",
                   "none": "#8ecae6"}
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"


@dataclass(frozen=True)
class Report:
    meta: rd.SessionMeta
    summary: SessionSummary
    metrics: list[SetMetrics]
    signals: list[rd.DeviceSignals]
    holes: list[tuple[float, float, str]]


def build_report(meta: rd.SessionMeta, signals: Sequence[rd.DeviceSignals]) -> Report:
    board = next((s for s in signals if s.kind == "board"), None)
    tilt = next((s for s in signals if "pitch" in s.channels), None)
    metrics = set_metrics(meta, board, tilt)
    holes = [(a, b, f"{s.device}: no data") for s in signals for a, b in s.holes]
    summary = session_summary(meta, metrics, [(a, b) for a, b, _ in holes])
    return Report(meta, summary, metrics, list(signals), holes)


def report_from_store(store: Store, session_id: str) -> Report:
    """Load and analyse a session straight from the store (no cache)."""
    meta = rd.load_meta(store, session_id)
    return build_report(meta, [rd.load_signals(store, meta, d) for d in meta.devices])


def _fonts() -> tuple[str, str]:
    from matplotlib import font_manager
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    try:
        for name, weight in ((FONT, "normal"), (BOLD, "bold")):
            if name not in pdfmetrics.getRegisteredFontNames():
                path = font_manager.findfont(font_manager.FontProperties(
                    family="DejaVu Sans", weight=weight), fallback_to_default=False)
                pdfmetrics.registerFont(TTFont(name, path))
        return FONT, BOLD
    except (OSError, ValueError, RuntimeError):
        return "Helvetica", "Helvetica-Bold"


def _png(fig: object) -> io.BytesIO:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)  # type: ignore[arg-type]
    buffer.seek(0)
    return buffer


TICK_STEPS_S = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
FIG_W_IN, FIG_ROW_IN, FIG_BASE_IN = 10.5, 1.45, 0.9
"""Timeline figure size: the width, the height of one signal row, and of axes and labels;
small enough that the summary and the timeline share the first landscape page."""


def time_ticks(duration_s: float, most: int = 12) -> tuple[list[float], list[str]]:
    """Tick positions (s) and m:ss labels for a time axis of ``duration_s`` seconds.

    >>> ticks, labels = time_ticks(150)
    >>> ticks[:3], labels
    ([0.0, 15.0, 30.0], ['0:00', '0:15', '0:30', '0:45', '1:00', '1:15', '1:30', '1:45', \
'2:00', '2:15', '2:30'])
    """
    step = next((s for s in TICK_STEPS_S if duration_s / s <= most), TICK_STEPS_S[-1])
    ticks = [float(i * step) for i in range(int(duration_s // step) + 1)]
    return ticks, [rv.clock(t) for t in ticks]


def _timeline_rows(report: Report) -> list[rd.DeviceSignals]:
    return [s for s in report.signals if s.kind == "board"] + \
        [s for s in report.signals if "pitch" in s.channels]


def _timeline_png(report: Report) -> io.BytesIO:
    from matplotlib.figure import Figure

    meta = report.meta
    rows = _timeline_rows(report)
    fig = Figure(figsize=(FIG_W_IN, FIG_BASE_IN + FIG_ROW_IN * max(1, len(rows))), dpi=150)
    axes = fig.subplots(max(1, len(rows)), 1, sharex=True, squeeze=False)[:, 0]
    ticks, tick_labels = time_ticks(meta.duration)
    for ax, sig in zip(axes, rows, strict=False):
        names = ("ml", "ap") if sig.kind == "board" else ("pitch", "roll")
        labels = ("COP ML (cm)", "COP AP (cm)") if sig.kind == "board" else \
            ("trunk pitch (°)", "trunk roll (°)")
        for channel, label, colour in zip(names, labels, ("#1f77b4", "#ff7f0e"), strict=True):
            x, y = rv.downsample(sig.t, sig.channels[channel], 3000)
            ax.plot(x, y, lw=0.6, color=colour, label=label)
        ax.legend(loc="upper right", fontsize=7, ncols=2)
        ax.set_ylabel("cm" if sig.kind == "board" else "°", fontsize=8)
    for ax in axes:
        for info in meta.sets:
            ax.axvspan(info.start, info.end, alpha=0.18, lw=0,
                       color=SUPPORT_COLOURS.get(info.support, "#999999"))
        for a, b, _ in [(g.start, g.end, g.label) for g in meta.gaps] + report.holes:
            ax.axvspan(a, max(b, a + 1), color="#d62728", alpha=0.35, lw=0)
        ax.tick_params(labelsize=7)
        ax.set_xlim(0, meta.duration)
        ax.set_xticks(ticks, tick_labels)
    top = axes[0]
    for info in meta.sets:
        top.annotate(str(info.number), (info.start, 1.0), xycoords=("data", "axes fraction"),
                     fontsize=7, va="bottom")
    for rep in meta.reps:
        top.plot(rep.t, 0.02, marker="^" if rep.source == "auto" else "D", ms=3,
                 color="#7f7f7f" if rep.revoked else "#2ca02c", transform=top.get_xaxis_transform())
    axes[-1].set_xlabel("time into the session (m:ss)", fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _sets_png(metrics: Sequence[SetMetrics]) -> io.BytesIO:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.5, 2.6), dpi=150)
    left, right = fig.subplots(1, 2)
    numbers = [m.number for m in metrics]
    colours = [SUPPORT_COLOURS.get(m.support, "#999999") for m in metrics]
    area = [m.ellipse_area_cm2 if math.isfinite(m.ellipse_area_cm2) else 0.0 for m in metrics]
    left.bar(numbers, area, color=colours)
    left.set_title("COP 95 % ellipse area per set (cm²)", fontsize=8)
    right.bar(numbers, [m.planned_reps for m in metrics], color="#d9d9d9", label="planned")
    right.bar(numbers, [m.reps for m in metrics], width=0.5, color="#2ca02c", label="done")
    right.set_title("reps per set", fontsize=8)
    right.legend(fontsize=7)
    for ax in (left, right):
        ax.set_xlabel("set", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xticks(numbers)
    fig.tight_layout()
    return _png(fig)


def paragraph_text(text: str) -> str:
    """``text`` as a reportlab paragraph shows it: markup characters escaped, line breaks
    kept.

    >>> paragraph_text('weight L<R & <img src="/etc/x.png"/>')
    'weight L&lt;R &amp; &lt;img src="/etc/x.png"/&gt;'
    """
    return escape(text).replace("\r\n", "\n").replace("\n", "<br/>")


def _fmt(value: float, digits: int = 2) -> str:
    return "–" if not math.isfinite(value) else f"{value:.{digits}f}"


WIDTH_CM = 29.7 - 2 * 1.5
"""The text width of the report's A4 landscape pages (1.5 cm margins)."""
SET_COLUMNS = (  # title, width (cm), right-aligned
    ("#", 0.7, True), ("Exercise", 4.1, False), ("Surface", 2.4, False),
    ("Support", 2.0, False), ("Start", 1.3, True), ("Dur.", 1.3, True), ("Reps", 2.3, True),
    ("Ellipse cm²", 1.7, True), ("Vel. cm/s", 1.6, True), ("Freq. Hz", 1.5, True),
    ("Tilt RMS °", 1.6, True), ("Tilt max °", 1.6, True), ("Hold s", 1.4, True),
    ("Quality", 2.2, False),
)


CELL_PAD = 3  # points left and right in a set-table cell


def set_rows(metrics: Sequence[SetMetrics], cell: object, head: object) -> list[list[Any]]:
    """The set table's header and rows, one paragraph per cell (it wraps in its column)."""
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    right = ParagraphStyle("cell-right", parent=cell, alignment=TA_RIGHT)  # type: ignore[arg-type]
    right_head = ParagraphStyle("head-right", parent=head, alignment=TA_RIGHT)  # type: ignore[arg-type]

    def row(values: Sequence[str], left: object, flush: object) -> list[object]:
        return [Paragraph(paragraph_text(v), flush if r else left)
                for v, (_, _, r) in zip(values, SET_COLUMNS, strict=True)]

    rows = [row([c for c, _, _ in SET_COLUMNS], head, right_head)] + [row([
        str(m.number), m.exercise_name, m.surface, m.support,
        rv.clock(m.start_s), rv.clock(m.duration_s),
        f"{m.reps}/{m.planned_reps}" + (f" ({m.manual_reps} by hand)" if m.manual_reps else ""),
        _fmt(m.ellipse_area_cm2), _fmt(m.mean_velocity_cm_s), _fmt(m.mean_frequency_hz),
        _fmt(m.tilt_rms_deg, 1), _fmt(m.tilt_max_deg, 1), _fmt(m.longest_hold_s, 1),
        m.quality or "–"], cell, right) for m in metrics]
    return rows


def set_table(metrics: Sequence[SetMetrics], cell: object, head: object, font: str) -> Any:
    """The per-set table: fixed column widths that add up to less than the page's text
    width, every cell a paragraph that wraps inside its column."""
    from reportlab.lib import colors
    from reportlab.lib.units import cm
    from reportlab.platypus import Table, TableStyle

    return Table(set_rows(metrics, cell, head), repeatRows=1,
                 colWidths=[w * cm for _, w, _ in SET_COLUMNS],
                 style=TableStyle([
                     ("FONT", (0, 0), (-1, -1), font, 8),
                     ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
                     ("VALIGN", (0, 0), (-1, -1), "TOP"),
                     ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
                     ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
                     ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5"))]))


def write_pdf(report: Report, path: Path,
              progress: Callable[[int, int, str], None] | None = None) -> Path:
    """Render ``report`` to ``path`` (A4 landscape)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import (
        Image,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(paragraph_text(text), style)

    def step(i: int, what: str) -> None:
        if progress is not None:
            progress(i, 4, what)

    regular, bold = _fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12)
    h1 = ParagraphStyle("h1", fontName=bold, fontSize=16, leading=20, spaceAfter=4)
    # a heading never ends a page: it goes over with what it heads
    h2 = ParagraphStyle("h2", fontName=bold, fontSize=12, leading=15, spaceBefore=8,
                        spaceAfter=4, keepWithNext=1)
    cell = ParagraphStyle("cell", fontName=regular, fontSize=8, leading=10)
    head = ParagraphStyle("head", fontName=bold, fontSize=8, leading=10)
    meta, summary = report.meta, report.summary
    when = datetime.fromtimestamp(meta.start).strftime("%A %d %B %Y, %H:%M")
    story: list[object] = [
        para(f"DMI session report — {meta.child_label}", h1),
        para(f"{when} · room {meta.room} · therapist {meta.therapist_name or '–'} · "
                  f"session {meta.id}" + ("" if meta.ended else " · still running"), body),
        Spacer(1, 6),
    ]
    completion = "" if not math.isfinite(summary.completion) else f" ({summary.completion:.0%})"
    pairs = [
        ("Duration", rv.clock(summary.duration_s)), ("Sets", str(summary.sets)),
        ("Reps done/planned", f"{summary.reps}/{summary.planned_reps}{completion}"
                              f", {summary.manual_reps} entered by hand"),
        ("Time in sets", rv.clock(summary.time_in_sets_s)),
        ("Support (proximal → distal)",
         f"{summary.most_proximal_support or '–'} → {summary.most_distal_support or '–'}"),
        ("Ellipse area, median of sets", _fmt(summary.median_ellipse_area_cm2) + " cm²"),
        ("Mean velocity, median of sets", _fmt(summary.median_mean_velocity_cm_s) + " cm/s"),
        ("Trunk tilt RMS, median of sets", _fmt(summary.median_tilt_rms_deg, 1) + " °"),
        ("Data gaps", f"{summary.gaps} ({summary.gap_s:.1f} s)"),
        ("Annotations", str(summary.notes)),
    ]
    grid = TableStyle([("FONT", (0, 0), (-1, -1), regular, 9),
                       ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
                       ("VALIGN", (0, 0), (-1, -1), "TOP")])
    half = (len(pairs) + 1) // 2
    cells = [[*pairs[i], *(pairs[i + half] if i + half < len(pairs) else ("", ""))]
             for i in range(half)]
    story += [para("Summary", h2), Table(cells, colWidths=[5.5 * cm, 6.5 * cm] * 2,
                                                style=grid)]
    step(1, "timeline")
    rows_in = FIG_BASE_IN + FIG_ROW_IN * max(1, len(_timeline_rows(report)))
    story += [para("Timeline", h2),
              Image(_timeline_png(report), width=WIDTH_CM * cm,
                    height=WIDTH_CM * cm * rows_in / FIG_W_IN)]
    step(2, "sets")
    if report.metrics:
        story += [para("Sets", h2), Image(_sets_png(report.metrics), width=WIDTH_CM * cm,
                                          height=WIDTH_CM * cm * 2.6 / 10.5)]
        story.append(set_table(report.metrics, cell, head, regular))
    step(3, "annotations")
    story.append(para("Annotations", h2))
    if meta.notes:
        notes = [["Time", "Author", "Tag", "Text"]] + [
            [rv.clock(n.t), n.author_name, n.tag, para(n.text or "", body)] for n in meta.notes]
        story.append(Table(notes, repeatRows=1, colWidths=[2 * cm, 3 * cm, 3 * cm, 17.5 * cm],
                           style=grid))
    else:
        story.append(para("None.", body))

    def footer(canvas: object, doc: object) -> None:
        canvas.saveState()  # type: ignore[attr-defined]
        canvas.setFont(regular, 7)  # type: ignore[attr-defined]
        canvas.drawString(1.5 * cm, 0.8 * cm, f"DMI Live · session {meta.id} · generated "  # type: ignore[attr-defined]
                          f"{datetime.now().strftime('%Y-%m-%d %H:%M')} · page "
                          f"{canvas.getPageNumber()}")  # type: ignore[attr-defined]
        canvas.restoreState()  # type: ignore[attr-defined]

    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        doc = SimpleDocTemplate(str(partial), pagesize=landscape(A4), leftMargin=1.5 * cm,
                                rightMargin=1.5 * cm, topMargin=1.2 * cm, bottomMargin=1.4 * cm,
                                title=f"DMI session {meta.id}", author="DMI Live")
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    step(4, "done")
    return path
