"""Small pages shared by every audience."""

from __future__ import annotations

from dash import html


def create_message_layout(title: str, text: str) -> html.Div:
    return html.Div(className="message-page", children=[html.H1(title), html.P(text)])


def create_not_allowed_layout() -> html.Div:
    return create_message_layout(
        "This screen needs a link from your clinic",
        "Open the wall-screen link your clinic gave you, or sign in.",
    )


def create_not_found_layout(path: str) -> html.Div:
    return create_message_layout("Page not found", f"There is no page at {path}.")
