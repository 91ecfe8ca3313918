"""The block on the family page, in plain words and a picture: "Day 6 of 10 …",
"Sitting balance on ball: holds 40 s, up from 12 s at the start", and each day's
longest hold. Built from the child's own :class:`review.block.BlockProgress`; the route
passes only the child of the family link."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard import ids
from dashboard.figures_block import family_holds_figure
from review.block import BlockProgress
from review.block_words import headline, sentences


def create_family_block(progress: BlockProgress) -> list[Any]:
    if progress.plan is None and not progress.sessions:
        return []
    children: list[Any] = [html.H2("The intensive block"),
                           html.P(headline(progress), className="family-block-headline")]
    children.append(html.Ul([html.Li(s) for s in sentences(progress)],
                            className="family-block-lines"))
    figure = family_holds_figure(progress)
    if figure is not None:
        holds = ", ".join(e.name for e in progress.exercises if e.measure == "hold")
        children.append(html.P(f"Longest hold each day, in seconds ({holds}):",
                               className="family-label"))
        children.append(dcc.Graph(figure=figure, id=ids.FAMILY_BLOCK_HOLDS,
                                  config={"displayModeBar": False, "responsive": True}))
    return [html.Div(children, id=ids.FAMILY_BLOCK, className="family-block")]
