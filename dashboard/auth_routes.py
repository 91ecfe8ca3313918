"""Signing in and out, opening family and wall-screen links, and who asks on each request.

Every request first resolves its principal (:func:`register`'s ``before_request``) and
checks it against the store: a user's stored sign-in (:mod:`dashboard.signins`), a
family's or a wall's link. Whatever ended since the last request (signed out elsewhere,
a new password, a disabled account, a revoked or expired link) ends the session here.
Sign-in attempts go through the shared :class:`dashboard.throttle.SignInThrottle`;
failed ones, throttling and signing out are written to the audit log.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any
from urllib.parse import urlencode

import flask
from werkzeug.exceptions import Forbidden

from access import passwords
from dashboard import auth, family_links, kiosk_links, signins
from dashboard.layouts import login as login_view
from dashboard.throttle import SignInThrottle
from dashboard.web_guard import require_same_origin
from store import Store

log = logging.getLogger(__name__)


def _back_to_login(error: str, next_path: str, wait_s: float = 0.0, *,
                   username: str = "") -> Any:
    """Back to the sign-in form with the reason; the user name typed stays filled in (kept
    in the signed session cookie, never in the address)."""
    if username:
        flask.session["login_user"] = username[:64]
    query = {"error": error, "next": next_path}
    if wait_s > 0:
        query["wait"] = str(math.ceil(wait_s))
    return flask.redirect("/login?" + urlencode(query))


def _wait_arg(text: str | None) -> int:
    return int(text) if text and text.isdigit() and len(text) < 6 else 0


def _end_session(reason: str) -> None:
    flask.session.clear()
    flask.g.signed_out = reason


def _check_principal(store: Store, principal: auth.Principal, now: float) -> None:
    """End the session of ``principal`` if what let it in has ended."""
    if principal.kind == "family":
        link = store.family_link_by_hash(flask.session.get("link", ""))
        if link is None or not link.is_valid(now):
            _end_session("link-ended")
    elif principal.kind == "kiosk":
        room = next(iter(principal.rooms or ()), "")
        if not kiosk_links.still_valid(store, flask.session.get("kiosk"), room, now=now):
            _end_session("link-ended")
    elif principal.kind == "user":
        reason = signins.check(store, principal, now)
        if reason is not None:
            _end_session(reason)
    else:
        _end_session("signed-out")


def _open_kiosk_link(store: Store, secret_key: str, token: str) -> Any:
    link = kiosk_links.open_link(store, secret_key, token, now=time.time())
    if link is None:
        log.info("refused wall-screen link from %s", flask.request.remote_addr)
        raise Forbidden("this wall-screen link is not valid: it may have expired or been "
                        "revoked; ask the clinic's administrator for a new one")
    principal = auth.kiosk_principal(link.room)
    auth.sign_in(principal)
    flask.session["kiosk"] = link.id
    store.audit(principal.name, "open kiosk link", None, f"link {link.id}")
    return flask.redirect(flask.request.path)


def register(server: flask.Flask, store: Store, throttle: SignInThrottle) -> None:
    secret_key = str(server.secret_key)

    @server.before_request
    def _resolve_principal() -> Any:
        token = flask.request.args.get("k")
        if token is not None:
            return _open_kiosk_link(store, secret_key, token)
        principal = auth.current()
        if principal is not None:
            _check_principal(store, principal, time.time())
        return None

    @server.get("/login")
    def login_page() -> str:
        args = flask.request.args
        return login_view.static_page(login_view.create_login_layout(
            error=args.get("error", ""), next_path=auth.safe_next(args.get("next")),
            wait_s=_wait_arg(args.get("wait")),
            username=str(flask.session.get("login_user", ""))), title="Sign in · DMI Live")

    @server.post("/login")
    def login() -> Any:
        require_same_origin()
        form = flask.request.form
        username = form.get("username", "").strip()[:200]
        next_path = auth.safe_next(form.get("next"))
        address = flask.request.remote_addr or "unknown"
        wait = throttle.wait_s(username, address)
        if wait > 0:
            log.info("sign-in as %r from %s held back %.0f s", username, address, wait)
            return _back_to_login("locked", next_path, wait, username=username)
        user = store.get_user(username) if username else None
        password = form.get("password", "")
        ok = passwords.verify_password(password, user.password_hash if user
                                       else passwords.DUMMY_HASH)
        if not ok or user is None:
            failure = throttle.failed(username, address)
            log.info("failed sign-in as %r from %s", username, address)
            store.audit("anonymous", "failed sign-in", None, f"as {username!r} from {address}")
            if failure.wait_s > 0:
                store.audit("anonymous", "sign-in throttled", None,
                            f"as {username!r} from {address}: {failure.failures} failures "
                            f"in a row, next try in {math.ceil(failure.wait_s)} s")
            return _back_to_login("failed", next_path, username=username)
        if user.disabled:
            store.audit(user.username, "refused sign-in", None, f"disabled; from {address}")
            return flask.redirect("/login?" + urlencode({"error": "disabled"}))
        throttle.succeeded(username, address)
        flask.session.pop("login_user", None)
        if passwords.needs_rehash(user.password_hash):  # a hash of an older DMI Live
            store.set_password_hash(user.username, passwords.hash_password(password),
                                    sign_out=False)
        signins.start(store, user, address)
        store.audit(user.username, "sign-in", None, f"from {address}")
        return flask.redirect(next_path)

    @server.post("/logout")
    def logout() -> Any:
        require_same_origin()
        principal = auth.current()
        if principal is not None:
            if principal.kind == "user":
                signins.end(store)
            store.audit(principal.name, "sign-out")
        flask.session.clear()
        return flask.redirect("/login")

    @server.get("/family/link/<token>")
    def family_link(token: str) -> Any:
        """Open a family link: sign this browser in for the link's one child."""
        link = None
        if family_links.signature_ok(secret_key, token):
            link = store.family_link_by_hash(family_links.token_hash(token))
        if link is None or not link.is_valid(time.time()):
            log.info("refused family link from %s", flask.request.remote_addr)
            return flask.redirect("/family?ended=1")
        auth.sign_in(auth.Principal(kind="family", name=f"family-link-{link.id}", role="family",
                                    rooms=frozenset(), children=frozenset([link.child])))
        flask.session["link"] = link.token_hash
        store.audit(f"family-link-{link.id}", "open family link", link.child)
        return flask.redirect("/family")
