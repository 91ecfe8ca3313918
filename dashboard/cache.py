"""flask-caching for the replay, sessions and progress pages.

``init_cache(server, settings)`` picks the backend: Redis when ``settings.cache_url`` is
a ``redis://`` URL (shared by every worker process; what a clinic runs), else an
in-process SimpleCache. The loaders below are memoized on plain ids, version strings and
quantised ranges — never on DataFrames or arrays (flask-caching keys on ``repr``).

A session's ``version`` (:attr:`review.replay_data.SessionMeta.version`) is its end
time once it has ended, so its signals are cached for good; a running session's version
changes every 30 s, so the replay of a live session lags it by at most that.

What is loaded for the page: the board and the tilt IMU at full resolution (the per-set
metrics, the stabilogram and the tilt filter need every sample); the other IMUs as an
:class:`~review.replay_data.ImuOverview` (summed up per 0.1 s by the database), which
views draw from. :func:`warm` starts it all at once, the overviews in a worker thread.
Exports still take every device at full resolution (:func:`all_signals`).

The store comes from ``flask.current_app.extensions["dmi"]["store"]``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import flask
from flask_caching import Cache

from access import may_review
from review import replay_data as rd
from review import replay_views as rv
from review.metrics import SetMetrics, set_metrics
from store.errors import StoreError

log = logging.getLogger(__name__)

cache = Cache()

META_TIMEOUT_S = 30
SIGNALS_TIMEOUT_S = 6 * 3600
VIEW_TIMEOUT_S = 3600
SIMPLE_THRESHOLD = 96
"""Entries the in-process cache keeps; a 45-min session's signals are about 20 MB."""


def init_cache(server: flask.Flask, settings: Any) -> Cache:
    """Attach the cache to ``server`` (idempotent)."""
    if cache in server.extensions.get("cache", {}):
        return cache
    url = getattr(settings, "cache_url", "simple")
    config: dict[str, Any] = {"CACHE_DEFAULT_TIMEOUT": VIEW_TIMEOUT_S}
    if url.startswith(("redis://", "rediss://")):
        config.update(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=url,
                      CACHE_KEY_PREFIX=f"dmi-{getattr(settings, 'site', 'demo')}:")
    else:
        config.update(CACHE_TYPE="SimpleCache", CACHE_THRESHOLD=SIMPLE_THRESHOLD)
    cache.init_app(server, config=config)
    log.info("replay cache: %s", config["CACHE_TYPE"])
    return cache


def ensure_cache() -> None:
    """Initialise the cache for the current app if ``create_app`` did not."""
    app = flask.current_app
    if cache not in app.extensions.get("cache", {}):
        init_cache(app._get_current_object(), app.extensions.get("dmi", {}).get("settings"))  # type: ignore[attr-defined]


def _store() -> Any:
    return flask.current_app.extensions["dmi"]["store"]


@cache.memoize(timeout=META_TIMEOUT_S)
def _meta(session_id: str) -> rd.SessionMeta | None:
    try:
        return rd.load_meta(_store(), session_id)
    except StoreError:
        return None


def session_meta(session_id: Any) -> rd.SessionMeta | None:
    """The session, or None when there is no such session (or the id is not text)."""
    if not isinstance(session_id, str) or not session_id or len(session_id) > 64:
        return None
    ensure_cache()
    return _meta(session_id)


def current_meta(row: Any) -> rd.SessionMeta | None:
    """The session of store row ``row``; a cached copy taken while it was still running is
    dropped once the row says it has ended (no 30 s of "still running" after the end)."""
    meta = session_meta(row.id)
    if meta is not None and not meta.ended and row.end is not None:
        cache.delete_memoized(_meta, row.id)
        meta = session_meta(row.id)
    return meta


def allowed_meta(principal: Any, session_id: Any) -> rd.SessionMeta | None:
    """The session if ``principal`` may see its child and room, else None."""
    meta = session_meta(session_id)
    if meta is None or not may_review(principal, meta.child, meta.room):
        return None
    return meta


@cache.memoize(timeout=SIGNALS_TIMEOUT_S)
def _device_signals(session_id: str, device: str, version: str) -> rd.DeviceSignals | None:
    meta = _meta(session_id)
    info = next((d for d in meta.devices if d.device == device), None) if meta else None
    if meta is None or info is None:
        return None
    return rd.load_signals(_store(), meta, info)


def device_signals(meta: rd.SessionMeta, device: rd.DeviceInfo | None) -> rd.DeviceSignals | None:
    """One device's signals; within a request each is fetched (unpickled) from the cache
    once, however many parts of the page need it."""
    if device is None:
        return None
    ensure_cache()
    key = (meta.id, device.device, meta.version)
    local: dict[tuple[str, str, str], rd.DeviceSignals | None] = flask.g.setdefault(
        "dmi_replay_signals", {})
    if key not in local:
        local[key] = _device_signals(*key)
    return local[key]


def _in_order(meta: rd.SessionMeta) -> list[rd.DeviceInfo]:
    """Board first, then the tilt IMU, then the other IMUs (the timeline's row order)."""
    return sorted(meta.devices, key=lambda d: (d.kind != "board", d != meta.tilt_imu, d.device))


def _in_app(app: Any, task: Callable[..., Any], *args: Any) -> Any:
    """``task(*args)`` in an app context of its own (for a worker thread)."""
    with app.app_context():
        return task(*args)


def _app() -> Any:
    return flask.current_app._get_current_object()  # type: ignore[attr-defined]


def all_signals(meta: rd.SessionMeta) -> list[rd.DeviceSignals]:
    """Every device at full resolution, in timeline order (exports). On PostgreSQL the
    devices not loaded yet load in parallel threads (a read waits on the server, GIL free,
    while another device's signals are derived); SQLite reads hold the GIL, so one at a
    time."""
    ensure_cache()
    order = _in_order(meta)
    _load(meta, order, parallel=_store().dialect != "sqlite")
    found = (device_signals(meta, d) for d in order)
    return [s for s in found if s is not None]


def _load(meta: rd.SessionMeta, devices: Sequence[rd.DeviceInfo], *, parallel: bool) -> None:
    """Full-resolution signals of ``devices`` into this request (in worker threads if
    ``parallel``, else in this one)."""
    local = flask.g.setdefault("dmi_replay_signals", {})
    wanted = [d for d in devices if (meta.id, d.device, meta.version) not in local]
    if not parallel or len(wanted) < 2:
        for device in wanted:
            device_signals(meta, device)
        return
    app = _app()
    with ThreadPoolExecutor(max_workers=min(4, len(wanted)),
                            thread_name_prefix="replay-load") as pool:
        keys = [(meta.id, d.device, meta.version) for d in wanted]
        for key, signals in zip(keys, pool.map(lambda k: _in_app(app, _device_signals, *k), keys),
                                strict=True):
            local[key] = signals


def warm(meta: rd.SessionMeta) -> None:
    """Start loading everything the replay page of ``meta`` shows (or find it cached).

    On PostgreSQL the other IMUs' overviews load in worker threads — the server sums them
    up while this thread reads the board and the tilt IMU (in parallel too) and runs the
    tilt filter; they are collected when first needed (:func:`imu_overview`). On SQLite
    everything loads in this thread, one part after the other: the reads and the
    decoding hold the GIL, and a worker thread beside this one made the cold open slower
    (0.83 s against 0.69 s, ``bench/replay.py``), not faster."""
    ensure_cache()
    light = meta.display_only
    done = flask.g.setdefault("dmi_replay_overviews", {})
    keys = [(meta.id, d.device, meta.version) for d in light]
    keys = [k for k in keys if k not in done]
    sqlite = _store().dialect == "sqlite"
    if keys and not sqlite:
        pool = ThreadPoolExecutor(max_workers=len(keys), thread_name_prefix="replay-warm")
        app, pending = _app(), flask.g.setdefault("dmi_replay_pending", {})
        for key in keys:
            pending[key] = pool.submit(_in_app, app, _overview, *key)
        pool.shutdown(wait=False)
    _load(meta, [d for d in _in_order(meta) if d not in light], parallel=not sqlite)


@cache.memoize(timeout=SIGNALS_TIMEOUT_S)
def _overview(session_id: str, device: str, version: str) -> rv.ImuOverview | None:
    meta = _meta(session_id)
    info = next((d for d in meta.devices if d.device == device), None) if meta else None
    if meta is None or info is None:
        return None
    return rv.imu_overview(_store(), meta, info)


def imu_overview(meta: rd.SessionMeta, device: rd.DeviceInfo) -> rv.ImuOverview | None:
    """A display-only IMU's overview; within a request fetched from the cache once."""
    key = (meta.id, device.device, meta.version)
    local = flask.g.setdefault("dmi_replay_overviews", {})
    if key not in local:
        pending = flask.g.get("dmi_replay_pending", {}).pop(key, None)
        local[key] = pending.result() if pending is not None else _overview(*key)
    return local[key]


@cache.memoize(timeout=SIGNALS_TIMEOUT_S)
def _holes(session_id: str, version: str) -> list[tuple[float, float, str]]:
    meta = _meta(session_id)
    if meta is None:
        return []
    out = []
    for device in _in_order(meta):
        if device in meta.display_only:
            found: Any = imu_overview(meta, device)
        else:
            found = device_signals(meta, device)
        out += [(a, b, f"{device.device}: no data") for a, b in (found.holes if found else ())]
        first, last = _first_last(found)
        if first is not None:  # a device without any sample here is not drawn at all
            out += rv.edge_holes(device.device, first, last, meta.duration, ended=meta.ended)
    return out


def _first_last(found: Any) -> tuple[float | None, float | None]:
    """First and last sample time of a device's signals or overview (None: no samples)."""
    if found is None:
        return None, None
    if isinstance(found, rv.ImuOverview):
        if not found.t_first.size:
            return None, None
        return float(found.t_first[0]), float(found.t_last[-1])
    if not found.t.size:
        return None, None
    return float(found.t[0]), float(found.t[-1])


def holes(meta: rd.SessionMeta) -> list[tuple[float, float, str]]:
    """Missing data found in the samples of every device of the session."""
    return _holes(meta.id, meta.version)


@cache.memoize(timeout=SIGNALS_TIMEOUT_S)
def _metrics(session_id: str, version: str) -> list[SetMetrics]:
    meta = _meta(session_id)
    if meta is None:
        return []
    return set_metrics(meta, device_signals(meta, meta.board), device_signals(meta, meta.tilt_imu))


def session_metrics(meta: rd.SessionMeta) -> list[SetMetrics]:
    return _metrics(meta.id, meta.version)


@cache.memoize(timeout=VIEW_TIMEOUT_S)
def _view(session_id: str, version: str, q0: float, q1: float, points: int) -> rv.TimelineView:
    meta = _meta(session_id)
    if meta is None:
        return rv.TimelineView(q0, q1, ())
    order = _in_order(meta)  # the display-only IMUs come last
    full = [device_signals(meta, d) for d in order if d not in meta.display_only]
    traces = list(rv.timeline_view([s for s in full if s], q0, q1, points=points).traces)
    for device in (d for d in order if d in meta.display_only):
        overview = imu_overview(meta, device)
        if overview is not None:
            traces.append(rv.omega_trace(_store(), meta, overview, q0, q1, points=points))
    return rv.TimelineView(q0, q1, tuple(traces))


def timeline_view(meta: rd.SessionMeta, t0: float, t1: float) -> rv.TimelineView:
    """Display-resolution traces for a view ``[t0, t1]`` (memoized on the quantised range)."""
    q0, q1, points = rv.data_window(t0, t1, meta.duration)
    return _view(meta.id, meta.version, q0, q1, points)


def child_history(principal: Any, child: str, *, limit: int = 20
                  ) -> list[tuple[rd.SessionMeta, list[SetMetrics]]]:
    """The child's latest ``limit`` sessions the principal may see, with per-set metrics."""
    ensure_cache()
    out = []
    for row in _store().sessions(child=child)[:limit]:
        meta = allowed_meta(principal, row.id)
        if meta is not None:
            out.append((meta, session_metrics(meta)))
    return out
