"""Replay page callbacks. Each one first checks that the signed-in principal may see the
session named in the request (the id comes from the browser, so it may be forged); if
not, nothing is returned."""

from __future__ import annotations

from typing import Any

from dash import ALL, ClientsideFunction, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from dashboard import auth, exports, ids
from dashboard import cache as replay_cache
from dashboard.callbacks.registry import callback, clientside_callback
from dashboard.figures_replay import stabilogram_figure, timeline_figure
from dashboard.layouts.replay import in_view_caption, row_classes
from review import replay_data as rd
from review import replay_views as rv


def _meta(session_id: Any) -> rd.SessionMeta:
    meta = replay_cache.allowed_meta(auth.current(), session_id)
    if meta is None:
        raise PreventUpdate
    return meta


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return float(value)


def view_outputs(meta: rd.SessionMeta, t0: float, t1: float, cursor: float | None
                 ) -> tuple[dict[str, Any], list[str], str, list[float]]:
    """Timeline figure, set-row classes, caption and view for ``[t0, t1]``."""
    view = replay_cache.timeline_view(meta, t0, t1)
    figure = timeline_figure(meta, view, x_range=(t0, t1), cursor=cursor,
                             holes=replay_cache.holes(meta))
    rows = rv.sets_in_view(meta.sets, t0, t1)
    return figure, row_classes(len(meta.sets), rows), in_view_caption(meta.sets, rows), [t0, t1]


@callback(
    Output(ids.REPLAY_TIMELINE, "figure"),
    Output({"type": ids.REPLAY_SET_TABLE, "index": ALL}, "className"),
    Output(ids.REPLAY_SET_CAPTION, "children"),
    Output(ids.REPLAY_VIEW, "data"),
    Input(ids.REPLAY_TIMELINE, "relayoutData"),
    Input({"type": ids.REPLAY_SET_TABLE, "index": ALL}, "n_clicks"),
    Input(ids.REPLAY_RESET, "n_clicks"),
    State(ids.REPLAY_SESSION, "data"),
    State(ids.REPLAY_CURSOR, "data"),
    prevent_initial_call=True,
)
def update_timeline(relayout: Any, _row_clicks: Any, _reset: Any, session_id: Any,
                    cursor: Any) -> tuple[Any, ...]:
    meta = _meta(session_id)
    trigger = ctx.triggered_id
    if isinstance(trigger, dict):  # a set row
        row = trigger.get("index")
        clicked = ctx.triggered[0]["value"]
        if not isinstance(row, int) or not 0 <= row < len(meta.sets) or not clicked:
            raise PreventUpdate
        window: tuple[float, float] | None = rv.set_range(meta.sets[row], meta.duration)
    elif trigger == ids.REPLAY_RESET:
        window = (0.0, meta.duration)
    else:
        window = rv.range_from_relayout(relayout if isinstance(relayout, dict) else None,
                                        meta.duration)
    if window is None:
        raise PreventUpdate
    return view_outputs(meta, *window, _number(cursor))


@callback(
    Output(ids.REPLAY_STABILOGRAM, "figure"),
    Output(ids.REPLAY_WINDOW, "data"),
    Output(ids.REPLAY_CURSOR_LABEL, "children"),
    Input(ids.REPLAY_CURSOR, "data"),
    Input(ids.REPLAY_PLAY_FETCH, "data"),
    State(ids.REPLAY_SESSION, "data"),
    prevent_initial_call=True,
)
def update_stabilogram(cursor: Any, fetch: Any, session_id: Any) -> tuple[Any, ...]:
    meta = _meta(session_id)
    board = replay_cache.device_signals(meta, meta.board)
    playing = ctx.triggered_id == ids.REPLAY_PLAY_FETCH
    at = _number(fetch if playing else cursor)
    if board is None or at is None:
        raise PreventUpdate
    at = min(max(at, 0.0), meta.duration)
    chunk = rv.playback_chunk(board, at, meta.duration)
    if playing:
        return no_update, chunk, no_update
    figure = stabilogram_figure(chunk, at=at, frame=rv.cop_frame(board))
    return figure, chunk, f"Cursor at {rv.clock(at)}"


# A new export takes the previous file's Download link away at once, in the browser,
# before the server has even answered: nobody downloads the old file thinking it new.
clientside_callback(
    "function () { return [true, '', '0']; }",
    Output(ids.REPLAY_EXPORT_LINK, "hidden", allow_duplicate=True),
    Output(ids.REPLAY_EXPORT_LINK, "href", allow_duplicate=True),
    Output(ids.REPLAY_EXPORT_PROGRESS, "value", allow_duplicate=True),
    Input(ids.REPLAY_EXPORT_CSV, "n_clicks"),
    Input(ids.REPLAY_EXPORT_PARQUET, "n_clicks"),
    Input(ids.REPLAY_EXPORT_PDF, "n_clicks"),
    prevent_initial_call=True,
)


@callback(
    Output(ids.REPLAY_EXPORT_JOB, "data"),
    Output(ids.REPLAY_EXPORT_POLL, "disabled"),
    Output(ids.REPLAY_EXPORT_STATUS, "children", allow_duplicate=True),
    Output(ids.REPLAY_EXPORT_LINK, "hidden", allow_duplicate=True),
    Input(ids.REPLAY_EXPORT_CSV, "n_clicks"),
    Input(ids.REPLAY_EXPORT_PARQUET, "n_clicks"),
    Input(ids.REPLAY_EXPORT_PDF, "n_clicks"),
    State(ids.REPLAY_SESSION, "data"),
    prevent_initial_call=True,
)
def start_export(_csv: Any, _parquet: Any, _pdf: Any, session_id: Any) -> tuple[Any, ...]:
    meta = _meta(session_id)
    fmt = {ids.REPLAY_EXPORT_CSV: "csv", ids.REPLAY_EXPORT_PARQUET: "parquet",
           ids.REPLAY_EXPORT_PDF: "pdf"}.get(str(ctx.triggered_id))
    principal = auth.current()
    if fmt is None or principal is None:
        raise PreventUpdate
    job = exports.start_export(meta, fmt, principal.name)
    return job, False, f"Preparing the {fmt.upper()} export…", True


@callback(
    Output(ids.REPLAY_EXPORT_PROGRESS, "value"),
    Output(ids.REPLAY_EXPORT_PROGRESS, "hidden"),
    Output(ids.REPLAY_EXPORT_STATUS, "children"),
    Output(ids.REPLAY_EXPORT_LINK, "href"),
    Output(ids.REPLAY_EXPORT_LINK, "hidden"),
    Output(ids.REPLAY_EXPORT_POLL, "disabled", allow_duplicate=True),
    Input(ids.REPLAY_EXPORT_POLL, "n_intervals"),
    State(ids.REPLAY_EXPORT_JOB, "data"),
    prevent_initial_call=True,
)
def poll_export(_tick: Any, job: Any) -> tuple[Any, ...]:
    status = exports.export_status(job, auth.current())
    if status is None:
        return "0", True, "", "", True, True
    percent = round(100 * status["done"] / max(status["total"], 1))
    if status["state"] == "failed":
        return "0", True, f"Export failed: {status['error']}", "", True, True
    if status["state"] == "done":
        return "100", False, f"Ready: {status['name']}", f"/exports/{job}", False, True
    return str(percent), False, f"Exporting {status['what']}… {percent} %", "", True, False


clientside_callback(
    ClientsideFunction(namespace="dmiReplay", function_name="cursorFromClick"),
    Output(ids.REPLAY_CURSOR, "data"),
    Input(ids.REPLAY_TIMELINE, "clickData"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="dmiReplay", function_name="togglePlay"),
    Output(ids.REPLAY_PLAY_STATE, "data"),
    Output(ids.REPLAY_PLAY, "children"),
    Input(ids.REPLAY_PLAY, "n_clicks"),
    Input(ids.REPLAY_SPEED, "value"),
    State(ids.REPLAY_CURSOR, "data"),
    State(ids.REPLAY_VIEW, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="dmiReplay", function_name="adoptWindow"),
    Output(ids.REPLAY_PLAY_STATE, "data", allow_duplicate=True),
    Input(ids.REPLAY_WINDOW, "data"),
    Input(ids.REPLAY_CURSOR, "data"),
    prevent_initial_call=True,
)
