"""The block view at the top of a child's progress page: plan against done per exercise,
carry-over, support over the days, goals and scores, and every session with a link to its
replay. Built from a :class:`review.block.BlockProgress`; no store access here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import dcc, html

from dashboard import ids
from dashboard.figures_block import carry_figure, support_figure
from review.block import BlockProgress, ExerciseProgress
from review.block_words import headline
from review.carryover import MEASURE_NAMES


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _carry(e: ExerciseProgress) -> Any:
    text = f"{_num(e.carry_over)} / {_num(e.carry_over_next_day)}"
    if e.crosses_surface:
        return html.Span([text, html.Span(" (across surfaces)", className="block-warn")])
    return text


def exercises_table(progress: BlockProgress) -> html.Table | html.P:
    if not progress.exercises:
        return html.P("Nothing planned or recorded in this block yet.")
    head = html.Thead(html.Tr([html.Th(h) for h in (
        "Exercise", "Sessions", "Sets done/planned", "Reps done/planned", "Active min",
        "Support first → latest (aim)", "Response", "Measure first → latest",
        "Carry-over next session / next day")]))
    rows = []
    for e in progress.exercises:
        quality = ", ".join(f"{k} {v}" for k, v in e.qualities.items()) or "–"
        rows.append(html.Tr(children=[
            html.Td(e.name), html.Td(str(e.sessions), className="num"),
            html.Td(f"{e.dose.sets_done}/{e.dose.sets_planned}", className="num"),
            html.Td(f"{e.dose.reps_done}/{e.dose.reps_planned}", className="num"),
            html.Td(f"{e.dose.active_min:.0f}", className="num"),
            html.Td(f"{e.support_first or '–'} → {e.support_latest or '–'}"
                    + (f" ({e.support_target})" if e.support_target else "")),
            html.Td(quality),
            html.Td(f"{MEASURE_NAMES[e.measure]}: {_num(e.first, 1)} → {_num(e.latest, 1)}"),
            html.Td(_carry(e), className="block-carry"),
        ]))
    return html.Table([head, html.Tbody(rows)], className="sessions-table block-table")


def domains_table(progress: BlockProgress) -> html.Table:
    head = html.Thead(html.Tr([html.Th(h) for h in (
        "Domain", "Sets done/planned", "Reps done/planned", "Active min")]))
    rows = [html.Tr([html.Td(name or "–"), html.Td(f"{d.sets_done}/{d.sets_planned}"),
                     html.Td(f"{d.reps_done}/{d.reps_planned}"),
                     html.Td(f"{d.active_min:.0f}")])
            for name, d in sorted(progress.dose.domains.items())]
    return html.Table([head, html.Tbody(rows)], className="sessions-table")


def goals_section(progress: BlockProgress) -> list[Any]:
    plan = progress.plan
    out: list[Any] = [html.H2("Goals and scores")]
    if plan is None or not (plan.goals or plan.outcomes):
        return [*out, html.P("No goals or scores entered yet.")]
    if plan.goals:
        head = html.Thead(html.Tr([html.Th(h) for h in ("Goal", "GAS start", "middle", "end")]))
        out.append(html.Table([head, html.Tbody([html.Tr([
            html.Td(g.text), *(html.Td("–" if v is None else f"{v:+d}", className="num")
                               for v in (g.gas_start, g.gas_middle, g.gas_end))])
            for g in plan.goals])], className="sessions-table", id=ids.BLOCK_GOALS))
    if plan.outcomes:
        out.append(html.Ul([html.Li(f"{o.measure}: {o.score:g} on {o.taken:%d %b %Y}")
                            for o in plan.outcomes]))
    return out


def sessions_table(progress: BlockProgress) -> html.Table | html.P:
    if not progress.sessions:
        return html.P("No sessions in this block yet.")
    head = html.Thead(html.Tr([html.Th(h) for h in (
        "Session", "Sets", "Reps done/planned", "Active min", "Length min", "")]))
    rows = []
    for s, sd in reversed(list(zip(progress.sessions, progress.dose.sessions, strict=False))):
        rows.append(html.Tr([
            html.Td(dcc.Link(f"{datetime.fromtimestamp(s.started):%a %d %b %H:%M}",
                             href=f"/replay/{s.id}", className="block-replay-link")),
            html.Td(str(sd.total.sets_done), className="num"),
            html.Td(f"{sd.total.reps_done}/{sd.total.reps_planned}", className="num"),
            html.Td(f"{sd.total.active_min:.0f}", className="num"),
            html.Td(f"{sd.minutes:.0f}", className="num"),
            html.Td("shortened" if sd.shortened else ""),
        ]))
    return html.Table([head, html.Tbody(rows)], className="sessions-table",
                      id=ids.BLOCK_SESSIONS)


def create_block_view(progress: BlockProgress, *, report_href: str,
                      plan_href: str) -> html.Section:
    dose = progress.dose
    facts = headline(progress)
    if progress.plan is not None:
        missed = ", ".join(f"{d:%a %d %b}" for d in dose.missed_days) or "none"
        facts += (f" Missed sessions: {dose.sessions_missed} (days with none: {missed}); "
                  f"shortened: {len(dose.shortened)}. Reps {dose.total.reps_done} of "
                  f"{dose.total.reps_planned} planned so far.")
        title = f"Block {progress.plan.start:%d %b} – {progress.plan.end:%d %b %Y}"
    else:
        title = "No block planned"
    return html.Section(className="replay-card block-view", id=ids.BLOCK_VIEW, children=[
        html.Div(className="page-header", children=[
            html.H2(title),
            html.Div([
                html.A("Block report (PDF)", href=report_href, id=ids.BLOCK_REPORT_LINK,
                       className="button", download=""),
                dcc.Link("Plan" if progress.plan is None else "Edit plan", href=plan_href,
                         id=ids.BLOCK_PLAN_LINK, className="button"),
            ]),
        ]),
        html.P(facts, id=ids.BLOCK_HEADLINE),
        html.H3("Plan against done, per exercise"),
        html.Div(exercises_table(progress), id=ids.BLOCK_EXERCISES),
        html.P("Carry-over: how much of a session's gain (first set → last set, same "
               "surface) is still there at the first set of the next session / the next day; "
               "1 = kept, 0 = back to the start.", className="replay-sub"),
        html.H3("Carry-over over the days"),
        html.P("Solid: a session's first set → last set; dotted: where the next session "
               "started. Flat dotted lines are gains kept.", className="replay-sub"),
        dcc.Graph(id=ids.BLOCK_CARRY_GRAPH, figure=carry_figure(progress),
                  config={"displaylogo": False, "responsive": True}),
        html.H3("Per domain"),
        domains_table(progress),
        html.H3("Support over the days"),
        html.P("Each day's most distal support point per exercise (up = less support); "
               "dotted: the plan's aim.", className="replay-sub"),
        dcc.Graph(id=ids.BLOCK_SUPPORT_GRAPH, figure=support_figure(progress),
                  config={"displaylogo": False, "responsive": True}),
        *goals_section(progress),
        html.H2("Sessions (click for the replay)"),
        sessions_table(progress),
    ])
