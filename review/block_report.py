"""The block report (PDF) for the family and the referring physician: the plan and what
was done, per exercise the support point and the carry-over, goals with their GAS levels,
outcome scores and the sessions. reportlab for the pages, matplotlib (Agg) for the chart;
typed text goes through :func:`review.report_pdf.paragraph_text`.
"""

from __future__ import annotations

import io
from datetime import datetime

from contract.vocab import SUPPORT_POINTS
from review.block import BlockProgress
from review.block_words import headline, sentences
from review.carryover import MEASURE_NAMES
from review.report_pdf import _fonts, _png, paragraph_text


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _support_png(progress: BlockProgress) -> io.BytesIO | None:
    from matplotlib.figure import Figure

    lines = [e for e in progress.exercises if e.support_days]
    if not lines:
        return None
    fig = Figure(figsize=(10.5, 3.0), dpi=130)
    ax = fig.subplots()
    for e in lines:
        days = [d for d, _ in e.support_days]
        ax.plot(days, [SUPPORT_POINTS.index(s) for _, s in e.support_days],  # type: ignore[arg-type]
                marker="o",
                ms=3, lw=1.2, label=e.name)
    ax.set_yticks(range(len(SUPPORT_POINTS)), SUPPORT_POINTS, fontsize=7)
    ax.set_ylim(-0.3, len(SUPPORT_POINTS) - 0.7)
    ax.set_title("Most distal support point of the day (higher = less support)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    return _png(fig)


def block_report_pdf(progress: BlockProgress) -> bytes:
    """The report as PDF bytes (A4 landscape)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = _fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12)
    h1 = ParagraphStyle("h1", fontName=bold, fontSize=16, leading=20, spaceAfter=4)
    h2 = ParagraphStyle("h2", fontName=bold, fontSize=12, leading=15, spaceBefore=8,
                        spaceAfter=4)

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(paragraph_text(text), style)

    grid = TableStyle([("FONT", (0, 0), (-1, -1), regular, 8),
                       ("FONT", (0, 0), (-1, 0), bold, 8),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                       ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
                       ("VALIGN", (0, 0), (-1, -1), "TOP")])
    plan, dose = progress.plan, progress.dose
    name = progress.name or progress.child
    story: list[object] = [para(f"Intensive block report — {name}", h1)]
    if plan is not None:
        story.append(para(f"{plan.start:%d %B %Y} – {plan.end:%d %B %Y} · "
                          f"{plan.sessions_per_day} sessions a day of {plan.session_minutes} "
                          f"min · planned by {plan.created_by}"))
    story += [para(headline(progress)), Spacer(1, 4)]
    story += [para(s) for s in sentences(progress)]
    missed = ", ".join(f"{d:%a %d %b}" for d in dose.missed_days) or "none"
    story += [para("Dose", h2), para(
        f"Sessions held {dose.sessions_held}" +
        (f" of {dose.sessions_planned} planned so far; {dose.sessions_missed} missed "
         f"(days with none: {missed}); {len(dose.shortened)} shortened" if plan else "") +
        f". Time in sets: {dose.total.active_min:.0f} min. Reps {dose.total.reps_done} of "
        f"{dose.total.reps_planned} planned.")]
    rows = [["Exercise", "Sessions", "Sets done/planned", "Reps done/planned", "Active min",
             "Support first → latest (aim)", "Measure first → latest", "Carry-over next "
             "session / next day"]]
    for e in progress.exercises:
        rows.append([
            para(e.name), str(e.sessions), f"{e.dose.sets_done}/{e.dose.sets_planned}",
            f"{e.dose.reps_done}/{e.dose.reps_planned}", f"{e.dose.active_min:.0f}",
            f"{e.support_first or '–'} → {e.support_latest or '–'}"
            + (f" ({e.support_target})" if e.support_target else ""),
            para(f"{MEASURE_NAMES[e.measure]}: {_num(e.first, 1)} → {_num(e.latest, 1)}"),
            f"{_num(e.carry_over)} / {_num(e.carry_over_next_day)}"
            + (" *" if e.crosses_surface else "")])
    story += [para("Per exercise", h2), Table(rows, repeatRows=1, style=grid,
                                              colWidths=[5.5 * cm] + [None] * 7),
              para("Carry-over: how much of a session's gain (first set → last set) is still "
                   "there at the first set of the next session / next day; 1 = all kept, "
                   "0 = back to the start. * compares across surfaces.")]
    chart = _support_png(progress)
    if chart is not None:
        story += [para("Support over the block", h2),
                  Image(chart, width=25 * cm, height=25 * cm * 3.0 / 10.5)]
    if plan is not None and plan.goals:
        goals = [["Goal", "GAS start", "GAS middle", "GAS end"]] + [
            [para(g.text), *("–" if v is None else f"{v:+d}"
                             for v in (g.gas_start, g.gas_middle, g.gas_end))]
            for g in plan.goals]
        story += [para("Goals (Goal Attainment Scaling, −2 … +2)", h2),
                  Table(goals, repeatRows=1, style=grid, colWidths=[14 * cm] + [3 * cm] * 3)]
    if plan is not None and plan.outcomes:
        scores = [["Measure", "Score", "Date"]] + [
            [o.measure, f"{o.score:g}", f"{o.taken:%d %b %Y}"] for o in plan.outcomes]
        story += [para("Outcome scores", h2), Table(scores, style=grid)]
    sessions = [["Session", "Sets", "Reps done/planned", "Active min", "Length min", ""]] + [
        [f"{datetime.fromtimestamp(s.started):%a %d %b %H:%M}", str(sd.total.sets_done),
         f"{sd.total.reps_done}/{sd.total.reps_planned}", f"{sd.total.active_min:.0f}",
         f"{sd.minutes:.0f}", "shortened" if sd.shortened else ""]
        for s, sd in zip(progress.sessions, dose.sessions, strict=False)]
    story += [para("Sessions", h2), Table(sessions, repeatRows=1, style=grid)]

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=1.5 * cm,
                            rightMargin=1.5 * cm, topMargin=1.2 * cm, bottomMargin=1.4 * cm,
                            title=f"DMI block report {progress.child}", author="DMI Live")
    doc.build(story)
    return buffer.getvalue()
