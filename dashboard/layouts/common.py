"""Small pages shared by every audience."""

from __future__ import annotations

from dash import html


def create_message_layout(title: str, text: str) -> html.Div:
    return html.Div(className="message-page", children=[html.H1(title), html.P(text)])


def create_not_allowed_layout() -> html.Div:
    return create_message_layout(
        "This screen needs a link from your clinic",
        "Open the link your clinic gave you, or sign in with your staff account.",
    )


def create_family_elsewhere_layout() -> html.Div:
    """A family link that opened a staff page: what it is for, and the way back."""
    return html.Div(className="message-page", children=[
        html.H1("This page is for the clinic's staff"),
        html.P("Your family link shows your child's own page, with today's session and "
               "how things are going."),
        html.A("Open your child's page", href="/family", className="button button-primary"),
    ])


def create_kiosk_elsewhere_layout(room: str | None) -> html.Div:
    """A wall screen's link that opened another page."""
    back = [html.A("Back to the wall screen", href=f"/wall/{room}",
                   className="button button-primary")] if room else []
    return html.Div(className="message-page", children=[
        html.H1("This screen is signed in as a wall screen"),
        html.P("It shows its room's wall only. To use other pages, sign in on a device "
               "of your own."),
        *back,
    ])


def create_not_found_layout(path: str) -> html.Div:
    return create_message_layout("Page not found", f"There is no page at {path}.")
