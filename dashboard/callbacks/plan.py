"""Plan editor callbacks: save the plan, add an outcome score. Each checks on the server
that the signed-in principal is staff and may see the child, and that a block id it is
given belongs to that child (the store refuses another child's block)."""

from __future__ import annotations

from datetime import date
from typing import Any

import flask
from dash import ALL, Input, Output, State
from dash.exceptions import PreventUpdate

from access import is_staff
from contract.vocab import GAS_STAGES
from dashboard import auth, ids
from dashboard.callbacks.registry import callback
from store.errors import StoreError
from store.plans import Goal, PlannedExercise


def _store() -> Any:
    return flask.current_app.extensions["dmi"]["store"]


def _day(name: str, value: Any) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name}: give a date") from None


def _whole(name: str, value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: give a whole number")
    return value


def parse_plan(uses: list[Any], use_ids: list[dict[str, Any]], sets: list[Any],
               reps: list[Any], supports: list[Any]) -> list[PlannedExercise]:
    """The ticked exercises of the editor's table, in catalog order."""
    out = []
    for use, id_, n_sets, n_reps, support in zip(uses, use_ids, sets, reps, supports,
                                                 strict=True):
        if use and "use" in use:
            key = str(id_["exercise"])
            out.append(PlannedExercise(key, _whole(f"{key} sets", n_sets),
                                       _whole(f"{key} reps", n_reps), str(support)))
    return out


def parse_goals(text: Any, levels: dict[str, list[Any]]) -> list[Goal]:
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    goals = []
    for i, line in enumerate(lines):
        stage = {s: (levels[s][i] if i < len(levels[s]) else None) for s in GAS_STAGES}
        goals.append(Goal(line, stage["start"], stage["middle"], stage["end"]))
    return goals


@callback(
    Output(ids.PLAN_FEEDBACK, "children"),
    Output(ids.PLAN_BLOCK_ID, "data"),
    Input(ids.PLAN_SAVE, "n_clicks"),
    State(ids.PLAN_CHILD, "data"),
    State(ids.PLAN_BLOCK_ID, "data"),
    State(ids.PLAN_START, "date"),
    State(ids.PLAN_END, "date"),
    State(ids.PLAN_PER_DAY, "value"),
    State(ids.PLAN_MINUTES, "value"),
    State(ids.plan_field("use", ALL), "value"),
    State(ids.plan_field("use", ALL), "id"),
    State(ids.plan_field("sets", ALL), "value"),
    State(ids.plan_field("reps", ALL), "value"),
    State(ids.plan_field("support", ALL), "value"),
    State(ids.PLAN_GOALS, "value"),
    State(ids.plan_gas("start", ALL), "value"),
    State(ids.plan_gas("middle", ALL), "value"),
    State(ids.plan_gas("end", ALL), "value"),
    prevent_initial_call=True,
)
def save_plan(clicks: Any, child: Any, block_id: Any, start: Any, end: Any, per_day: Any,
              minutes: Any, uses: list[Any], use_ids: list[dict[str, Any]], sets: list[Any],
              reps: list[Any], supports: list[Any], goals: Any, gas_start: list[Any],
              gas_middle: list[Any], gas_end: list[Any]) -> tuple[str, Any]:
    principal = auth.current()
    if not clicks or not isinstance(child, str) or not is_staff(principal) or \
            principal is None or not principal.can_see_child(child):
        raise PreventUpdate
    if block_id is not None and not isinstance(block_id, int):
        raise PreventUpdate
    store = _store()
    try:
        plan = store.save_block(
            child, _day("first day", start), _day("last day", end),
            _whole("sessions a day", per_day), session_minutes=_whole("minutes", minutes),
            exercises=parse_plan(uses, use_ids, sets, reps, supports),
            goals=parse_goals(goals, {"start": gas_start, "middle": gas_middle,
                                      "end": gas_end}),
            created_by=principal.name, block_id=block_id)
    except (ValueError, StoreError) as exc:
        return f"Not saved: {exc}", block_id
    store.audit(principal.name, "save block plan", child, f"block {plan.id}")
    return (f"Saved: {plan.start:%d %b} – {plan.end:%d %b %Y}, {len(plan.exercises)} "
            f"exercises, {len(plan.goals)} goals.", plan.id)


@callback(
    Output(ids.PLAN_OUTCOME_FEEDBACK, "children"),
    Input(ids.PLAN_OUTCOME_ADD, "n_clicks"),
    State(ids.PLAN_CHILD, "data"),
    State(ids.PLAN_BLOCK_ID, "data"),
    State(ids.PLAN_OUTCOME_MEASURE, "value"),
    State(ids.PLAN_OUTCOME_SCORE, "value"),
    State(ids.PLAN_OUTCOME_DATE, "date"),
    prevent_initial_call=True,
)
def add_outcome(clicks: Any, child: Any, block_id: Any, measure: Any, score: Any,
                taken: Any) -> str:
    principal = auth.current()
    if not clicks or not isinstance(child, str) or not is_staff(principal) or \
            principal is None or not principal.can_see_child(child):
        raise PreventUpdate
    if not isinstance(block_id, int):
        return "Save the plan first."
    store = _store()
    if all(b.id != block_id for b in store.blocks(child)):
        raise PreventUpdate
    try:
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise ValueError("score: give a number")
        row = store.add_outcome(block_id, str(measure), score, _day("taken on", taken),
                                principal.name)
    except (ValueError, StoreError) as exc:
        return f"Not added: {exc}"
    store.audit(principal.name, "add outcome score", child, f"{row.measure} {row.score:g}")
    return f"Added {row.measure} {row.score:g} ({row.taken:%d %b %Y})."
