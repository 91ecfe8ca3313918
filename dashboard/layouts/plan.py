"""The plan editor (``/plan/<child>``, staff who may see the child): a block's dates,
sessions per day and length, the catalog exercises planned for every session (sets ×
reps, the support point aimed for), goals in the child's own words with their GAS levels,
and outcome scores (GMFM-66, PBS) with their date. Built from a
:class:`dashboard.page_data.PlanPage`; the router checks access and reads it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from dash import dcc, html

from contract.vocab import GAS_LEVELS, GAS_STAGES, OUTCOME_MEASURES, SUPPORT_POINTS
from dashboard import ids

if TYPE_CHECKING:
    from dashboard.page_data import PlanPage
    from store.plans import BlockRow
    from store.rows import ExerciseRow


def _number(id_: Any, value: int, low: int, high: int, label: str) -> dcc.Input:
    return dcc.Input(id=id_, type="number", min=low, max=high, step=1, value=value,
                     className="plan-number", name=label)


def exercise_rows(catalog: Sequence[ExerciseRow], plan: BlockRow | None) -> html.Table:
    planned = {e.exercise: e for e in plan.exercises} if plan else {}
    catalog = sorted(catalog, key=lambda e: e.key not in planned)  # the planned ones first
    head = html.Thead(html.Tr([html.Th(h) for h in (
        "Plan", "Exercise", "Domain", "Sets", "Reps", "Support aimed for")]))
    rows = []
    for ex in catalog:
        item = planned.get(ex.key)
        rows.append(html.Tr([
            html.Td(dcc.Checklist(id=ids.plan_field("use", ex.key),
                                  options=[{"label": "", "value": "use"}],
                                  value=["use"] if item else [])),
            html.Td(ex.name), html.Td(ex.domain),
            html.Td(_number(ids.plan_field("sets", ex.key), item.sets if item else 2, 1, 20,
                            f"{ex.name} sets")),
            html.Td(_number(ids.plan_field("reps", ex.key), item.reps if item else
                            ex.default_reps, 1, 100, f"{ex.name} reps")),
            html.Td(dcc.Dropdown(id=ids.plan_field("support", ex.key), clearable=False,
                                 value=item.target_support if item else "none",
                                 options=list(SUPPORT_POINTS), className="plan-support")),
        ]))
    return html.Table([head, html.Tbody(rows)], className="sessions-table plan-table")


def gas_rows(plan: BlockRow | None) -> list[Any]:
    if plan is None or not plan.goals:
        return [html.P("Save goals first; then their GAS levels can be set here.")]
    options = [{"label": f"{v:+d}", "value": v} for v in GAS_LEVELS]
    head = html.Thead(html.Tr([html.Th(h) for h in ("Goal", "GAS start", "middle", "end")]))
    rows = [html.Tr([html.Td(g.text), *(html.Td(dcc.Dropdown(
        id=ids.plan_gas(stage, i), options=options, value=getattr(g, f"gas_{stage}"),
        placeholder="–", className="plan-gas")) for stage in GAS_STAGES)])
        for i, g in enumerate(plan.goals)]
    return [html.Table([head, html.Tbody(rows)], className="sessions-table")]


def create_plan_layout(page: PlanPage) -> html.Div:
    """The plan editor of ``page.child``: its current block, or a new one from ``today``."""
    row, latest, today = page.child, page.latest, page.today
    child = row.pseudonym
    # a block that has ended is not edited: the form starts the next one from its exercises
    plan = latest if latest is not None and latest.end >= today else None
    start = plan.start if plan else today
    end = plan.end if plan else start + timedelta(days=11)
    return html.Div(className="progress-page plan-page", children=[
        html.Header(className="page-header", children=[
            html.H1(f"Plan — {row.label}" + ("" if plan else " (a new block)")),
            dcc.Link("Back to progress", href=f"/progress/{child}", className="button"),
        ]),
        html.Section(className="replay-card", children=[
            html.H2("Block"),
            html.Div(className="plan-grid", children=[
                html.Label(["First day", dcc.DatePickerSingle(
                    id=ids.PLAN_START, date=start.isoformat(), display_format="YYYY-MM-DD")]),
                html.Label(["Last day", dcc.DatePickerSingle(
                    id=ids.PLAN_END, date=end.isoformat(), display_format="YYYY-MM-DD")]),
                html.Label(["Sessions a day", _number(
                    ids.PLAN_PER_DAY, plan.sessions_per_day if plan else 2, 1, 6,
                    "sessions a day")]),
                html.Label(["Minutes a session", _number(
                    ids.PLAN_MINUTES, plan.session_minutes if plan else 45, 5, 240,
                    "minutes a session")]),
            ]),
            html.H2("Exercises for every session"),
            html.Div(exercise_rows(page.exercises, plan or latest), id=ids.PLAN_EXERCISES),
            html.H2("Goals, in the child's own words (one a line)"),
            dcc.Textarea(id=ids.PLAN_GOALS, className="plan-goals",
                         value="\n".join(g.text for g in plan.goals) if plan else "",
                         placeholder="sits on the ball without help for 60 s"),
            html.H3("Goal Attainment Scaling (−2 … +2)"),
            *gas_rows(plan),
            html.Button("Save plan", id=ids.PLAN_SAVE, className="button primary"),
            html.P(id=ids.PLAN_FEEDBACK, className="plan-feedback", role="status"),
        ]),
        html.Section(className="replay-card", children=[
            html.H2("Outcome scores"),
            html.Ul([html.Li(f"{o.measure}: {o.score:g} on {o.taken:%d %b %Y}")
                     for o in (plan.outcomes if plan else ())]),
            html.Div(className="plan-grid", children=[
                html.Label(["Measure", dcc.Dropdown(id=ids.PLAN_OUTCOME_MEASURE,
                                                    options=list(OUTCOME_MEASURES),
                                                    value="GMFM-66", clearable=False)]),
                html.Label(["Score", dcc.Input(id=ids.PLAN_OUTCOME_SCORE, type="number")]),
                html.Label(["Taken on", dcc.DatePickerSingle(
                    id=ids.PLAN_OUTCOME_DATE, date=today.isoformat(),
                    display_format="YYYY-MM-DD")]),
            ]),
            html.Button("Add score", id=ids.PLAN_OUTCOME_ADD, className="button"),
            html.P(id=ids.PLAN_OUTCOME_FEEDBACK, role="status"),
        ]),
        dcc.Store(id=ids.PLAN_CHILD, data=child),
        dcc.Store(id=ids.PLAN_BLOCK_ID, data=plan.id if plan else None),
    ])
