"""``GET /progress/<child>/block-report.pdf``: the child's block report, for staff who may
see the child (checked here, on the server; the link alone is not enough).

Wiring: ``init_block_routes(server)`` registers the route (idempotent).
"""

from __future__ import annotations

import re
from datetime import date

import flask
from werkzeug.exceptions import Forbidden, NotFound

from access import is_staff
from dashboard import auth

blueprint = flask.Blueprint("dmi_block", __name__)
_CHILD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def init_block_routes(server: flask.Flask) -> None:
    if "dmi_block" not in server.blueprints:
        server.register_blueprint(blueprint)


@blueprint.get("/progress/<child>/block-report.pdf")
def block_report(child: str) -> flask.Response:
    from review.block import load_block
    from review.block_report import block_report_pdf
    from store.errors import UnknownChild

    principal = auth.current()
    if not is_staff(principal) or principal is None or not principal.can_see_child(child):
        raise Forbidden("not allowed to see this child")
    if not _CHILD.match(child):
        raise NotFound()
    store = flask.current_app.extensions["dmi"]["store"]
    try:
        progress = load_block(store, child)
    except UnknownChild:
        raise NotFound() from None
    if progress.child != child:
        raise NotFound()
    store.audit(principal.name, "block report", child, "")
    response = flask.make_response(block_report_pdf(progress))
    response.headers["Content-Type"] = "application/pdf"
    name = f"block-report-{child}-{date.today():%Y%m%d}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
