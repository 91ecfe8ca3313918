"""The page callbacks, kept here and given to each app through Dash's public API.

Callback modules decorate with :func:`callback` and call :func:`clientside_callback`
from this module instead of ``dash``'s: the same arguments, but the callback is only
recorded. :func:`attach` then registers every recorded callback on one app with
``app.callback`` / ``app.clientside_callback``. Dash's own global registry is emptied
into the first app that serves a request, so a second app in the same process (the
tests, an in-process restart) would have none; this way each app gets all of them
without touching Dash's private registry. Callback modules still never import the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dash


@dataclass(frozen=True)
class _Recorded:
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    func: Callable[..., Any] | None  # None: a clientside callback (args hold its JS)


_RECORDED: list[_Recorded] = []


def callback(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Like ``dash.callback``: record ``func`` with these arguments; return it unchanged."""

    def record(func: Callable[..., Any]) -> Callable[..., Any]:
        _RECORDED.append(_Recorded(args, kwargs, func))
        return func

    return record


def clientside_callback(*args: Any, **kwargs: Any) -> None:
    """Like ``dash.clientside_callback``: recorded, registered by :func:`attach`."""
    _RECORDED.append(_Recorded(args, kwargs, None))


def attach(app: dash.Dash) -> int:
    """Register every recorded callback on ``app``; returns how many."""
    for rec in _RECORDED:
        if rec.func is None:
            app.clientside_callback(*rec.args, **rec.kwargs)
        else:
            app.callback(*rec.args, **rec.kwargs)(rec.func)
    return len(_RECORDED)
